# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark helper: count module processes (tasks of oci.registry modules that ran) into $COUNT_MODULES_FILE,
with $TASK_TIMES_FILE the wall time of every task (where a role run spends its time), and with $SUMMARY_FILE
the message of the task named "Report summary"."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r'''
name: count_modules
type: aggregate
short_description: Count oci.registry module runs (benchmark helper)
description:
  - Writes the number of oci.registry module runs per module to the file in E(COUNT_MODULES_FILE).
  - With E(TASK_TIMES_FILE), writes the seconds spent in every task there, in order.
  - With E(SUMMARY_FILE), writes the C(msg) of the task named C(Report summary) there (JSON).
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "count_modules"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.counts = {}
        self.task_times = []
        self._task = None

    def _close_task(self):
        if self._task is not None:
            name, started = self._task
            self.task_times.append([name, round(time.monotonic() - started, 3)])
            self._task = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_task()
        self._task = (task.get_name(), time.monotonic())

    def _count(self, result):
        action = result._task.action
        if not action.startswith("oci.registry."):
            return
        # A loop runs the module once per item.
        items = result._result.get("results")
        runs = len(items) if isinstance(items, list) else 1
        self.counts[action] = self.counts.get(action, 0) + runs

    def v2_runner_on_ok(self, result):
        self._count(result)
        path = os.environ.get("SUMMARY_FILE")
        if path and result._task.get_name() == "Report summary":
            with open(path, "w") as out:
                json.dump(result._result.get("msg"), out)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        times = os.environ.get("TASK_TIMES_FILE")
        if times:
            with open(times, "w") as out:
                json.dump(self.task_times, out)
        path = os.environ.get("COUNT_MODULES_FILE")
        if path:
            with open(path, "w") as out:
                json.dump(self.counts, out)
