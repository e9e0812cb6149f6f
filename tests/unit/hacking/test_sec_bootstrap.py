"""hacking/bootstrap.sh prints the ansible version without breaking ansible's pipe (issue 11 item 9)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# Stands in for ansible --version: many lines, and it fails loudly on a closed pipe as ansible does.
FAKE_ANSIBLE = """#!%s
import sys
try:
    sys.stdout.write("ansible [core 9.9.9]\\n")
    for number in range(200000):
        sys.stdout.write("  config line %%d\\n" %% number)
    sys.stdout.flush()
except BrokenPipeError:
    sys.stderr.write("ERROR! Unexpected Exception, this is probably a bug: [Errno 32] Broken pipe\\n")
    sys.exit(250)
"""


def _ready_lines():
    with open(os.path.join(ROOT, "hacking", "bootstrap.sh"), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    start = max(index for index, line in enumerate(lines) if "--version" in line and "ansible" in line)
    end = next(index for index in range(start, len(lines)) if "bootstrap: ready" in lines[index])
    return "\n".join(lines[start:end + 1])


def test_version_line_without_broken_pipe(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "ansible"
    fake.write_text(FAKE_ANSIBLE % sys.executable)
    fake.chmod(0o755)
    script = "set -euo pipefail\nvenv=%s\n%s\n" % (venv, _ready_lines())
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Broken pipe" not in done.stderr
    assert done.stdout.strip() == "bootstrap: ready (ansible [core 9.9.9])"
    assert not re.search(r"ansible\"? --version \| head", _ready_lines())
