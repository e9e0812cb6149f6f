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

import pytest

from ansible_collections.oci.registry.tests.unit.reliability.reliability_helpers import (
    Faults,
    finish_worker,
    flush,
    run_key,
    write_summary,
)


def pytest_configure(config):
    run_key(config)


@pytest.fixture(autouse=True)
def _reliability_journal():
    """After each test (and its fixtures' teardown): its counts go to the run's journal."""
    yield
    flush()


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


# pytest-xdist (ansible-test runs units with -n auto): the controller never loads this conftest
# (it collects nothing), so each worker leaves its ledger and the last one to finish merges them
# into tests/output/reliability-faults.json.
def pytest_sessionfinish(session):
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is not None:
        finish_worker(workerinput.get("workerid", "gw"), int(workerinput.get("workercount", 1)))


def pytest_terminal_summary(terminalreporter):
    write_summary(terminalreporter)
