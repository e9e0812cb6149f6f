# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: promote_signature_checks
short_description: Group the promote sources into registry_signature_info runs
version_added: 0.2.0
description:
  - Data shaping of the promote role's signature gates and signing, kept out of Jinja so it is unit-tested;
    see plugins/module_utils/_promote_signing.py.
author:
  - oci.registry contributors
options:
  _input:
    description: The images to promote (the role's C(_promote_images)), dicts with C(src), C(dest), C(expected_digest).
    type: list
    elements: dict
    required: true
  src_auth:
    description: Default source connection options (C(promote_src_auth)).
    type: dict
'''

EXAMPLES = r'''
- name: Used by the promote role
  ansible.builtin.debug:
    msg: "{{ value | oci.registry.promote_signature_checks }}"
  vars:
    value: []
'''

RETURN = r'''
_value:
  description: One entry per source registry and credentials, with C(registry_url), C(auth), C(images) and C(entries).
  type: list
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils._promote_signing import signature_check_groups as _signature_check_groups
from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError


def promote_signature_checks(images, src_auth=None):
    try:
        return _signature_check_groups(images, src_auth)
    except RoleInputError as err:
        raise AnsibleFilterError('promote_signature_checks: %s' % err) from None


class FilterModule(object):
    def filters(self):
        return {'promote_signature_checks': promote_signature_checks}
