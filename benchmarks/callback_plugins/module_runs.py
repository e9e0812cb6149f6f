# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark helper: count the oci.registry module processes a playbook starts.

Controller-side actions (set_fact, assert, include_role) start no module process and are not counted;
a loop counts once per item that ran. The count goes to the file named by OCI_BENCH_MODULE_RUNS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: module_runs
type: aggregate
short_description: count oci.registry module runs (benchmarks only)
description: Writes the number of oci.registry module runs to the file named by E(OCI_BENCH_MODULE_RUNS).
'''

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'module_runs'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.runs = {}

    def _count(self, result):
        action = result._task.action or ''
        if action.startswith('oci.registry.') and not result._result.get('skipped'):
            self.runs[action] = self.runs.get(action, 0) + 1

    def v2_runner_on_ok(self, result):
        if 'results' not in result._result:
            self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if 'results' not in result._result:
            self._count(result)

    def v2_runner_item_on_ok(self, result):
        self._count(result)

    def v2_runner_item_on_failed(self, result):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('OCI_BENCH_MODULE_RUNS')
        if path:
            with open(path, 'w', encoding='utf-8') as handle:
                json.dump(self.runs, handle)
