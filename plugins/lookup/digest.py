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
notes:
  - The connection options are the same as the modules' (see M(oci.registry.registry_manifest_info)), with the
    same environment variables, so an AWX credential of the type shipped in C(extensions/awx/credential_types)
    works for both.
  - Add the C(errors='ignore') or C(errors='warn') keyword to the C(lookup) call to get an empty result instead of
    a failure when a reference cannot be resolved.
  - A registry that does not return C(Docker-Content-Digest) costs one C(GET) of the manifest instead of a C(HEAD);
    the digest is then computed from the manifest body.
extends_documentation_fragment:
  - oci.registry.connection.plugins
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

import traceback
import warnings

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

from ansible_collections.oci.registry.plugins.module_utils._errors import (
    InvalidReferenceError,
    RegistryError,
)
from ansible_collections.oci.registry.plugins.module_utils._options import check_numbers
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    normalize_registry_url,
    parse_platform,
)

# The client needs requests, which is not part of ansible-core. Guarding the
# import keeps the plugin loadable (ansible-doc, the sanity import test) and
# turns a missing library into a clear lookup error at run time.
try:
    from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
    from ansible_collections.oci.registry.plugins.module_utils._connect import (
        connect,
        connection_params,
        resolve_reference,
    )
    from ansible_collections.oci.registry.plugins.module_utils._resolve import PlatformError, resolve
except ImportError:
    RegistryClient = None
    PlatformError = resolve = None
    CLIENT_IMPORT_ERROR = traceback.format_exc()
else:
    CLIENT_IMPORT_ERROR = None

CONNECTION_OPTIONS = ('registry_url', 'username', 'password', 'bearer_token', 'auth_type', 'auth_file',
                      'validate_certs', 'ca_path', 'client_cert', 'client_key', 'timeout', 'retries')


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

        options = dict((name, self.get_option(name)) for name in CONNECTION_OPTIONS)
        options['registry_url'] = options['registry_url'] or None
        try:
            # Wrong options fail once, before the first term.
            if options['registry_url']:
                normalize_registry_url(options['registry_url'])
            check_numbers(options, ('timeout', 'retries'))
        except (RegistryError, InvalidReferenceError) as err:
            raise AnsibleLookupError('oci.registry.digest: %s' % _one_line(err))

        # One client per registry and connection, so that a token obtained for the first
        # term is reused for the next ones on the same registry.
        clients = {}
        try:
            with warnings.catch_warnings():
                if not self.get_option('validate_certs'):
                    # urllib3 warns on every unverified request, straight to the
                    # worker's stderr; the user asked for exactly that.
                    warnings.filterwarnings('ignore', message='Unverified HTTPS request')
                return [self._resolve(term, platform, options, clients) for term in terms]
        finally:
            for client in clients.values():
                try:
                    client.close()
                except Exception:  # pylint: disable=broad-exception-caught
                    # The result (or the error being raised) is what matters here.
                    pass

    def _resolve(self, term, platform, options, clients):
        if not isinstance(term, str):
            raise AnsibleLookupError('oci.registry.digest: each term must be an image reference string, got %s'
                                     % type(term).__name__)
        try:
            ref, url = resolve_reference(to_native(term), home=options['registry_url'], default_tag='latest')
            # The connection rule (which options and credentials reach which registry) is connect.py's.
            key = tuple(sorted(connection_params(options, target=url).items()))
        except InvalidReferenceError as err:
            raise AnsibleLookupError('oci.registry.digest: %s' % _one_line(err))
        try:
            client = clients.get(key)
            if client is None:
                client = clients[key] = connect(options, target=url)
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

    def _platform_digest(self, client, ref, platform):
        try:
            return resolve(client, ref.repository, ref.reference, platform, fetch=False).digest
        except PlatformError as err:
            # The reference was found; say which one lacks the platform.
            hint = '. Hint: %s' % err.hint if err.hint else ''
            raise AnsibleLookupError('oci.registry.digest: %s: %s%s' % (ref, _one_line(err.message), hint))
