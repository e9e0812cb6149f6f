# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: mirror_failure
short_description: The mirror role's one-line failure message from a registry_copy images result
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
    msg: "{{ value | oci.registry.mirror_failure }}"
  vars:
    value: []
'''

RETURN = r'''
_value:
  description: The message; names every failed entry by its position in mirror_images.
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError
from ansible_collections.oci.registry.plugins.module_utils._role_batches import mirror_failure as _mirror_failure
from ansible_collections.oci.registry.plugins.module_utils._shard import ShardError


def mirror_failure(copy_result, entries, shard=None):
    try:
        return _mirror_failure(copy_result, entries, shard)
    except (RoleInputError, ShardError) as err:
        raise AnsibleFilterError('mirror_failure: %s' % err) from None


class FilterModule(object):
    def filters(self):
        return {'mirror_failure': mirror_failure}
