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
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    connection_argument_spec,
    fail,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._blob_writer import (
    BlobWriter,
    file_digest,
    validate_chunk_size,
)
from ansible_collections.oci.registry.plugins.module_utils._lazy_client import LazyClient
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_repository,
)

ALGORITHMS = ('sha256', 'sha512')


def algorithm_of(module, digest):
    algorithm = digest.split(':', 1)[0]
    if algorithm not in ALGORITHMS:
        fail(module, 'digest algorithm %s is not supported; use sha256 or sha512' % algorithm)
    return algorithm


def blob_diff(repository, digest, before, after):
    return dict(before=dict(repository=repository, digest=digest, present=before),
                after=dict(repository=repository, digest=digest, present=after))


def download(module, client, repository, digest):
    """Write the blob to dest through a temporary file, so dest is never half written."""
    dest = module.params['dest']
    if not os.path.isabs(dest):
        # atomic_move and the temporary file need a directory; join rather than abspath, so
        # "missing/.." still fails on the missing directory as the OS would.
        dest = os.path.join(os.getcwd(), dest)
    algorithm = algorithm_of(module, digest)
    if os.path.isdir(dest):
        fail(module, 'dest %s is a directory; give the path of the file to write' % dest)
    # The directory as the OS resolves it (abspath would fold "missing/.." away lexically).
    directory = os.path.dirname(dest) or os.curdir
    if not os.path.isdir(directory):
        fail(module, 'directory %s of dest does not exist' % directory)

    current = None
    size = None
    if os.path.exists(dest):
        current, size = file_digest(dest, algorithm)
    changed = current != digest
    result = dict(digest=digest, dest=module.params['dest'], exists=True, method='none')
    diff = dict(before=dict(path=dest, digest=current), after=dict(path=dest, digest=digest))

    if changed:
        result['method'] = 'downloaded'
        if module.check_mode:
            # Still a read: fail now, as the real run would, when the blob is not there.
            size = client.blobs.blob_exists(repository, digest)
            if size is None:
                fail(module, 'blob %s is not in %s on %s' % (digest, repository, client.registry_url))
        else:
            tmp = None
            try:
                handle, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(dest), suffix='.part',
                                               dir=directory)
                # The client verifies size and digest of what it writes and resumes a broken body
                # with a Range request; on a mismatch it raises and the temporary file goes.
                with os.fdopen(handle, 'wb') as out:
                    size = client.blobs.download_blob(repository, digest, out)
            except OSError as exc:
                if tmp is not None:
                    os.unlink(tmp)
                if exc.errno is None:
                    raise  # not the file system (requests' exceptions are OSErrors too)
                # The client raises write errors of the file as they are and wraps network faults.
                fail(module, 'cannot write the blob to %s: %s; free space or fix permissions in %s and run again'
                     % (dest, exc.strerror or exc, directory), errno=exc.errno)
            except BaseException:
                if tmp is not None:
                    os.unlink(tmp)
                raise
            try:
                module.atomic_move(tmp, dest, unsafe_writes=module.params['unsafe_writes'])
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    result['size'] = size

    if os.path.exists(dest):
        file_args = module.load_file_common_arguments(module.params, path=dest)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=diff)
    result['changed'] = changed
    if module._diff:
        result['diff'] = diff
    return result


def upload(module, client, repository, digest):
    params = module.params
    src = params['src']
    mount_from = params['mount_from']
    size = None
    if src is not None:
        if not os.path.isfile(src):
            fail(module, 'src %s is not a file' % src)
        computed, size = file_digest(src, algorithm_of(module, digest) if digest else 'sha256')
        if digest is not None and computed != digest:
            fail(module, 'src %s hashes to %s, not to the given digest %s' % (src, computed, digest))
        digest = computed
    elif digest is None:
        fail(module, 'state=present needs digest, or src to compute it from')
    if mount_from is not None:
        validate_repository(mount_from)

    existing = client.blobs.blob_exists(repository, digest)
    result = dict(digest=digest, exists=True, size=existing if existing is not None else size, method='none',
                  changed=existing is None)
    if existing is None:
        if src is None and mount_from is None:
            fail(module, 'blob %s is not in %s on %s; give src to upload it or mount_from to mount it'
                 % (digest, repository, client.registry_url), exists=False)
        if module.check_mode:
            if src is None:
                # Only mount_from can provide it: it must be there.
                source_size = client.blobs.blob_exists(mount_from, digest)
                if source_size is None:
                    fail(module, 'blob %s is neither in %s nor in mount_from %s on %s'
                         % (digest, repository, mount_from, client.registry_url), exists=False)
                result['size'] = source_size
            result['method'] = 'mounted' if mount_from is not None else 'uploaded'
        else:
            written = BlobWriter(client, params['chunk_size']).write(repository, digest, size=size, source=src,
                                                                     mount_from=mount_from)
            result.update(method=written.method, size=written.size)
            if written.method == 'uploaded':
                result['chunks'] = written.chunks
    if module._diff:
        result['diff'] = blob_diff(repository, digest, existing is not None, True)
    return result


def absent(module, client, repository, digest):
    existing = client.blobs.blob_exists(repository, digest)
    result = dict(digest=digest, exists=False, size=existing, changed=existing is not None,
                  method='deleted' if existing is not None else 'none')
    if existing is not None and not module.check_mode:
        client.blobs.delete_blob(repository, digest)
    if module._diff:
        result['diff'] = blob_diff(repository, digest, existing is not None, False)
    return result


def run(module):
    params = module.params
    repository = validate_repository(params['repository'])
    digest = validate_digest(params['digest']) if params['digest'] is not None else None
    validate_chunk_size(params['chunk_size'])
    if params['state'] == 'absent':
        if digest is None:
            fail(module, 'state=absent needs digest')
        if params['src'] is not None or params['dest'] is not None or params['mount_from'] is not None:
            fail(module, 'src, dest and mount_from are only used with state=present')
    elif params['dest'] is not None and digest is None:
        fail(module, 'dest needs digest: the blob to download')

    if params['state'] == 'present' and params['dest'] is not None:
        # An up-to-date file needs no registry at all; create the client lazily.
        return download(module, LazyClient(lambda: client_from_params(module)), repository, digest)
    client = client_from_params(module)
    if params['state'] == 'absent':
        return absent(module, client, repository, digest)
    return upload(module, client, repository, digest)


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
