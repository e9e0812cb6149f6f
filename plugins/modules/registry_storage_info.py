#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_storage_info
short_description: Measure a distribution registry's filesystem storage and find what garbage collection must respect
version_added: 0.2.0
description:
  - Runs on the host of a self-hosted CNCF distribution registry (C(docker-registry) / C(registry)) and reads its
    filesystem storage directly, without the registry API.
  - Reports the bytes and files under the storage root (apparent sizes, so before/after garbage collection
    compare exactly), the number of blobs, repositories and stored manifests.
  - Reports whether C(garbage-collect --delete-untagged) is safe for this storage. It is not when any stored
    manifest is a manifest list or image index (distribution issue 3178 - the untagged children of a tagged
    index are deleted, which breaks the index) or carries a C(subject) (an OCI referrer such as a signature,
    untagged by design).
  - Used by the P(oci.registry.registry_gc#role) role before, during and after its read-only window.
author:
  - oci.registry contributors (@oci-registry)
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(diff_mode)) when in diff mode.
    support: N/A
    details:
      - This action does not modify state.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  path:
    description:
      - The storage root, C(storage.filesystem.rootdirectory) of the registry configuration
        (V(/var/lib/registry) by default for C(docker-registry)).
    type: path
    required: true
notes:
  - Reads every file's metadata under O(path) and every stored manifest (small JSON files); on a large storage
    this takes a while, but it never writes.
  - Run it with the privileges of the registry's user (or root) so every file is readable.
seealso:
  - module: oci.registry.registry_delete
'''

EXAMPLES = r'''
- name: Measure the registry storage
  oci.registry.registry_storage_info:
    path: /var/lib/docker-registry
  register: storage

- name: Refuse --delete-untagged on storage holding multi-platform images
  ansible.builtin.assert:
    that: storage.delete_untagged_safe
    fail_msg: "{{ storage.delete_untagged_blocker_count }} manifests would lose children or subjects"
'''

RETURN = r'''
root:
  description: The storage root that was read.
  returned: success
  type: str
  sample: /var/lib/docker-registry
bytes:
  description: Sum of the apparent sizes of every file under the root.
  returned: success
  type: int
  sample: 385647
files:
  description: Number of files under the root.
  returned: success
  type: int
  sample: 57
blobs:
  description: Number of blobs (layers, configs and manifests) in the storage's blob store.
  returned: success
  type: int
  sample: 19
repositories:
  description: Number of repositories (nested names such as C(team/app) count once).
  returned: success
  type: int
  sample: 2
manifests:
  description: Number of stored manifest revisions over every repository.
  returned: success
  type: int
  sample: 6
check_mode:
  description:
    - Whether the module ran in check mode, also when set on the task or through C(include_role)'s C(apply),
      which C(ansible_check_mode) does not show; the role follows it.
  returned: success
  type: bool
  sample: false
delete_untagged_safe:
  description: Whether no stored manifest is an index, a manifest list or a referrer.
  returned: success
  type: bool
  sample: false
delete_untagged_blocker_count:
  description: Number of stored manifests that make C(--delete-untagged) unsafe.
  returned: success
  type: int
  sample: 1
delete_untagged_blockers:
  description: The first 20 of those manifests.
  returned: success
  type: list
  elements: dict
  sample:
    - repository: team/app
      digest: sha256:3a7777eca550d4d2e3677ff4cdb1bff410246093fba991599d64c2c011036efb
      reason: index
  contains:
    repository:
      description: Repository name.
      type: str
      returned: success
    digest:
      description: Manifest digest.
      type: str
      returned: success
    reason:
      description: V(index) (manifest list or image index) or V(referrer) (a manifest with a C(subject)).
      type: str
      returned: success
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._registry_gc import RegistryGcError, scan_storage


def main():
    module = AnsibleModule(argument_spec={"path": {"type": "path", "required": True}}, supports_check_mode=True)
    try:
        result = scan_storage(module.params["path"])
    except RegistryGcError as err:
        module.fail_json(msg="%s; set the storage root of the registry configuration" % err)
    except OSError as err:
        module.fail_json(msg="cannot read the registry storage %s: %s; run as the registry's user or root"
                         % (module.params["path"], err.strerror or err))
    module.exit_json(changed=False, check_mode=module.check_mode, **result)


if __name__ == '__main__':
    main()
