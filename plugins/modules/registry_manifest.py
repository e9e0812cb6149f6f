#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_manifest
short_description: Push, retag, untag or delete manifests in a container registry
version_added: 0.1.0
description:
  - With O(state=present), pushes a manifest or index given in O(manifest), or points O(tag) at the manifest of
    another tag or digest of the same repository (O(source), a retag). The manifest is pushed byte for byte, so the
    digest does not change.
  - With O(state=absent) and O(tag), removes only that tag. Other tags on the same digest, and the manifest itself,
    keep working. Registries without tag deletion (distribution 2.x) get a unique throwaway manifest pushed to the
    tag, which is then deleted by its own digest. Before that write, a C(DELETE) of a digest that cannot exist
    checks that the registry accepts deletes here (once per repository and run); where it does not (deletes
    disabled, no delete permission) the module fails and changes nothing.
  - With O(state=absent) and O(digest), deletes the manifest, and with it B(every tag that points to it); the
    result lists those tags in RV(removed_tags).
  - Compares the current digest of the tag (or the presence of the digest) first, so an unchanged manifest sends no
    write request.
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_full
  - oci.registry.attributes.diff_mode
attributes:
  diff_mode:
    details:
      - Shows the digest the tag pointed to before and after, or whether the digest was present.
options:
  repository:
    description:
      - Repository name, without registry host, tag or digest, for example V(team/app).
    type: str
    required: true
  state:
    description:
      - V(present) makes O(tag) (or O(digest)) point to the manifest of O(manifest) or O(source).
      - V(absent) removes O(tag), or deletes the manifest O(digest) with every tag on it.
    type: str
    choices: [present, absent]
    default: present
  tag:
    description:
      - Tag to push to or remove.
      - With O(state=present) and O(source), required.
      - With O(state=absent), mutually exclusive with O(digest).
    type: str
  digest:
    description:
      - With O(state=present) and O(manifest), the expected digest of the manifest; the module fails before pushing
        when the content hashes to something else. Without O(tag) the manifest is pushed by digest only (untagged).
      - With O(state=present) and O(source), the digest O(source) must currently resolve to; the module fails
        instead of retagging an image that moved.
      - With O(state=absent), the manifest to delete (with every tag pointing to it).
    type: str
  manifest:
    description:
      - The manifest or index to push, as a dict or as a JSON string.
      - A string is pushed exactly as given (use it when the digest must match a known value); a dict is serialised
        as compact JSON with sorted keys.
      - Every blob an image manifest references (and every manifest an index references) must already be in the
        repository; otherwise the registry refuses the manifest and the module names the missing blobs.
      - Mutually exclusive with O(source).
    type: raw
  media_type:
    description:
      - Content type to push O(manifest) with.
      - By default the C(mediaType) field of the manifest, else guessed from its shape (OCI manifest or index).
    type: str
  source:
    description:
      - Tag or digest in O(repository) whose manifest O(tag) should point to (retag, promote within a repository).
      - To copy between repositories or registries use M(oci.registry.registry_copy).
      - Mutually exclusive with O(manifest).
    type: str
notes:
  - Deleting needs a registry that allows it (distribution C(storage.delete.enabled=true)); others answer
    C(405 UNSUPPORTED) and the module says so.
  - If the throwaway manifest's delete is refused although the check passed (the registry configuration changed in
    between), the tag is put back and the module fails; the throwaway manifest then stays in the repository,
    untagged, with the annotation C(io.github.oci-registry.placeholder). Delete it by digest once deletes work, or
    let garbage collection with C(--delete-untagged) remove it.
  - Deleting a manifest or tag does not free storage by itself; the registry's garbage collection does.
seealso:
  - module: oci.registry.registry_manifest_info
  - module: oci.registry.registry_copy
  - module: oci.registry.registry_blob
'''

EXAMPLES = r'''
- name: Tag the tested build as stable (retag within the repository)
  oci.registry.registry_manifest:
    registry_url: https://registry.example.com
    username: ci
    password: "{{ registry_password }}"
    repository: team/app
    source: build-1234
    tag: stable

