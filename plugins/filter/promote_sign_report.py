# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: promote_sign_report
short_description: Summarise the promote role production signatures
version_added: 0.2.0
description:
  - Data shaping of the promote role's signature gates and signing, kept out of Jinja so it is unit-tested;
    see plugins/module_utils/_promote_signing.py.
author:
  - oci.registry contributors
options:
  _input:
    description: The C(results) of the looped M(oci.registry.registry_sign) task.
    type: list
    elements: dict
    required: true
  groups:
    description: The output of P(oci.registry.promote_sign_groups#filter) the loop ran over.
    type: list
    elements: dict
    required: true
'''

EXAMPLES = r'''
- name: Used by the promote role
  ansible.builtin.debug:
    msg: "{{ value | oci.registry.promote_sign_report([]) }}"
  vars:
    value: []
'''

RETURN = r'''
_value:
  description: One entry per signed destination, with C(dest), C(digest), C(signature_digest), C(key_fingerprint), C(changed).
  type: list
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils._promote_signing import sign_report as _sign_report
from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError


def promote_sign_report(results, groups):
    try:
        return _sign_report(results, groups)
    except RoleInputError as err:
        raise AnsibleFilterError('promote_sign_report: %s' % err) from None


class FilterModule(object):
    def filters(self):
        return {'promote_sign_report': promote_sign_report}
