# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: digest
short_description: Resolve container image references to manifest digests
version_added: 0.1.0
description:
  - Asks the registry for the digest of the manifest an image reference (a tag or a digest) points to,
    over the Docker Registry HTTP API v2 / OCI Distribution API. No container engine is needed.
  - Use it to pin a tag to a digest at the time a play runs, so that every host deploys the same image
    even if the tag moves meanwhile.
  - Without O(platform) the result is the digest of what the tag points to, which for a multi-platform
    image is the digest of the image index (manifest list).
  - With O(platform) the result is the digest of that platform's image manifest inside the index. For a
    single-platform image the image's own platform (from its configuration) must match, so a lookup never
    silently returns an image for another architecture.
  - Like all lookups, this runs on the controller.
author:
  - oci.registry contributors (@oci-registry)
options:
  _terms:
    description:
      - Image references, for example V(registry.example.com/team/app:1.2) or V(nginx:1.27).
      - The first path component is a registry host only if it contains a V(.) or a V(:), or is V(localhost).
        Other names are Docker Hub names (V(nginx) means V(registry-1.docker.io/library/nginx)),
        or names on O(registry_url) when that is set.
      - A reference without tag or digest means the V(latest) tag.
      - A reference with a digest (V(...@sha256:...)) checks that the manifest exists and returns its digest
        (or the digest of its O(platform) manifest).
      - An V(http://) prefix selects plain HTTP for that registry; without one, HTTPS is used, unless the
        registry host is the one of O(registry_url), whose scheme is then used.
    type: list
    elements: string
    required: true
  platform:
    description:
      - Platform to resolve a multi-platform image to, as V(os/architecture) or V(os/architecture/variant),
        for example V(linux/arm64) or V(linux/arm/v7).
      - Without a variant any variant matches; V(linux/arm64) matches V(linux/arm64/v8).
      - The lookup fails if the image has no manifest for this platform; the message lists the platforms it has.
      - An empty string is the same as not setting this option.
    type: string
  registry_url:
    description:
      - URL of the registry that O(username), O(password) and O(bearer_token) belong to, for example
        V(https://registry.example.com) or V(http://127.0.0.1:5000).
      - References without a registry host are looked up on this registry instead of Docker Hub.
      - Credentials are only sent to this registry. References naming another registry are looked up
        with the credentials O(auth_file) has for that registry, or anonymously. This keeps a password
        injected through E(REGISTRY_PASSWORD) (for example by an AWX credential) from going to whatever
        registry a reference happens to name.
      - When not set, O(username), O(password) and O(bearer_token) are sent to the registry of each reference.
    type: string
    env:
      - name: REGISTRY_URL
  username:
    description:
      - User name for Basic authentication or for the registry's token service.
      - When neither O(username) nor O(bearer_token) is set, credentials are looked up in O(auth_file).
    type: string
    env:
      - name: REGISTRY_USERNAME
  password:
    description:
      - Password or access token that goes with O(username). Never part of an error message.
    type: string
    env:
      - name: REGISTRY_PASSWORD
  bearer_token:
    description:
      - A ready-made Bearer token, sent in the C(Authorization) header without asking a token service.
    type: string
    env:
      - name: REGISTRY_TOKEN
  auth_type:
    description:
      - How to authenticate.
      - V(auto) follows the registry's C(WWW-Authenticate) challenge (Basic, or the Bearer token flow);
        without credentials it asks the token service for an anonymous token.
      - V(basic) always sends Basic authentication, V(token) always uses the Bearer token flow.
      - V(anonymous) never sends credentials but still asks for anonymous tokens; V(none) sends no
        C(Authorization) header at all.
    type: string
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
    type: boolean
    default: true
    env:
      - name: REGISTRY_VALIDATE_CERTS
  ca_path:
    description:
      - PEM file with the CA certificate(s) used to verify the registry (and token service) certificates,
        instead of the system trust store.
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
      - Timeout in seconds for connecting to the registry and for each read.
    type: integer
    default: 60
  retries:
    description:
      - How many times to retry a request that failed with a connection error, a timeout, HTTP 429 or a 5xx
        status, with exponential backoff. V(0) disables retries.
    type: integer
    default: 3
notes:
  - The connection options are the same as the modules' (see M(oci.registry.registry_manifest_info)), with the
    same environment variables, so an AWX credential of the type shipped in C(extensions/awx/credential_types)
    works for both.
  - Add the C(errors='ignore') or C(errors='warn') keyword to the C(lookup) call to get an empty result instead of
    a failure when a reference cannot be resolved.
  - A registry that does not return C(Docker-Content-Digest) costs one C(GET) of the manifest instead of a C(HEAD);
    the digest is then computed from the manifest body.
requirements:
  - requests >= 2.25 (on the controller)
seealso:
  - module: oci.registry.registry_manifest_info
  - plugin: oci.registry.parse_reference
    plugin_type: filter
'''

EXAMPLES = r'''
---
- name: Pin the tag of the release to a digest, once, for every host
  ansible.builtin.set_fact:
    app_digest: "{{ lookup('oci.registry.digest', 'registry.example.com/team/app:1.2') }}"
  run_once: true

- name: Deploy exactly that image
  ansible.builtin.debug:
    msg: "image: registry.example.com/team/app@{{ app_digest }}"

- name: The digest of the arm64 image inside a multi-platform index
  ansible.builtin.debug:
    msg: "{{ lookup('oci.registry.digest', 'nginx:1.27', platform='linux/arm64') }}"

- name: Several references at once give a list, in the same order
  ansible.builtin.debug:
    msg: "{{ query('oci.registry.digest', 'alpine:3.20', 'busybox:1.36') }}"

- name: A private registry with credentials and a private CA
  ansible.builtin.debug:
    msg: >-
      {{ lookup('oci.registry.digest', 'team/app:1.2',
                registry_url='https://registry.example.com:5000',
                username='ci', password=registry_password,
                ca_path='/etc/pki/registry-ca.pem') }}

# Lookups run on the controller and read the environment that ansible-playbook was started with
# (for example REGISTRY_URL=https://registry.example.com REGISTRY_USERNAME=ci REGISTRY_PASSWORD=...
# ansible-playbook site.yml, or an AWX credential). A task's environment keyword only reaches
# modules, never lookups.
- name: Credentials from the controller's environment (REGISTRY_URL, REGISTRY_USERNAME, REGISTRY_PASSWORD)
  ansible.builtin.debug:
    msg: "{{ lookup('oci.registry.digest', 'team/app:1.2') }}"

- name: A tag that may not exist yet
  ansible.builtin.set_fact:
    current: "{{ lookup('oci.registry.digest', 'registry.example.com/team/app:next', errors='ignore') }}"
'''

RETURN = r'''
_raw:
  description:
    - One manifest digest per term, in the order of the terms.
    - The C(lookup) function joins several results with commas; use the C(query) function or C(wantlist=true)
      to get a list.
  type: list
  elements: string
  sample:
    - sha256:4c5e8a3d0b1f2a6e9d7c8b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e
'''

import re
import traceback
import warnings

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

from ansible_collections.oci.registry.plugins.module_utils.errors import (
    InvalidReferenceError,
    RegistryError,
)
from ansible_collections.oci.registry.plugins.module_utils.reference import (
    parse_platform,
    parse_reference,
    split_registry_url,
)

# The client needs requests, which is not part of ansible-core. Guarding the
# import keeps the plugin loadable (ansible-doc, the sanity import test) and
# turns a missing library into a clear lookup error at run time.
try:
    from ansible_collections.oci.registry.plugins.module_utils.client import RegistryClient
    from ansible_collections.oci.registry.plugins.module_utils.media import config_platform, select_platform
except ImportError:
    RegistryClient = None
    config_platform = select_platform = None
    CLIENT_IMPORT_ERROR = traceback.format_exc()
else:
    CLIENT_IMPORT_ERROR = None

_SCHEME_RE = re.compile(r'^https?://', re.IGNORECASE)


def _one_line(text):
    return ' '.join(to_native(text).split())


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if RegistryClient is None:
            raise AnsibleLookupError(
                'The oci.registry.digest lookup needs the Python library requests on the controller: %s'
                % _one_line(CLIENT_IMPORT_ERROR.strip().splitlines()[-1]))

        platform = None
        # An empty string means no platform, so platform=var | default('') works.
        if self.get_option('platform'):
            try:
                platform = parse_platform(self.get_option('platform'))
            except InvalidReferenceError as err:
                raise AnsibleLookupError('oci.registry.digest: %s' % _one_line(err))

        registry_url = self.get_option('registry_url') or None
        home = None
        if registry_url:
            try:
                home = split_registry_url(registry_url)
            except InvalidReferenceError as err:
                raise AnsibleLookupError('oci.registry.digest: %s' % _one_line(err))

        # One client per registry URL, so that a token obtained for the first
        # term is reused for the next ones on the same registry.
        clients = {}
        try:
            with warnings.catch_warnings():
                if not self.get_option('validate_certs'):
                    # urllib3 warns on every unverified request, straight to the
                    # worker's stderr; the user asked for exactly that.
                    warnings.filterwarnings('ignore', message='Unverified HTTPS request')
                return [self._resolve(term, platform, registry_url, home, clients) for term in terms]
        finally:
            for client in clients.values():
                try:
                    client.close()
                except Exception:  # pylint: disable=broad-exception-caught
                    # The result (or the error being raised) is what matters here.
                    pass

    def _resolve(self, term, platform, registry_url, home, clients):
        if not isinstance(term, str):
            raise AnsibleLookupError('oci.registry.digest: each term must be an image reference string, got %s'
                                     % type(term).__name__)
        try:
            ref = parse_reference(to_native(term), default_registry=registry_url, default_tag='latest')
        except InvalidReferenceError as err:
            raise AnsibleLookupError('oci.registry.digest: %s' % _one_line(err))

        own_registry = home is not None and home[1] == ref.registry
        if own_registry and not _SCHEME_RE.match(term.strip()):
            url = registry_url
        else:
            url = ref.registry_url
        # Credentials belong to registry_url; without one, to whatever the
        # terms name (the caller passed them for that).
        with_credentials = own_registry or home is None

        key = (url, with_credentials)
        try:
            client = clients.get(key)
            if client is None:
                client = clients[key] = self._client(url, with_credentials)
            if platform is None:
                return client.manifests.get_digest(ref.repository, ref.reference)
            return self._platform_digest(client, ref, platform)
        except AnsibleLookupError:
            raise
        except (RegistryError, InvalidReferenceError) as err:
            raise AnsibleLookupError('oci.registry.digest: %s' % _one_line(err))
        except Exception as err:  # pylint: disable=broad-exception-caught
            # Anything else is a bug or an environment problem; keep the one
            # line contract and leave the traceback to -vvv via orig_exc.
            raise AnsibleLookupError('oci.registry.digest: cannot resolve %s: %s: %s'
                                     % (ref, err.__class__.__name__, _one_line(err)), orig_exc=err)

    def _client(self, url, with_credentials):
        return RegistryClient(
            url,
            username=self.get_option('username') if with_credentials else None,
            password=self.get_option('password') if with_credentials else None,
            bearer_token=self.get_option('bearer_token') if with_credentials else None,
            auth_type=self.get_option('auth_type') or 'auto',
            validate_certs=self.get_option('validate_certs'),
            ca_path=self.get_option('ca_path'),
            client_cert=self.get_option('client_cert'),
            client_key=self.get_option('client_key'),
            timeout=self.get_option('timeout'),
            retries=self.get_option('retries'),
            auth_file=self.get_option('auth_file'),
        )

    def _platform_digest(self, client, ref, platform):
        result = client.manifests.get_manifest(ref.repository, ref.reference)
        manifest = result.manifest
        if getattr(manifest, 'is_index', False):
            try:
                return select_platform(manifest, platform).digest
            except RegistryError as err:
                # The index was found; say which one lacks the platform.
                raise AnsibleLookupError('oci.registry.digest: %s: %s' % (ref, _one_line(err)))

        # A single-platform image: its platform is in the image configuration
        # (schema 1 manifests carry the architecture themselves).
        found = None
        if getattr(manifest, 'config', None) is not None:
            found = config_platform(client.blobs.get_config(ref.repository, manifest))
        elif isinstance(getattr(manifest, 'data', None), dict) and manifest.data.get('architecture'):
            found = parse_platform({'os': 'linux', 'architecture': manifest.data['architecture']})
        if found is None:
            raise AnsibleLookupError('oci.registry.digest: %s is not an image with a known platform '
                                     '(media type %s), cannot check platform %s'
                                     % (ref, result.media_type, platform))
        if not platform.matches(found):
            raise AnsibleLookupError('oci.registry.digest: %s is a single-platform image for %s, not %s'
                                     % (ref, found, platform))
        return result.digest
