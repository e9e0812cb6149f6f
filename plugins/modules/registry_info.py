#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_info
short_description: Check a container registry's API, authentication scheme and rate limits
version_added: 0.1.0
description:
  - Sends C(GET /v2/) to a Docker Registry HTTP API v2 / OCI Distribution registry and reports the API
    version, the authentication scheme the registry asks for (Basic or Bearer token, with realm and
    service), whether the given credentials authenticate, and Docker Hub rate-limit headers when present.
  - Useful as a pre-flight check in a play, and to find out how a registry authenticates.
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_info
  - oci.registry.attributes.diff_mode_none
options: {}
notes:
  - Credentials that do not authenticate do not fail the task. A wrong password (the registry or its token
    service answered 401), or credentials withheld from a plain-HTTP token service on another host, give
    RV(authenticated=false) and RV(accessible=false), and RV(auth_error) says which it was.
  - Without credentials the task succeeds and RV(accessible) tells whether anonymous access was granted.
  - Connection failures (unreachable registry, TLS errors, a server that is not a registry) still fail the task.
seealso:
  - module: oci.registry.registry_catalog_info
  - module: oci.registry.registry_tag_info
'''

EXAMPLES = r'''
- name: Check that the registry answers and the credentials work
  oci.registry.registry_info:
    registry_url: https://registry.example.com
    username: ci
    password: "{{ registry_password }}"
  register: registry

- name: Stop early when the registry does not speak the v2 API
  ansible.builtin.assert:
    that:
      - registry.api_version == 'registry/2.0'
      - registry.authenticated
      - registry.accessible

- name: How does Docker Hub authenticate, and how many pulls are left?
  oci.registry.registry_info:
    registry_url: docker.io
  register: hub

- name: Show the remaining pulls
  ansible.builtin.debug:
    msg: "{{ hub.rate_limit.remaining | default('unknown') }} pulls left"
'''

RETURN = r'''
registry_url:
  description: The normalised registry URL the module talked to.
  returned: success
  type: str
  sample: https://registry.example.com
api_version:
  description: Value of the C(Docker-Distribution-API-Version) header, or V(null) when the registry sends none.
  returned: success
  type: str
  sample: registry/2.0
status:
  description: HTTP status of the C(GET /v2/) that decided the result (after authentication).
  returned: success
  type: int
  sample: 200
auth:
  description:
    - The authentication challenge of the registry (from C(WWW-Authenticate) on an unauthenticated C(GET /v2/)).
    - V(null) when the registry does not ask for authentication.
  returned: success
  type: dict
  sample:
    scheme: bearer
    realm: https://auth.example.com/token
    service: registry.example.com
  contains:
    scheme:
      description: V(basic) or V(bearer).
      type: str
      returned: success
      sample: bearer
    realm:
      description: Token service URL (Bearer) or realm name (Basic).
      type: str
      returned: success
      sample: https://auth.example.com/token
    service:
      description: Service name the token service expects (Bearer only).
      type: str
      returned: success
      sample: registry.example.com
authenticated:
  description:
    - Whether credentials (from the options, the environment or O(auth_file)) were sent and accepted.
    - V(false) when no credentials were used, also when the registry needs none; see RV(accessible).
  returned: success
  type: bool
  sample: true
accessible:
  description:
    - Whether C(GET /v2/) finally succeeded, with credentials, with an anonymous token, or without authentication.
  returned: success
  type: bool
  sample: true
auth_error:
  description:
    - Why the credentials did not authenticate, as one line (never containing a secret), for example a wrong
      password or credentials withheld from a plain-HTTP token service; V(null) when they did or none were used.
  returned: success
  type: str
  sample: >-
    get token failed for registry.example.com: token service at https://auth.example.com/token refused user ci
    - HTTP 401. Hint: check username and password (or the identity token) for this registry
rate_limit:
  description:
    - Docker Hub pull rate limit from the C(RateLimit-Limit), C(RateLimit-Remaining) and
      C(Docker-RateLimit-Source) headers; V(null) when the registry sends none.
  returned: success
  type: dict
  sample:
    limit: 100
    remaining: 76
    source: 203.0.113.7
  contains:
    limit:
      description: Pulls allowed per window (the number before C(;w=) in C(RateLimit-Limit)).
      type: int
      returned: when the registry sends the header
      sample: 100
    remaining:
      description: Pulls left in the current window (the number before C(;w=) in C(RateLimit-Remaining)).
      type: int
      returned: when the registry sends the header
      sample: 76
    source:
      description: Value of C(Docker-RateLimit-Source), the address or account the limit counts for.
      type: str
      returned: when the registry sends the header
      sample: 203.0.113.7
trace:
  description:
    - Requests sent to the registry (method, path, status, duration, bytes), without header values.
    - Only at verbosity 3 (C(-vvv)) and above.
  returned: when verbosity >= 3
  type: list
  elements: dict
  sample:
    - method: GET
      host: registry.example.com
      path: /v2/
      name: request
      attempt: 0
      status: 200
      duration_ms: 4.2
      bytes_sent: 0
      bytes_received: 2
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    connection_argument_spec,
    run_module,
)


def run(module):
    client = client_from_params(module)
    info = client.system.ping()
    result = dict(changed=False, registry_url=client.registry_url)
    for key in ('api_version', 'status', 'auth', 'authenticated', 'auth_error', 'rate_limit'):
        result[key] = info.get(key)
    result['accessible'] = info.get('status') == 200
    return result


def main():
    module = AnsibleModule(argument_spec=connection_argument_spec(), supports_check_mode=True)
    run_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
