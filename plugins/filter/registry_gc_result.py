# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: registry_gc_result
short_description: Shape the result of a distribution registry garbage collection
version_added: 0.2.0
description:
  - Parses the registered result of C(docker-registry garbage-collect) (its summary line and the
    C(blob eligible for deletion) / C(manifest eligible for deletion) lines) and combines it with
    M(oci.registry.registry_storage_info) results taken before and after.
  - C(error) is set when the command failed, including a bad flag (the command prints C(Error:) and its usage
    but exits 0).
  - Used by the P(oci.registry.registry_gc#role) role to set C(registry_gc_result).
author:
  - oci.registry contributors
options:
  _input:
    description: The registered result of the C(garbage-collect) command (C(rc), C(stdout), C(stderr)).
    type: dict
    required: true
  before:
    description: M(oci.registry.registry_storage_info) result before the collection.
    type: dict
    required: true
  after:
    description: M(oci.registry.registry_storage_info) result after it; omitted for a dry run.
    type: dict
  delete_untagged:
    description: Whether C(--delete-untagged) was used.
    type: bool
    default: false
  dry_run:
    description: Whether the command ran with C(--dry-run).
    type: bool
    default: false
  readonly_window:
    description: Whether the registry was switched to read-only for the collection.
    type: bool
    default: false
'''

EXAMPLES = r'''
---
- name: Collect
  ansible.builtin.command:
    argv: [docker-registry, garbage-collect, --dry-run, /etc/docker/registry/config.yml]
  register: gc
  changed_when: false

- name: What would go
  ansible.builtin.debug:
    msg: "{{ (gc | oci.registry.registry_gc_result(before=storage, dry_run=true)).blobs_eligible }} blobs"
'''

RETURN = r'''
_value:
  description:
    - C(dry_run), C(delete_untagged), C(readonly_window), C(before_bytes), C(after_bytes), C(reclaimed_bytes),
      C(blobs_before), C(blobs_after), C(blobs_marked), C(blobs_removed), C(manifests_removed),
      C(blobs_eligible), C(manifests_eligible), C(eligible_blobs), C(eligible_manifests) (digests), C(error)
      (one line or V(null)) and C(changed) (what was removed, or in a dry run what a real run would remove).
  type: dict
'''

from ansible_collections.oci.registry.plugins.module_utils._registry_gc import gc_result


def registry_gc_result(run, before, after=None, delete_untagged=False, dry_run=False, readonly_window=False):
    return gc_result(run, before, after=after, delete_untagged=delete_untagged, dry_run=dry_run,
                     readonly_window=readonly_window)


class FilterModule(object):

    def filters(self):
        return {
            'registry_gc_result': registry_gc_result,
        }