- name: Retag only if build-1234 is still the image that passed the tests
  oci.registry.registry_manifest:
    registry_url: https://registry.example.com
    repository: team/app
    source: build-1234
    digest: "{{ tested_digest }}"
    tag: release-1.4

- name: Push an index that groups two already pushed images
  oci.registry.registry_manifest:
    registry_url: https://registry.example.com
    repository: team/app
    tag: '1.4'
    manifest:
      schemaVersion: 2
      mediaType: application/vnd.oci.image.index.v1+json
      manifests:
        - mediaType: application/vnd.oci.image.manifest.v1+json
          digest: "{{ amd64_digest }}"
          size: "{{ amd64_size | int }}"
          platform: {os: linux, architecture: amd64}
        - mediaType: application/vnd.oci.image.manifest.v1+json
          digest: "{{ arm64_digest }}"
          size: "{{ arm64_size | int }}"
          platform: {os: linux, architecture: arm64}

- name: Remove the tag build-1234 only (stable keeps working)
  oci.registry.registry_manifest:
    registry_url: https://registry.example.com
    repository: team/app
    tag: build-1234
    state: absent

- name: Delete a manifest, and with it every tag pointing to it
  oci.registry.registry_manifest:
    registry_url: https://registry.example.com
    repository: team/app
    digest: sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
    state: absent
  register: deleted

- name: Say which tags went with it
  ansible.builtin.debug:
    msg: "Removed tags: {{ deleted.removed_tags | join(', ') }}"
'''

RETURN = r'''
digest:
  description:
    - With O(state=present), the digest of the manifest the tag (or digest) now points to.
    - With O(state=absent), the digest that was (or, in check mode, would be) removed or untagged; V(null) when
      there was nothing to remove.
  returned: success
  type: str
  sample: sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
media_type:
  description: Media type of the manifest.
  returned: success, when known
  type: str
  sample: application/vnd.oci.image.manifest.v1+json
previous_digest:
  description: Digest O(tag) pointed to before the task; V(null) when the tag did not exist.
  returned: when O(tag) is set
  type: str
  sample: sha256:1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e
method:
  description:
    - How the tag was removed, V(tag) (C(DELETE) by tag) or V(placeholder) (a unique throwaway manifest pushed to
      the tag and deleted by digest, for registries without tag deletion).
  returned: when O(state=absent) with O(tag) removed a tag outside check mode
  type: str
  sample: placeholder
removed_tags:
  description:
    - Tags that pointed to O(digest) and are gone with it (as far as they could be listed before deleting).
  returned: when O(state=absent) with O(digest)
  type: list
  elements: str
  sample: ['1.3', old-stable]
msg:
  description: What was done, in one line.
  returned: success
  type: str
  sample: Tag team/app:stable now points to sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
diff:
  description: Before and after state, with C(--diff).
  returned: when diff mode is on
  type: dict
  sample:
    before: {repository: team/app, tag: stable, digest: 'sha256:1d3e...'}
    after: {repository: team/app, tag: stable, digest: 'sha256:8e1f...'}
trace:
  description:
    - Requests sent to the registry (method, path, status, duration, bytes), without header values.
    - Only at verbosity 3 (C(-vvv)) and above.
  returned: when verbosity >= 3
  type: list
  elements: dict
  sample:
    - method: HEAD
      host: registry.example.com
      path: /v2/team/app/manifests/stable
      name: request
      attempt: 0
      status: 200
      duration_ms: 4.2
      bytes_sent: 0
      bytes_received: 0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    connection_argument_spec,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._lazy_client import LazyClient
from ansible_collections.oci.registry.plugins.module_utils._manifest_service import ManifestService


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        tag=dict(type='str'),
        digest=dict(type='str'),
        manifest=dict(type='raw'),
        media_type=dict(type='str'),
        source=dict(type='str'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('manifest', 'source')],
        supports_check_mode=True,
    )
    # Created on first use: options that do not fit together fail before any request.
    client = LazyClient(lambda: client_from_params(module))
    run_module(module, lambda: ManifestService(client, module.check_mode).apply(module.params))


if __name__ == '__main__':
    main()
