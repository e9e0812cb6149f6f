# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Shared connection options; the argument spec is
    # plugins/module_utils/_ansible_module.py connection_argument_spec().
    DOCUMENTATION = r'''
options:
  registry_url:
    description:
      - URL of the registry, for example V(https://registry.example.com) or V(http://127.0.0.1:5000).
      - A bare host name (V(registry.example.com:5000)) means HTTPS.
      - Must not contain credentials (V(https://user:password@host) is refused without echoing them); use
        O(username) and O(password), O(bearer_token) or O(auth_file).
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
      - Credentials go to a token service (the challenge's C(realm)) over HTTPS, or over plain HTTP only when
        the registry itself is plain HTTP on the same host name (any port). Otherwise they are withheld, an
        anonymous token is asked for, and a failure says that the credentials were withheld.
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
      - A file that does not exist fails the task even with O(validate_certs=false), so that a wrong path
        is found now and not when verification is turned back on.
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
      - Timeout in seconds for connecting to the registry and for each read, from V(1) to V(3600).
      - Also bounds each run of a credential helper (see O(auth_file)).
    type: int
    default: 60
  retries:
    description:
      - How many times to retry a request that failed with a connection error, a timeout, HTTP 429 or a
        5xx status, with exponential backoff (honouring C(Retry-After)), from V(0) to V(100).
      - V(0) disables retries.
      - A request waits at most 120 seconds in total for its retries; a C(Retry-After) longer than 60 seconds
        is not waited for. Then the task fails with the registry's answer.
    type: int
    default: 3
  max_requests_per_second:
    description:
      - Send at most this many requests per second to each registry host (token services included), from V(1)
        to V(10000), shared by all parallel transfers of the task. Not set means no cap.
      - For registries that throttle by request rate rather than by pulls.
    type: int
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

    # The same options for plugins (the oci.registry.digest lookup), where the environment
    # variables are read through the option's env entries and registry_url is optional.
    PLUGINS = r'''
options:
  registry_url:
    description:
      - URL of the registry that O(username), O(password) and O(bearer_token) belong to, for example
        V(https://registry.example.com) or V(http://127.0.0.1:5000). A bare host name means HTTPS.
      - Names without a registry host are looked up on this registry instead of Docker Hub, and names on
        this registry's host without a scheme use this registry's scheme.
      - Credentials, O(auth_type), O(validate_certs), O(ca_path), O(client_cert) and O(client_key) go only to
        this registry. Other registries are used with the credentials O(auth_file) has for them, or
        anonymously. Credentials that come from E(REGISTRY_USERNAME), E(REGISTRY_PASSWORD) and
        E(REGISTRY_TOKEN) belong to E(REGISTRY_URL) when that variable is set.
      - When not set, these options apply to every registry the plugin is asked about.
      - Must not contain credentials; use O(username) and O(password), O(bearer_token) or O(auth_file).
    type: str
    env:
      - name: REGISTRY_URL
  username:
    description:
      - User name for Basic authentication or for the token service of a Bearer token registry.
      - When neither O(username) nor O(bearer_token) is set, credentials for the registry host are
        looked up in O(auth_file).
    type: str
    env:
      - name: REGISTRY_USERNAME
  password:
    description:
      - Password or access token that goes with O(username). Never part of an error message.
    type: str
    env:
      - name: REGISTRY_PASSWORD
  bearer_token:
    description:
      - 'A ready-made Bearer token, sent as C(Authorization: Bearer <token>) without asking a token service.'
    type: str
    env:
      - name: REGISTRY_TOKEN
  auth_type:
    description:
      - How to authenticate.
      - V(auto) follows the registry's C(WWW-Authenticate) challenge (Basic, or the Bearer token flow);
        without credentials it asks the token service for an anonymous token.
      - Credentials go to a token service over HTTPS, or over plain HTTP only when the registry itself is
        plain HTTP on the same host name (any port); otherwise they are withheld and a failure says so.
      - V(basic) always sends Basic authentication, V(token) always uses the Bearer token flow.
      - V(anonymous) never sends credentials but still asks for anonymous tokens; V(none) sends no
        C(Authorization) header at all.
    type: str
    choices: [auto, basic, token, anonymous, none]
    default: auto
  auth_file:
    description:
      - Path of a Docker C(config.json) or containers C(auth.json) file to read credentials for a registry
        host from, when O(username) and O(bearer_token) do not apply to that registry.
      - If not set, the usual locations are tried (C($DOCKER_CONFIG/config.json), C(~/.docker/config.json),
        C($XDG_RUNTIME_DIR/containers/auth.json), C(~/.config/containers/auth.json)).
      - Credential helpers named in C(credHelpers) or C(credsStore) are run as
        C(docker-credential-<name> get), as Docker does; they must be on E(PATH).
    type: path
    env:
      - name: REGISTRY_AUTH_FILE
  validate_certs:
    description:
      - Whether to verify the registry's TLS certificate. Prefer O(ca_path) to turning this off.
    type: bool
    default: true
    env:
      - name: REGISTRY_VALIDATE_CERTS
  ca_path:
    description:
      - PEM file with the CA certificate(s) used to verify the registry (and token service) certificates,
        instead of the system trust store.
      - A file that does not exist is an error even with O(validate_certs=false).
    type: path
    env:
      - name: REGISTRY_CA_PATH
  client_cert:
    description:
      - PEM file with a client certificate for mutual TLS; set O(client_key) too if the key is in a separate file.
    type: path
  client_key:
    description:
      - PEM file with the unencrypted private key of O(client_cert).
    type: path
  timeout:
    description:
      - Timeout in seconds for connecting to the registry and for each read, from V(1) to V(3600).
      - Also bounds each run of a credential helper.
    type: int
    default: 60
  retries:
    description:
      - How many times to retry a request that failed with a connection error, a timeout, HTTP 429 or a 5xx
        status, with exponential backoff, from V(0) to V(100). V(0) disables retries.
    type: int
    default: 3
requirements:
  - requests >= 2.25 (where the plugin runs, the controller for lookups)
'''
