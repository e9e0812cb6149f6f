# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: promote_signature_gate
short_description: Decide the promote signature gates and pin the verified digests
version_added: 0.2.0
description:
  - Data shaping of the promote role's signature gates and signing, kept out of Jinja so it is unit-tested;
    see plugins/module_utils/_promote_signing.py.
author:
  - oci.registry contributors
options:
  _input:
    description: The C(results) of the looped M(oci.registry.registry_signature_info) task.
    type: list
    elements: dict
    required: true
  groups:
    description: The output of P(oci.registry.promote_signature_checks#filter) the loop ran over.
    type: list
    elements: dict
    required: true
  images:
    description: The images to promote.
    type: list
    elements: dict
    required: true
  require_signature:
    description: C(promote_require_signature).
    type: bool
    default: false
  required_attestations:
    description: C(promote_require_attestations).
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: Used by the promote role
  ansible.builtin.debug:
    msg: "{{ value | oci.registry.promote_signature_gate([], []) }}"
  vars:
    value: []
'''

RETURN = r'''
_value:
  description: C(refusals) (one line per refusing gate, empty when all pass) and C(images) (the release with each source pinned to its checked digest).
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils._promote_signing import pin_verified
from ansible_collections.oci.registry.plugins.module_utils._promote_signing import signature_refusals as _signature_refusals
from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError


def promote_signature_gate(results, groups, images, require_signature=False, required_attestations=None):
    try:
        return {'refusals': _signature_refusals(results, groups, images, require_signature, required_attestations),
                'images': pin_verified(images, results, groups)}
    except (RoleInputError, KeyError, TypeError) as err:
        raise AnsibleFilterError('promote_signature_gate: %s' % err) from None


class FilterModule(object):
    def filters(self):
        return {'promote_signature_gate': promote_signature_gate}
