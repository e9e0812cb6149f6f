# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: promote_sign_groups
short_description: Group the promoted destinations into registry_sign runs
version_added: 0.2.0
description:
  - Data shaping of the promote role's signature gates and signing, kept out of Jinja so it is unit-tested;
    see plugins/module_utils/_promote_signing.py.
author:
  - oci.registry contributors
options:
  _input:
    description: The images promoted.
    type: list
    elements: dict
    required: true
  copy_result:
    description:
      - The registered result of M(oci.registry.registry_copy) with O(oci.registry.registry_copy#module:images).
      - V(null) before the copy, each destination by its tag.
    type: dict
  dest_auth:
    description: Default destination connection options (C(promote_dest_auth)).
    type: dict
'''

EXAMPLES = r'''
- name: Used by the promote role
  ansible.builtin.debug:
    msg: "{{ value | oci.registry.promote_sign_groups({}) }}"
  vars:
    value: []
'''

RETURN = r'''
_value:
  description: One entry per destination registry and credentials, with C(registry_url), C(auth), C(images) and C(entries).
  type: list
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils._promote_signing import sign_groups as _sign_groups
from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError


def promote_sign_groups(images, copy_result=None, dest_auth=None):
    try:
        return _sign_groups(images, copy_result, dest_auth)
    except RoleInputError as err:
        raise AnsibleFilterError('promote_sign_groups: %s' % err) from None


class FilterModule(object):
    def filters(self):
        return {'promote_sign_groups': promote_sign_groups}
