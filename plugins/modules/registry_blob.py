#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_blob
short_description: Upload, mount, download or delete blobs (layers, configurations) in a container registry
version_added: 0.1.0
description:
  - With O(state=present) and O(src), uploads a file as a blob, monolithically below 32 MiB and in resumable
    chunks above it (or when O(chunk_size) is set). Nothing is sent when the blob is already in the repository.
  - With O(mount_from), mounts the blob from another repository of the same registry without transferring it;
    when the registry refuses the mount, the blob is uploaded from O(src), or else copied through the controller
    from O(mount_from).
  - With O(dest), downloads the blob to a file atomically (temporary file in the same directory, digest
    verified, then renamed) and applies O(mode), O(owner) and O(group) like M(ansible.builtin.get_url). Nothing
    is downloaded when the file already has the digest.
  - With O(state=absent), deletes the blob from the repository.
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_full
  - oci.registry.attributes.diff_mode
  - ansible.builtin.files
attributes:
  diff_mode:
    details:
      - Shows whether the blob was present in the repository before and after, or the digest of O(dest) before and
        after and its file attributes.
options:
  repository:
    description:
      - Repository name, without registry host, tag or digest, for example V(team/app).
    type: str
    required: true
  digest:
    description:
      - Digest of the blob, V(sha256:<64 hex>) or V(sha512:<128 hex>).
      - Required unless O(src) is given, in which case it is computed from the file (and, if given, checked against
        it before anything is sent).
    type: str
  state:
    description:
      - V(present) makes sure the blob is in O(repository) (from O(src) or O(mount_from)), or, with O(dest), that
        O(dest) holds it.
      - V(absent) deletes the blob from O(repository).
    type: str
    choices: [present, absent]
    default: present
  src:
    description:
      - File to upload.
      - Mutually exclusive with O(dest).
    type: path
  dest:
    description:
      - File to download the blob to. Its directory must exist; an existing directory is refused.
      - A relative path is relative to the working directory of the module on the managed node; C(..)
        components are resolved by the operating system like in any other path.
      - A local write error (disk full, permissions) fails the task at once and leaves no partial file.
      - Replaced atomically, only when its content does not have O(digest) yet.
      - Mutually exclusive with O(src) and O(mount_from).
    type: path
  chunk_size:
    description:
      - Upload in chunks of this many bytes (resumable) instead of deciding by size.
      - Between 1 and 134217728 (128 MiB). Registries may ask for a minimum chunk size
        (C(OCI-Chunk-Min-Length)); the larger one wins.
      - Also used when a refused O(mount_from) falls back to copying the blob through the controller.
    type: int
  mount_from:
    description:
      - Repository of the same registry to mount the blob from (cross-repository blob mount), which needs pull
        access to it.
    type: str
notes:
  - In check mode, RV(method) is V(mounted) when O(mount_from) holds the blob (one C(HEAD) request there) and
    V(uploaded) otherwise. Some registries answer C(202 Accepted) to every mount request without mounting
    anything; there the real run uploads from O(src), or copies through the controller, what check mode
    predicted as V(mounted).
  - Deleting a blob that a manifest still references breaks that manifest; registries usually let garbage
    collection remove unreferenced blobs instead.
  - Deleting needs a registry that allows it (distribution C(storage.delete.enabled=true)).
seealso:
  - module: oci.registry.registry_manifest
  - module: oci.registry.registry_copy
'''

EXAMPLES = r'''
- name: Upload a layer (digest computed from the file)
  oci.registry.registry_blob:
    registry_url: https://registry.example.com
    username: ci
    password: "{{ registry_password }}"
    repository: team/app
    src: /tmp/build/layer.tar.gz
  register: layer

- name: Upload a large file in 16 MiB chunks, verifying the expected digest first
  oci.registry.registry_blob:
    registry_url: https://registry.example.com
    repository: team/models
    src: /srv/models/weights.bin
    digest: "{{ weights_digest }}"
    chunk_size: 16777216

- name: Make the layer available in another repository without transferring it
  oci.registry.registry_blob:
    registry_url: https://registry.example.com
    repository: team/app-debug
    digest: "{{ layer.digest }}"
    mount_from: team/app

- name: Download an image configuration to a file readable by its owner only
  oci.registry.registry_blob:
    registry_url: https://registry.example.com
    repository: team/app
    digest: sha256:6b1d4f1d0e5b9c7c52ecfcb14b1e5b8e1b6f1b8a3e1fb0b1b0c0f1d4f1d0e5b9
    dest: /var/lib/app/config.json
    mode: '0600'

