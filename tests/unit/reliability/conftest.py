# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the reliability tests: the fault proxy and a ledger of faults.

Every fault test declares what it expects (``faults.expect("survive")`` or
``faults.expect("fail_clean")``). At the end of the test its injected faults go to
one bucket: survived / failed cleanly when the test passed, lost when it did not
(a fault that left something half-written, or an error that is not clean). Known
client bugs are marked ``xfail(strict=True)`` and count as lost too, in their own
``known_bugs`` list. The session prints the totals and writes
tests/output/reliability-faults.json.
"""

from __future__ import annotations

import uuid

import pytest

from ansible_collections.oci.registry.tests.unit.reliability.reliability_helpers import (
    Faults,
    dump_worker,
    merge_workers,
    write_summary,
)

RUN_ID = uuid.uuid4().hex[:12]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.reliability_call_report = report


@pytest.fixture
def faults(registries, request):
    tracker = Faults(registries, request)
    yield tracker
    tracker.close()
    tracker.settle()


# pytest-xdist (ansible-test runs units with -n auto): workers hand their ledgers to the controller.
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput["reliability_run_id"] = RUN_ID


def pytest_sessionfinish(session):
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is not None and "reliability_run_id" in workerinput:
        dump_worker(workerinput["reliability_run_id"], workerinput.get("workerid", "gw"))


def pytest_terminal_summary(terminalreporter):
    if getattr(terminalreporter.config, "workerinput", None) is None:
        merge_workers(RUN_ID)
    write_summary(terminalreporter)
