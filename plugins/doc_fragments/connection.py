# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Shared connection options; the argument spec is
    # plugins/module_utils/ansible_module.py connection_argument_spec().
    DOCUMENTATION = r'''
options:
  registry_url:
    description:
      - URL of the registry, for example V(https://registry.example.com) or V(http://127.0.0.1:5000).
      - A bare host name (V(registry.example.com:5000)) means HTTPS.
      - V(docker.io) and V(index.docker.io) mean V(https://registry-1.docker.io).
      - A trailing V(/) or V(/v2) is ignored.
      - If not set, the value of the E(REGISTRY_URL) environment variable is used.
    type: str
    required: true
  username:
    description:
      - User name for Basic authentication or for the token service of a Bearer token registry.
      - If not set, the value of the E(REGISTRY_USERNAME) environment variable is used.
      - Credentials that come from the E(REGISTRY_USERNAME), E(REGISTRY_PASSWORD) and E(REGISTRY_TOKEN)
        environment variables are sent only to the registry in E(REGISTRY_URL) when that variable is set,
        so an injected credential never reaches another registry a task names.
      - When neither O(username) nor O(bearer_token) is set, credentials for the registry host are
        looked up in O(auth_file).
    type: str
  password:
    description:
      - Password or access token that goes with O(username).
      - If not set, the value of the E(REGISTRY_PASSWORD) environment variable is used.
      - Never logged and never part of a result or failure message.
    type: str
  bearer_token:
    description:
      - 'A ready-made Bearer token, sent as C(Authorization: Bearer <token>) without asking a token service.'
      - If not set, the value of the E(REGISTRY_TOKEN) environment variable is used.
    type: str
  auth_type:
    description:
      - How to authenticate.
      - V(auto) follows the registry's C(WWW-Authenticate) challenge, using Basic authentication or the
        Bearer token flow (POST with password grant, then GET) as the registry asks; without credentials
        it asks the token service for an anonymous token.
      - V(basic) always sends Basic authentication.
      - V(token) always uses the Bearer token flow.
      - V(anonymous) never sends credentials, but still asks the token service for anonymous tokens.
      - V(none) sends no C(Authorization) header at all.
    type: str
    choices: [auto, basic, token, anonymous, none]
    default: auto
  auth_file:
    description:
      - Path of a C(config.json) (Docker) or C(auth.json) (containers, podman, skopeo) file to read
        credentials for the registry host from, when O(username) and O(bearer_token) are not set.
      - If not set, the value of the E(REGISTRY_AUTH_FILE) environment variable is used; otherwise the
        usual locations are tried (C($DOCKER_CONFIG/config.json), C(~/.docker/config.json),
        C($XDG_RUNTIME_DIR/containers/auth.json), C(~/.config/containers/auth.json)).
      - Credential helpers named in C(credHelpers) or C(credsStore) are run as
        C(docker-credential-<name> get), as Docker does; they must be on E(PATH).
    type: path
  validate_certs:
    description:
      - Whether to verify the registry's TLS certificate.
      - Set to V(false) only for registries you trust on a network you trust; prefer O(ca_path).
      - If not set, the value of the E(REGISTRY_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) used to verify the registry (and token service) certificate,
        instead of the system trust store.
      - It takes precedence over the E(REQUESTS_CA_BUNDLE) environment variable.
      - If not set, the value of the E(REGISTRY_CA_PATH) environment variable is used.
    type: path
  client_cert:
    description:
      - PEM file with a client certificate for mutual TLS.
      - If the key is in a separate file, set O(client_key) too.
    type: path
  client_key:
    description:
      - PEM file with the unencrypted private key of O(client_cert).
    type: path
  timeout:
    description:
      - Timeout in seconds for connecting to the registry and for each read.
    type: int
    default: 60
  retries:
    description:
      - How many times to retry a request that failed with a connection error, a timeout, HTTP 429 or a
        5xx status, with exponential backoff (honouring C(Retry-After)).
      - V(0) disables retries.
    type: int
    default: 3
notes:
  - The modules talk to the registry over the Docker Registry HTTP API v2 / OCI Distribution API with
    the Python C(requests) library; no Docker daemon, podman or skopeo is needed on the target host.
requirements:
  - requests >= 2.25
seealso:
  - name: OCI Distribution Specification
    description: The HTTP API these modules use.
    link: https://github.com/opencontainers/distribution-spec/blob/main/spec.md
'''
