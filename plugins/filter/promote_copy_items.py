# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: promote_copy_items
short_description: Turn the promote role variables into registry_copy images entries
version_added: 0.2.0
description:
  - Data shaping of the roles, kept out of Jinja so it is unit-tested; see plugins/module_utils/_role_batches.py.
author:
  - oci.registry contributors
options:
  _input:
    description:
      - The images to promote, C(promote_images) or the single-image role variables as a one-element list.
      - A list of dicts with C(src), C(dest), C(expected_digest), C(additional_tags) and optionally C(backup_tag).
    type: raw
    required: true
  src_auth:
    description: Default source connection options.
    type: dict
  dest_auth:
    description: Default destination connection options.
    type: dict
  platforms:
    description: Platforms to keep.
    type: list
  referrers:
    description: Copy referrers (once per destination).
    type: bool
  immutable:
    description: Refuse to move an existing destination tag.
    type: bool
  backup_tag:
    description:
      - Default C(backup_tag) of the entries (registry_copy's template, for example V({tag}-prev)); an image's
        own C(backup_tag) wins.
    type: str
'''

EXAMPLES = r'''
- name: Used by the roles
  ansible.builtin.debug:
    msg: "{{ value | oci.registry.promote_copy_items }}"
  vars:
    value: []
'''

RETURN = r'''
_value:
  description: One registry_copy O(oci.registry.registry_copy#module:images) entry per image, destination and tag.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError
from ansible_collections.oci.registry.plugins.module_utils._role_batches import promote_copy_items as _promote_copy_items
from ansible_collections.oci.registry.plugins.module_utils._shard import ShardError


def promote_copy_items(images, src_auth=None, dest_auth=None, platforms=None, referrers=True, immutable=False,
                       backup_tag=None):
    try:
        return _promote_copy_items(images, src_auth, dest_auth, platforms, referrers, immutable, backup_tag)
    except (RoleInputError, ShardError) as err:
        raise AnsibleFilterError('promote_copy_items: %s' % err) from None


class FilterModule(object):
    def filters(self):
        return {'promote_copy_items': promote_copy_items}
