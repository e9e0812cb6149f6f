# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: shard_select
short_description: Keep the repository names that belong to one shard
version_added: 0.2.0
description:
  - Splits repository names into C(count) disjoint shards by a stable hash (SHA-256) of the name and keeps those of
    shard C(index). Every name is in exactly one shard, on every machine and Python version, so N jobs with index
    0 to N-1 together cover every repository once (AWX job slicing).
  - Used by C(cleanup_shard) of the P(oci.registry.cleanup#role) role.
author:
  - oci.registry contributors
options:
  _input:
    description: Repository names.
    type: list
    elements: string
    required: true
  shard:
    description:
      - C({index, count}); C(index) from V(0) to C(count - 1). V(null) or V({}) keeps every name.
    type: dict
'''

EXAMPLES = r'''
---
- name: The repositories of slice 2 of 8
  ansible.builtin.debug:
    msg: "{{ catalog.repositories | oci.registry.shard_select({'index': 2, 'count': 8}) }}"
'''

RETURN = r'''
_value:
  description: The names of the shard, in input order.
  type: list
  elements: string
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.oci.registry.plugins.module_utils._retention import plain
from ansible_collections.oci.registry.plugins.module_utils._shard import ShardError, select_shard


def shard_select(names, shard=None):
    try:
        return select_shard(plain(list(names or [])), plain(shard))
    except ShardError as err:
        raise AnsibleFilterError('shard_select: %s' % to_native(err))


class FilterModule(object):

    def filters(self):
        return {
            'shard_select': shard_select,
        }
