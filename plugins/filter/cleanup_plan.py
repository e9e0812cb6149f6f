# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: cleanup_plan
short_description: Plan the cleanup of many repositories from one bulk read
version_added: 0.2.0
description:
  - Applies P(oci.registry.retention_plan#filter) to every repository of a bulk
    M(oci.registry.registry_tag_info) result and returns the per-repository plans together with the entries
    M(oci.registry.registry_delete) takes. This is the plan step of the P(oci.registry.cleanup#role) role.
  - No registry is contacted. Same rules and safety invariant as P(oci.registry.retention_plan#filter).
author:
  - oci.registry contributors
options:
  _input:
    description:
      - RV(oci.registry.registry_tag_info#module:repositories) of a run with O(oci.registry.registry_tag_info#module:include_details=true).
      - A repository with C(exists=false) is planned as empty; one with another C(error) keeps that error and is
        not touched.
    type: list
    elements: dict
    required: true
  keep_patterns:
    description: As P(oci.registry.retention_plan#filter).
    type: list
    elements: string
    default: ['^latest$']
  delete_patterns:
    description: As P(oci.registry.retention_plan#filter); V(null) means every tag.
    type: list
    elements: string
  keep_latest:
    description: As P(oci.registry.retention_plan#filter).
    type: int
    default: 0
  older_than_days:
    description: As P(oci.registry.retention_plan#filter).
    type: float
  mode:
    description: As P(oci.registry.retention_plan#filter).
    type: string
    choices: [untag, delete]
    default: untag
  now:
    description: As P(oci.registry.retention_plan#filter).
    type: raw
seealso:
  - module: oci.registry.registry_tag_info
  - module: oci.registry.registry_delete
'''

EXAMPLES = r'''
---
- name: Plan every team repository
  ansible.builtin.set_fact:
    plan: "{{ team.repositories | oci.registry.cleanup_plan(keep_latest=3, mode='delete') }}"

- name: Apply it
  oci.registry.registry_delete:
    repositories: "{{ plan.apply }}"
'''

RETURN = r'''
_value:
  description: The plan.
  type: dict
  contains:
    repositories:
      description:
        - Per repository, in input order, C(repository), C(exists), C(error) (the read error, V(null) when read),
          and the P(oci.registry.retention_plan#filter) keys C(kept), C(removed), C(untag), C(delete),
          C(reclaimable_bytes), C(warnings).
      type: list
      elements: dict
      returned: always
    apply:
      description:
        - O(oci.registry.registry_delete#module:repositories) for the repositories with a removed tag, each with
          C(repository), C(tags) (each C(tag) with the C(digest) the plan saw, so a tag moved since is refused)
          and C(digests) (indexes first).
      type: list
      elements: dict
      returned: always
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.oci.registry.plugins.module_utils._retention import (
    RetentionError,
    plain,
    plain_inventory,
    plan_repositories,
)


def cleanup_plan(inventory, keep_patterns=('^latest$',), delete_patterns=None, keep_latest=0, older_than_days=None,
                 mode='untag', now=None):
    try:
        return plan_repositories(
            plain_inventory(inventory),
            keep_patterns=plain(list(keep_patterns or [])),
            delete_patterns=None if delete_patterns is None else plain(list(delete_patterns)),
            keep_latest=keep_latest, older_than_days=older_than_days, mode=mode, now=plain(now))
    except RetentionError as err:
        raise AnsibleFilterError('cleanup_plan: %s' % to_native(err))


class FilterModule(object):

    def filters(self):
        return {
            'cleanup_plan': cleanup_plan,
        }
