# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: mirror_copy_items
short_description: Turn mirror_images into registry_copy images entries, optionally for one shard
version_added: 0.2.0
description:
  - Data shaping of the roles, kept out of Jinja so it is unit-tested; see plugins/module_utils/_role_batches.py.
author:
  - oci.registry contributors
options:
  _input:
    description: The C(mirror_images) list.
    type: raw
    required: true
  shard:
    description: C({index, count}); keep only the entries whose destination repository hashes to this shard.
    type: dict
  referrers:
    description: Default of each entry's C(referrers).
    type: bool
  allow_empty:
    description: Skip semver entries that match nothing.
    type: bool
  src_auth:
    description: Default source connection options.
    type: dict
  dest_auth:
    description: Default destination connection options.
    type: dict
  prune:
    description: Default of each entry's C(prune) (applied to entries that select tags).
    type: bool
  immutable_tags:
    description: Default of each entry's C(immutable_tags).
    type: str
  backup_tag:
    description: Default of each entry's C(backup_tag).
    type: str
'''

EXAMPLES = r'''
- name: Used by the roles
  ansible.builtin.debug:
    msg: "{{ value | oci.registry.mirror_copy_items }}"
  vars:
    value: []
'''

RETURN = r'''
_value:
  description: One registry_copy O(oci.registry.registry_copy#module:images) entry per mirror entry of the shard.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError
from ansible_collections.oci.registry.plugins.module_utils._role_batches import mirror_copy_items as _mirror_copy_items
from ansible_collections.oci.registry.plugins.module_utils._shard import ShardError


def mirror_copy_items(entries, shard=None, referrers=False, allow_empty=False, src_auth=None, dest_auth=None,
                      prune=False, immutable_tags=None, backup_tag=None):
    try:
        return _mirror_copy_items(entries, shard, referrers, allow_empty, src_auth, dest_auth, prune=prune,
                                  immutable_tags=immutable_tags, backup_tag=backup_tag)
    except (RoleInputError, ShardError) as err:
        raise AnsibleFilterError('mirror_copy_items: %s' % err) from None


class FilterModule(object):
    def filters(self):
        return {'mirror_copy_items': mirror_copy_items}
