# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One private registry in a directory, which a test may stop, reconfigure and restart.

The shared registries of launcher.py must never be restarted by one test (others use them), so a
test of something that restarts a registry (the registry_gc role) runs its own through this file.
Standalone on purpose: stdlib only and no package imports, so `python3 standalone.py` works as the
start/stop command of a role, and its code does not change the launcher's harness version.

    python3 standalone.py init DIR    # DIR/config.yml (with comments), DIR/data; prints DIR/registry.json
    python3 standalone.py start DIR   # serve in the background, wait for /v2/; no-op if running
    python3 standalone.py stop DIR    # stop it and wait until it is gone; no-op if stopped
"""

from __future__ import absolute_import, division, print_function

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

BINARY = "docker-registry"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

# Comments and layout a YAML dump would lose: the role must restore this file byte for byte.
CONFIG_TEMPLATE = """\
# registry_gc test registry: comments and layout must survive a garbage collection.
version: 0.1
log:
  level: warn   # keep the log short
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {data}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: standalone-test-secret
"""


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _paths(directory):
    directory = os.path.abspath(directory)
    return {"dir": directory, "config": os.path.join(directory, "config.yml"), "data": os.path.join(directory, "data"),
            "pid": os.path.join(directory, "registry.pid"), "log": os.path.join(directory, "registry.log")}


def _port(paths):
    with open(paths["config"], encoding="utf-8") as handle:
        match = re.search(r"^\s*addr:\s*\S*:(\d+)\s*$", handle.read(), re.M)
    return int(match.group(1))


def _start_time(pid):
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _running(paths):
    """The PID of our registry if it still runs (start time guards against PID reuse), else None."""
    try:
        with open(paths["pid"], encoding="ascii") as handle:
            pid, start_time = handle.read().split()
    except (OSError, ValueError):
        return None
    return int(pid) if _start_time(int(pid)) == start_time else None


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):  # nosec - our own 127.0.0.1 URL
            return True
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def init(directory):
    paths = _paths(directory)
    os.makedirs(paths["data"], mode=0o700, exist_ok=True)
    port = _free_port()
    with open(paths["config"], "w", encoding="utf-8") as handle:
        handle.write(CONFIG_TEMPLATE.format(data=paths["data"], port=port))
    info = {"config": paths["config"], "data": paths["data"], "port": port,
            "url": "http://127.0.0.1:%d" % port, "host": "127.0.0.1:%d" % port}
    with open(os.path.join(paths["dir"], "registry.json"), "w", encoding="utf-8") as handle:
        json.dump(info, handle, sort_keys=True)
    return info


def start(directory):
    paths = _paths(directory)
    url = "http://127.0.0.1:%d/v2/" % _port(paths)
    if _running(paths) is None:
        with open(paths["log"], "ab") as log:
            process = subprocess.Popen([BINARY, "serve", paths["config"]], stdin=subprocess.DEVNULL, stdout=log,  # pylint: disable=consider-using-with
                                       stderr=subprocess.STDOUT, cwd=paths["dir"], start_new_session=True, close_fds=True)
        start_time = None
        while start_time is None and process.poll() is None:
            start_time = _start_time(process.pid)
        with open(paths["pid"], "w", encoding="ascii") as handle:
            handle.write("%d %s\n" % (process.pid, start_time))
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if _answers(url):
            return 0
        if _running(paths) is None:
            break
        time.sleep(0.1)
    with open(paths["log"], encoding="utf-8", errors="replace") as handle:
        sys.stderr.write("registry did not answer at %s; log tail:\n%s" % (url, "".join(handle.readlines()[-20:])))
    return 1


def stop(directory):
    paths = _paths(directory)
    pid = _running(paths)
    if pid is not None:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _start_time(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if _start_time(pid) is not None:
            os.killpg(pid, signal.SIGKILL)
            while _start_time(pid) is not None:
                time.sleep(0.05)
    if os.path.exists(paths["pid"]):
        os.unlink(paths["pid"])
    return 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("init", "start", "stop"):
        sys.stderr.write("usage: standalone.py {init|start|stop} DIR\n")
        return 2
    if argv[1] == "init":
        json.dump(init(argv[2]), sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    return start(argv[2]) if argv[1] == "start" else stop(argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