# Deleting a blob that a manifest still uses (its config or any layer) breaks that image: pulls
# then fail with "blob unknown". To remove an image, delete its manifest with
# oci.registry.registry_manifest (state: absent) and let the registry's garbage collector remove
# the blobs nothing uses any more. Delete a blob directly only when no manifest refers to it, as here.
- name: Check that CI may write to team/scratch, with a blob no manifest will ever use
  oci.registry.registry_blob:
    registry_url: https://registry.example.com
    repository: team/scratch
    src: /tmp/write-probe.bin
  register: probe

- name: Delete that blob again
  oci.registry.registry_blob:
    registry_url: https://registry.example.com
    repository: team/scratch
    digest: "{{ probe.digest }}"
    state: absent
'''

RETURN = r'''
digest:
  description: Digest of the blob.
  returned: success
  type: str
  sample: sha256:4abcf20661432fb2d719aaf90656f55c287f8ca915dc1c92ec14ff61e67fbaf8
size:
  description: Size of the blob in bytes; V(null) when it is not known (absent blob).
  returned: success
  type: int
  sample: 3408729
exists:
  description:
    - Whether the blob is in O(repository) after the task (with O(dest), whether O(dest) holds it).
    - In check mode, whether it would be.
  returned: success
  type: bool
  sample: true
method:
  description:
    - What was (or in check mode would be) done, V(none), V(uploaded), V(mounted), V(copied) (from O(mount_from)
      through the controller), V(downloaded) or V(deleted).
  returned: success
  type: str
  sample: mounted
chunks:
  description: Number of chunks the upload used (V(1) for a monolithic upload).
  returned: when a file was uploaded
  type: int
  sample: 4
dest:
  description: The downloaded file.
  returned: when O(dest) is set
  type: str
  sample: /var/lib/app/config.json
uid:
  description: Numeric id of the owner of O(dest) (added by Ansible, as for M(ansible.builtin.get_url)).
  returned: when O(dest) is set and exists
  type: int
  sample: 0
gid:
  description: Numeric id of the group of O(dest).
  returned: when O(dest) is set and exists
  type: int
  sample: 0
owner:
  description: Owner of O(dest).
  returned: when O(dest) is set and exists
  type: str
  sample: root
group:
  description: Group of O(dest).
  returned: when O(dest) is set and exists
  type: str
  sample: root
mode:
  description: Permissions of O(dest), in octal.
  returned: when O(dest) is set and exists
  type: str
  sample: '0600'
state:
  description: Type of O(dest), V(file) for a downloaded blob.
  returned: when O(dest) is set and exists
  type: str
  sample: file
secontext:
  description: SELinux security context of O(dest).
  returned: when O(dest) is set, exists and SELinux is enabled
  type: str
  sample: system_u:object_r:var_lib_t:s0
diff:
  description: Before and after state, with C(--diff).
  returned: when diff mode is on
  type: dict
  sample:
    before: {repository: team/app, digest: 'sha256:4abc...', present: false}
    after: {repository: team/app, digest: 'sha256:4abc...', present: true}
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
      path: /v2/team/app/blobs/sha256:4abcf20661432fb2d719aaf90656f55c287f8ca915dc1c92ec14ff61e67fbaf8
      name: request
      attempt: 0
      status: 200
      duration_ms: 4.2
      bytes_sent: 0
      bytes_received: 0
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    connection_argument_spec,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._blob_service import BlobService
from ansible_collections.oci.registry.plugins.module_utils._lazy_client import LazyClient


def with_file_attributes(module, outcome):
    """Apply mode, owner and group (ansible.builtin.files) to a downloaded file; they count as a change too."""
    path = outcome.after['path']
    if os.path.exists(path):
        file_args = module.load_file_common_arguments(module.params, path=path)
        diff = dict(before=outcome.before, after=outcome.after)
        outcome.result['changed'] = module.set_fs_attributes_if_different(file_args, outcome.changed, diff=diff)
    return outcome


def run(module):
    params = module.params
    # Created on first use: a file that already has the digest needs no registry at all.
    client = LazyClient(lambda: client_from_params(module))
    service = BlobService(client, module.check_mode, params['chunk_size'])
    outcome = service.apply(params, move=lambda tmp, dest: module.atomic_move(
        tmp, dest, unsafe_writes=params['unsafe_writes']))
    if params['state'] == 'present' and params['dest'] is not None:
        outcome = with_file_attributes(module, outcome)
    return outcome


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository=dict(type='str', required=True),
        digest=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        src=dict(type='path'),
        dest=dict(type='path'),
        chunk_size=dict(type='int'),
        mount_from=dict(type='str'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('src', 'dest'), ('dest', 'mount_from')],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    run_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
