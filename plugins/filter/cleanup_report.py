# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: cleanup_report
short_description: The cleanup role's report from its plan and what the apply did
version_added: 0.2.0
description:
  - Builds C(cleanup_report) of the P(oci.registry.cleanup#role) role from the P(oci.registry.cleanup_plan#filter)
    result and the registered result of M(oci.registry.registry_delete) (or nothing when it did not run).
  - Tags and manifests the apply refused (a tag appeared or moved meanwhile) leave C(removed) and C(deleted) and
    are listed in C(refused).
author:
  - oci.registry contributors
options:
  _input:
    description: The P(oci.registry.cleanup_plan#filter) result.
    type: dict
    required: true
  applied:
    description: The registered M(oci.registry.registry_delete) result; V(null) or a skipped result for a dry run.
    type: dict
  mode:
    description: V(untag) or V(delete), copied into the report.
    type: string
    default: untag
  dry_run:
    description: Whether this was a dry run.
    type: bool
    default: false
  check_mode:
    description: Whether Ansible ran in check mode.
    type: bool
    default: false
'''

EXAMPLES = r'''
---
- name: Report
  ansible.builtin.set_fact:
    report: "{{ plan | oci.registry.cleanup_report(applied=deleted, mode='delete') }}"
'''

RETURN = r'''
_value:
  description:
    - C(mode), C(dry_run), C(check_mode), C(applied), C(repositories) (per repository C(repository), C(exists),
      C(kept), C(removed), C(deleted), C(reclaimable_bytes), C(warnings), C(changed), C(refused), C(error)), and
      the totals C(removed_tags), C(deleted_manifests), C(reclaimable_bytes), C(failed_repositories).
  type: dict
'''

from ansible_collections.oci.registry.plugins.module_utils._retention import (
    cleanup_report as build_report,
    plain,
    plain_report_input,
)


def cleanup_report(plan, applied=None, mode='untag', dry_run=False, check_mode=False):
    plan, applied = plain_report_input(plan, applied or {})
    return build_report(plan, applied, mode=plain(mode), dry_run=bool(dry_run), check_mode=bool(check_mode))


class FilterModule(object):

    def filters(self):
        return {
            'cleanup_report': cleanup_report,
        }
