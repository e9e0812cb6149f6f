# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: retention_plan
short_description: Decide which tags of a repository to keep and what to remove
version_added: 0.1.0
description:
  - Computes the retention plan the P(oci.registry.cleanup#role) role applies, from the tags of one repository and
    the manifests they point at. No registry is contacted; the decision is pure and repeatable.
  - 'Rules, first match wins for each tag: a O(keep_patterns) match is kept; a referrer tag
    (V(sha256-<hex>) or V(sha256-<hex>.sig) and similar) whose subject is in the repository is kept when its subject
    stays referenced and removed otherwise; a tag matching no O(delete_patterns) is kept; the O(keep_latest) newest
    images among the remaining tags are kept; with O(older_than_days), younger images and images without a usable
    date are kept; everything else is removed.'
  - Newest is by the image configuration's C(created) date (for an index, its newest image). A missing or
    unparsable date, or one at or before 1970-01-01 (what reproducible builds write), counts as unknown. Unknown
    dates rank as the oldest for O(keep_latest), and are never old enough for O(older_than_days).
  - O(keep_latest) counts distinct images (digests), not tags, so two tags of one image use one slot.
  - 'The safety invariant: a digest referenced by a kept tag, directly or as a child of a kept index at any depth,
    is never deleted, and no kept tag stops resolving.'
author:
  - oci.registry contributors
options:
  _input:
    description:
      - The tags of the repository, as the RV(oci.registry.registry_tag_info#module:tag_details) list
        (C(tag), C(digest), C(created), C(media_type)), or a dict mapping tag to digest.
    type: raw
    required: true
  manifests:
    description:
      - Manifests of the repository by digest, each the manifest JSON or a dict with C(manifest), C(size) and
        C(media_type) (what M(oci.registry.registry_manifest_info) returns).
      - Needed for index children (protection and deletion) and for the reclaimable bytes estimate.
        A kept index whose manifest is missing here stops O(mode=delete) from deleting anything in the
        repository, because its children could be shared.
    type: dict
    default: {}
  keep_patterns:
    description: Python regular expressions (searched in the tag); a matching tag is always kept.
    type: list
    elements: string
    default: ['^latest$']
  delete_patterns:
    description:
      - Python regular expressions; only tags matching one of them are candidates for removal.
      - V(null) means every tag; an empty list means none.
    type: list
    elements: string
  keep_latest:
    description: Keep the N newest images among the candidates.
    type: int
    default: 0
  older_than_days:
    description: Only images older than this many days are removed.
    type: float
  mode:
    description:
      - V(untag) removes candidate tags only.
      - V(delete) also deletes the manifests only removed tags reach (index children included).
    type: string
    choices: [untag, delete]
    default: untag
  now:
    description: Reference time for O(older_than_days) (RFC 3339 or seconds since the epoch); default the current time.
    type: raw
  repository:
    description: Repository name, copied into the result.
    type: string
seealso:
  - module: oci.registry.registry_tag_info
  - module: oci.registry.registry_manifest_info
'''

EXAMPLES = r'''
---
- name: Plan a cleanup of one repository
  ansible.builtin.set_fact:
    plan: >-
      {{ tags.tag_details | oci.registry.retention_plan(manifests=manifests_by_digest,
         keep_patterns=['^latest$', '^v\d+$'], keep_latest=5, older_than_days=30, mode='delete') }}

- name: Tags only, no manifests (untag mode needs no more)
  ansible.builtin.debug:
    msg: "{{ {'latest': 'sha256:aaaa...', 'dev-1': 'sha256:bbbb...'} | oci.registry.retention_plan }}"
'''

RETURN = r'''
_value:
  description: The plan.
  type: dict
  contains:
    repository:
      description: O(repository).
      type: string
      returned: always
    mode:
      description: O(mode).
      type: string
      returned: always
    kept:
      description: Kept tags, sorted by tag, each with C(tag), C(digest) and the C(reason).
      type: list
      elements: dict
      returned: always
      sample: [{tag: latest, digest: 'sha256:5770...', reason: 'keep_patterns: ^latest$'}]
    removed:
      description: Removed tags, sorted by tag, each with C(tag), C(digest) and the C(reason).
      type: list
      elements: dict
      returned: always
      sample: [{tag: '1.0', digest: 'sha256:10a2...', reason: 'delete_patterns: .*, 152.0 days old'}]
    untag:
      description: Tags to remove one by one (in V(delete) mode, those whose digest is not deleted).
      type: list
      elements: string
      returned: always
    delete:
      description: Manifest digests to delete, every index before the manifests it lists. Empty in V(untag) mode.
      type: list
      elements: string
      returned: always
    protected:
      description: Digests that kept tags reach; none of them is deleted.
      type: list
      elements: string
      returned: always
    reclaimable_bytes:
      description:
        - Bytes of manifests, configs and layers reachable from the tags before and not after, each counted once.
          What a garbage collection that also removes untagged manifests can free in this repository;
          blobs shared with other repositories are not freed.
      type: int
      returned: always
    warnings:
      description: Why deletion was withheld, if it was.
      type: list
      elements: string
      returned: always
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.oci.registry.plugins.module_utils._retention import RetentionError, plain, plan_cleanup


def retention_plan(tags, manifests=None, keep_patterns=('^latest$',), delete_patterns=None, keep_latest=0,
                   older_than_days=None, mode='untag', now=None, repository=None):
    try:
        return plan_cleanup(
            plain(tags), plain(manifests or {}),
            keep_patterns=plain(list(keep_patterns or [])),
            delete_patterns=None if delete_patterns is None else plain(list(delete_patterns)),
            keep_latest=keep_latest, older_than_days=older_than_days, mode=mode, now=plain(now),
            repository=repository)
    except RetentionError as err:
        raise AnsibleFilterError('retention_plan: %s' % to_native(err))


class FilterModule(object):

    def filters(self):
        return {
            'retention_plan': retention_plan,
        }
