# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: promote_failure
short_description: The promote role's one-line refusal message from a registry_copy images result
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
  images:
    description: The images given to P(oci.registry.promote_copy_items#filter).
    type: list
  single:
    description: Whether the role ran with the single-image variables (names the guard promote_expected_digest).
    type: bool
'''

EXAMPLES = r'''
- name: Used by the roles
  ansible.builtin.debug:
    msg: "{{ value | oci.registry.promote_failure }}"
  vars:
    value: []
'''

RETURN = r'''
_value:
  description: The message; names the guard that refused and both digests, and whether anything was written.
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError
from ansible_collections.oci.registry.plugins.module_utils._role_batches import promote_failure as _promote_failure
from ansible_collections.oci.registry.plugins.module_utils._shard import ShardError


def promote_failure(copy_result, images, single=False):
    try:
        return _promote_failure(copy_result, images, single)
    except (RoleInputError, ShardError) as err:
        raise AnsibleFilterError('promote_failure: %s' % err) from None


class FilterModule(object):
    def filters(self):
        return {'promote_failure': promote_failure}
