#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_catalog_info
short_description: List the repositories of a container registry
version_added: 0.1.0
description:
  - Lists repository names with the registry's catalog API (C(GET /v2/_catalog)), following every page
    unless O(limit) is set.
  - Many hosted registries (Docker Hub, GHCR, ECR, GAR, Quay) disable or restrict the catalog API; the module
    then fails with a message that says so.
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_info
  - oci.registry.attributes.diff_mode_none
options:
  page_size:
    description:
      - Number of repositories to ask for per request (the C(n) query parameter), from V(1) to V(100000).
      - When not set the registry chooses (distribution returns up to 100 and a C(Link) to the next page).
      - Pages are followed through the C(Link) header. A registry that sends none but answers a full page
        (exactly O(page_size) names) is asked for the names after the last one, until a page is short.
    type: int
  last:
    description:
      - Start after this repository name (the C(last) query parameter), for example RV(next_last) of a
        previous run.
    type: str
  limit:
    description:
      - Stop after this many repositories (counted after O(pattern) filtering) and return RV(next_last) to
        continue from.
      - By default every page is read.
    type: int
  pattern:
    description:
      - Python regular expression; only repository names it matches (C(re.search)) are returned.
      - Filtering happens on the client, every page is still read.
    type: str
seealso:
  - module: oci.registry.registry_tag_info
'''

EXAMPLES = r'''
- name: List every repository
  oci.registry.registry_catalog_info:
    registry_url: https://registry.example.com
    username: admin
    password: "{{ registry_password }}"
  register: catalog

- name: Only the team's repositories
  oci.registry.registry_catalog_info:
    registry_url: https://registry.example.com
    pattern: '^team/'
  register: team_repos

- name: Read the catalog 50 names at a time
  oci.registry.registry_catalog_info:
    registry_url: https://registry.example.com
    page_size: 50
    limit: 50
    last: "{{ previous.next_last | default(omit) }}"
  register: previous
'''

RETURN = r'''
repositories:
  description: Repository names, in the registry's order (lexical for distribution).
  returned: success
  type: list
  elements: str
  sample: [team/app, team/worker]
next_last:
  description:
    - When O(limit) stopped the listing early, the name to pass as O(last) to continue; V(null) when
      every repository was read.
  returned: success
  type: str
  sample: team/app
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
      path: /v2/_catalog?n=100
      name: request
      attempt: 0
      status: 200
      duration_ms: 4.2
      bytes_sent: 0
      bytes_received: 58
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    compile_pattern,
    connection_argument_spec,
    fail,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._options import check_number
from ansible_collections.oci.registry.plugins.module_utils._service import collect_names
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    NotFoundError,
    UnsupportedError,
)

# Hosted registries without a catalog answer 404 or 405; both mean the same to the user,
# and the client's generic not-found hint (check the repository name) would mislead.
NO_CATALOG = ('Cannot list repositories of %s: the registry has no catalog API (GET /v2/_catalog answered HTTP %s); '
              'many hosted registries disable it, list repositories with the provider\'s own API instead')


def run(module):
    params = module.params
    page_size = check_number('page_size', params['page_size'])
    if params['limit'] is not None and params['limit'] < 0:
        fail(module, 'limit must not be negative, got %d' % params['limit'])
    regex = compile_pattern(module, params['pattern'])
    client = client_from_params(module)
    try:
        repositories, next_last = collect_names(
            client.catalog.iter_catalog(page_size=page_size, last=params['last']),
            params['last'], params['limit'], regex)
    except (NotFoundError, UnsupportedError) as err:
        fail(module, NO_CATALOG % (client.registry_url, err.status), status=err.status, code=err.code)
    return dict(changed=False, repositories=repositories, next_last=next_last)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        page_size=dict(type='int'),
        last=dict(type='str', no_log=False),
        limit=dict(type='int'),
        pattern=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
