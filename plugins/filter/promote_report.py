# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: promote_report
short_description: Build promote_result from a registry_copy images result
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
  platforms:
    description: Platforms promoted.
    type: list
  check_mode:
    description: Whether the run was in check mode.
    type: bool
'''

EXAMPLES = r'''
- name: Used by the roles
  ansible.builtin.debug:
    msg: "{{ value | oci.registry.promote_report }}"
  vars:
    value: []
'''

RETURN = r'''
_value:
  description: One dict per image with C(src), C(src_digest), C(expected_digest), C(platforms), C(check_mode), C(changed), C(destinations).
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError
from ansible_collections.oci.registry.plugins.module_utils._role_batches import promote_report as _promote_report
from ansible_collections.oci.registry.plugins.module_utils._shard import ShardError


def promote_report(copy_result, images, platforms=None, check_mode=False):
    try:
        return _promote_report(copy_result, images, platforms, check_mode)
    except (RoleInputError, ShardError) as err:
        raise AnsibleFilterError('promote_report: %s' % err) from None


class FilterModule(object):
    def filters(self):
        return {'promote_report': promote_report}
