# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print the docs examples' summary (how many ran, how many were only syntax-checked) after the run.

The test writes tests/output/docs-examples.json. Under pytest-xdist (ansible-test runs units with
-n auto) a worker's output is never shown, but the controller loads this conftest (ansible-test
names every test file), so the controller prints the summary a worker wrote during this session.
"""

from __future__ import annotations

import json
import os
import time

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "output", "docs-examples.json")
STARTED = []


def pytest_configure(config):
    STARTED.append(time.time())


def pytest_terminal_summary(terminalreporter):
    try:
        if os.path.getmtime(OUTPUT) < STARTED[0]:
            return
        with open(OUTPUT) as handle:
            line = json.load(handle)["summary"]
    except (OSError, ValueError, KeyError, IndexError):
        return
    terminalreporter.write_line(line)
