# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared state and checks of the reliability tests (imported by conftest.py and the tests by full path,
so there is one ledger whatever way pytest imports conftest)."""

from __future__ import annotations

import json
import os
import time

from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
REPORT_PATH = os.path.join(COLLECTION_ROOT, "tests", "output", "reliability-faults.json")

LEDGER = {
    "faults_injected": 0,
    "faults_survived": 0,
    "faults_failed_cleanly": 0,
    "faults_lost": 0,
    "scenarios": {"survived": 0, "failed_cleanly": 0, "lost": 0},
    "lost": [],
    "known_bugs": [],
    "bad_inputs_tried": 0,
    "secrets_found": None,
    "secrets_searched_kib": None,
}


def count_bad_inputs(number=1):
    """Property and hostile-response tests add how many inputs they threw at the parsers."""
    LEDGER["bad_inputs_tried"] += number


class Faults(object):
    """Per-test: starts fault proxies and knows what the test expects of them."""

    def __init__(self, env, request):
        self.env = env
        self.request = request
        self.proxies = []
        self.expectation = None

    def proxy(self, variant="plain"):
        proxy = FaultProxy(self.env["registries"][variant]["url"])
        self.proxies.append(proxy)
        return proxy

    def expect(self, outcome):
        assert outcome in ("survive", "fail_clean")
        self.expectation = outcome

    @property
    def injected(self):
        return sum(proxy.injected_total for proxy in self.proxies)

    def close(self):
        for proxy in self.proxies:
            proxy.close()

    def settle(self):
        report = getattr(self.request.node, "reliability_call_report", None)
        injected = self.injected
        if self.expectation is None or report is None:
            return
        LEDGER["faults_injected"] += injected
        name = self.request.node.nodeid
        if report.passed:
            key = "survived" if self.expectation == "survive" else "failed_cleanly"
            LEDGER["faults_" + key] += injected
            LEDGER["scenarios"][key] += 1
        else:
            LEDGER["faults_lost"] += injected
            LEDGER["scenarios"]["lost"] += 1
            if hasattr(report, "wasxfail"):
                LEDGER["known_bugs"].append({"test": name, "reason": report.wasxfail})
            else:
                LEDGER["lost"].append(name)


COUNTERS = ("faults_injected", "faults_survived", "faults_failed_cleanly", "faults_lost", "bad_inputs_tried")


def _merge(other):
    for key in COUNTERS:
        LEDGER[key] += other[key]
    for key in LEDGER["scenarios"]:
        LEDGER["scenarios"][key] += other["scenarios"][key]
    LEDGER["lost"] += other["lost"]
    LEDGER["known_bugs"] += other["known_bugs"]
    for key in ("secrets_found", "secrets_searched_kib"):
        if other.get(key) is not None:
            LEDGER[key] = (LEDGER[key] or 0) + other[key]


def _reset():
    for key in COUNTERS:
        LEDGER[key] = 0
    LEDGER["scenarios"] = dict.fromkeys(LEDGER["scenarios"], 0)
    LEDGER["lost"], LEDGER["known_bugs"] = [], []
    LEDGER["secrets_found"] = LEDGER["secrets_searched_kib"] = None


# ansible-test runs every test in a forked child (ansible_forked) and in xdist workers, so the
# in-memory ledger of one process sees little: each test appends its part to a journal shared by
# the run, and whoever finishes the run sums it.
RUN_ENV = "OCI_REGISTRY_RELIABILITY_RUN"


def run_key(config):
    """Same for every process of one pytest run: the xdist controller's pid, or pytest's own."""
    if RUN_ENV not in os.environ:
        workerinput = getattr(config, "workerinput", None)
        os.environ[RUN_ENV] = str(os.getppid() if workerinput is not None else os.getpid())
    return os.environ[RUN_ENV]


def _journal():
    return os.path.join(os.path.dirname(REPORT_PATH), "reliability-journal-%s.jsonl" % os.environ.get(RUN_ENV, "0"))


def flush():
    """Append what this process counted since the last flush to the run's journal."""
    if not (any(LEDGER[key] for key in COUNTERS) or any(LEDGER["scenarios"].values()) or LEDGER["lost"]
            or LEDGER["known_bugs"] or LEDGER["secrets_found"] is not None):
        return
    os.makedirs(os.path.dirname(REPORT_PATH), exist_ok=True)
    line = (json.dumps(LEDGER) + "\n").encode("utf-8")
    handle = os.open(_journal(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(handle, line)
    finally:
        os.close(handle)
    _reset()


def collect():
    """Sum the run's journal into LEDGER (and remove it)."""
    _reset()
    path = _journal()
    if os.path.exists(path):
        with open(path) as handle:
            for line in handle:
                if line.strip():
                    _merge(json.loads(line))
        os.unlink(path)


def finish_worker(worker, workers):
    """xdist worker: the last worker of the run to finish sums the journal and writes the report."""
    import fcntl

    flush()
    directory = os.path.dirname(REPORT_PATH)
    os.makedirs(directory, exist_ok=True)
    prefix = "reliability-%s-" % os.environ.get(RUN_ENV, "0")
    lock_path = os.path.join(directory, prefix + "lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        open(os.path.join(directory, prefix + "done-" + worker), "w").close()
        done = [name for name in os.listdir(directory) if name.startswith(prefix + "done-")]
        if len(done) < workers:
            return
        for name in done:
            os.unlink(os.path.join(directory, name))
        collect()
        write_report()
    os.unlink(lock_path)


def write_report():
    os.makedirs(os.path.dirname(REPORT_PATH), exist_ok=True)
    with open(REPORT_PATH, "w") as handle:
        json.dump(dict(LEDGER, written_at=time.strftime("%Y-%m-%dT%H:%M:%S")), handle, indent=2, sort_keys=True)


RUN_START = time.time()


def write_summary(terminalreporter):
    if getattr(terminalreporter.config, "workerinput", None) is not None:
        return  # an xdist worker: the last one to finish wrote the report (finish_worker)
    flush()
    collect()
    if not any(LEDGER[key] for key in COUNTERS) and os.path.exists(REPORT_PATH) \
            and os.path.getmtime(REPORT_PATH) >= RUN_START:
        # xdist controller: print what the workers wrote.
        with open(REPORT_PATH) as handle:
            _merge(json.load(handle))
    if not (LEDGER["faults_injected"] or LEDGER["bad_inputs_tried"] or LEDGER["secrets_found"] is not None):
        return
    write = terminalreporter.write_line
    terminalreporter.section("oci.registry reliability")
    write("faults injected: %(faults_injected)d, survived: %(faults_survived)d, failed cleanly: "
          "%(faults_failed_cleanly)d, lost: %(faults_lost)d" % LEDGER)
    write("fault scenarios: survived %(survived)d, failed cleanly %(failed_cleanly)d, lost %(lost)d"
          % LEDGER["scenarios"])
    write("bad inputs tried: %d" % LEDGER["bad_inputs_tried"])
    if LEDGER["secrets_found"] is not None:
        write("secrets found: %(secrets_found)d (in %(secrets_searched_kib)d KiB of -vvv output and results)" % LEDGER)
    for name in LEDGER["lost"]:
        write("LOST: %s" % name)
    for bug in LEDGER["known_bugs"]:
        write("known bug (xfail): %s: %s" % (bug["test"], bug["reason"]))
    try:
        write_report()
        write("written to %s" % REPORT_PATH)
    except OSError as exc:
        write("could not write %s: %s" % (REPORT_PATH, exc))


# --------------------------------------------------------------------------- cleanliness checks

def uploads_dir(env, variant, repository):
    return os.path.join(env["state_dir"], "registries", variant, "data", "docker", "registry", "v2", "repositories",
                        repository, "_uploads")


def leftover_uploads(env, variant, repository):
    """Upload sessions the registry still holds open for ``repository``.

    A live session is ``_uploads/<uuid>/`` with its ``startedat`` and ``data`` files. distribution 2.8
    deletes those on DELETE (cancel) and when the upload completes, but leaves an empty
    ``hashstates/`` behind on cancel: that is not a session (its URL answers 404
    BLOB_UPLOAD_UNKNOWN), so it does not count.
    """
    path = uploads_dir(env, variant, repository)
    if not os.path.isdir(path):
        return []
    return sorted(name for name in os.listdir(path)
                  if os.path.exists(os.path.join(path, name, "startedat"))
                  or os.path.exists(os.path.join(path, name, "data")))


def manifest_status(env, variant, repository, reference):
    """HTTP status of a HEAD on the real registry (behind no proxy): 200 or 404."""
    import requests

    url = "%s/v2/%s/manifests/%s" % (env["registries"][variant]["url"], repository, reference)
    with requests.Session() as session:
        session.trust_env = False
        return session.head(url, headers={"Accept": ",".join((
            "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json"))}, timeout=30).status_code


def blob_status(env, variant, repository, digest):
    import requests

    url = "%s/v2/%s/blobs/%s" % (env["registries"][variant]["url"], repository, digest)
    with requests.Session() as session:
        session.trust_env = False
        return session.head(url, timeout=30).status_code


def assert_one_line(err):
    text = str(err)
    assert text.strip(), "empty error message"
    assert "\n" not in text, "multi-line error message: %r" % text
    assert "Traceback" not in text
    return text
