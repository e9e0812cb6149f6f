# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: mirror_report
short_description: Build mirror_result from a registry_copy images result
version_added: 0.2.0
description:
  - Data shaping of the roles, kept out of Jinja so it is unit-tested; see plugins/module_utils/_role_batches.py.
author:
  - oci.registry contributors
options:
  _input:
    description: The registered result of M(oci.registry.registry_copy) with O(oci.registry.registry_copy#module:images).
    type: raw
    required: true
  entries:
    description: The C(mirror_images) list.
    type: list
  shard:
    description: The same shard given to P(oci.registry.mirror_copy_items#filter).
    type: dict
'''

EXAMPLES = r'''
- name: Used by the roles
  ansible.builtin.debug:
    msg: "{{ value | oci.registry.mirror_report }}"
  vars:
    value: []
'''

RETURN = r'''
_value:
  description:
    - One dict per entry of the shard with C(index), C(src), C(dest), C(status), C(skipped), C(changed), C(tags),
      C(tags_changed), C(digests), C(blobs), C(referrers), C(msg).
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError
from ansible_collections.oci.registry.plugins.module_utils._role_batches import mirror_report as _mirror_report
from ansible_collections.oci.registry.plugins.module_utils._shard import ShardError


def mirror_report(copy_result, entries, shard=None):
    try:
        return _mirror_report(copy_result, entries, shard)
    except (RoleInputError, ShardError) as err:
        raise AnsibleFilterError('mirror_report: %s' % err) from None


class FilterModule(object):
    def filters(self):
        return {'mirror_report': mirror_report}
