"""Where the cleanup role spends its time: one seeded registry kept between runs, phase by phase.

Not part of make bench; a tool for working on the role's speed. The registry set lives in
``--state-dir`` and stays up until ``stop``, so runs can be repeated without seeding again:

    profile_cleanup.py seed --repositories 1000 --big-images 200   # start and seed (again: re-tag)
    profile_cleanup.py floor --real                                # plain requests
    profile_cleanup.py role --real                                 # the role, seconds per task
    profile_cleanup.py inproc --real --cprofile 25                 # the module_utils phases in this process
    profile_cleanup.py inproc --real --one-run                     # what the role's one module run does
    profile_cleanup.py inproc --one-run --serial --cprofile 40     # client CPU per request, workers included
    profile_cleanup.py ab --before /tmp/before --rounds 5      # interleaved A/B of two checkouts, medians
    profile_cleanup.py stop

A real run (``--real``) deletes: seed again before the next one. ``inproc`` runs what the role's
modules and filters run (bulk read, plan, bulk apply, report) without Ansible, so the difference to
``role`` is what Ansible adds (process start-up, argument and result passing, templating).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import shutil
import sys
import tempfile
import time

from ansible_collections.oci.registry.benchmarks.cleanup import bench_cleanup as bench
from ansible_collections.oci.registry.plugins.module_utils import _cleanup
from ansible_collections.oci.registry.plugins.module_utils._bulk_delete import apply
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._inventory import read_repositories
from ansible_collections.oci.registry.plugins.module_utils._retention import cleanup_report, plan_repositories
from ansible_collections.oci.registry.tests.registries import launcher

DEFAULT_STATE_DIR = os.path.join(tempfile.gettempdir(), "oci-registry-cleanup-profile")


def _env(options):
    return launcher.ensure_started(state_dir=options.state_dir)


def seed(options):
    env = _env(options)
    marker = os.path.join(options.state_dir, "bench-seeded.json")
    first = not os.path.exists(marker)
    runner = bench.Seed(env, options.repositories, options.big_images)
    if not first:
        # Blobs are there: tagging the (deterministic) manifests again is enough.
        runner.big = runner._big_manifests()  # pylint: disable=protected-access
    runner.run(first=first)
    with open(marker, "w") as out:
        json.dump({"repositories": options.repositories, "big_images": options.big_images}, out)


def floor(options):
    url = _env(options)["registries"]["plain"]["url"]
    runner = bench.Floor(url, options.concurrency)
    seconds, planned = runner.run(real=options.real)
    print("floor %s: %.2f s (%.2f s CPU, %d requests), %d manifests %s" % (
        "real" if options.real else "dry", seconds, runner.cpu, runner.requests, planned,
        "deleted" if options.real else "to delete"))


def role(options):
    url = _env(options)["registries"]["plain"]["url"]
    workdir = tempfile.mkdtemp(prefix="oci-registry-cleanup-profile-run-")
    try:
        seconds, rss, modules, summary = bench.run_role(url, not options.real, options.concurrency, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("role %s: %.2f s (%.2f s CPU), peak RSS %.0f MiB, module runs %s, deleted %d" % (
        "real" if options.real else "dry", seconds, summary["cpu"], rss, json.dumps(modules),
        summary["deleted_manifests"]))
    for name, task_seconds in summary["tasks"]:
        print("  %6.2f s  %s" % (task_seconds, name))


class _InCallingThread(object):
    """A ThreadPoolExecutor stand-in that runs every item in the calling thread (``--serial``)."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    @staticmethod
    def map(fn, items):
        return [fn(item) for item in items]


def inproc(options):
    url = _env(options)["registries"]["plain"]["url"]
    if options.serial:
        # cProfile sees only the thread that enabled it (and Python 3.12+ allows one profiler at a
        # time), so the workers' requests are profiled by running them in this thread.
        _cleanup.ThreadPoolExecutor = _InCallingThread
    client = RegistryClient(url)
    profiler = cProfile.Profile() if options.cprofile else None
    phases = []
    sent = []
    send = client.transport.request

    def counting(method, *args, **kwargs):
        sent.append(method)
        return send(method, *args, **kwargs)

    client.transport.request = counting

    def phase(name, fn):
        del sent[:]
        started = time.monotonic()
        cpu = time.process_time()
        if profiler is not None:
            profiler.enable()
        try:
            return fn()
        finally:
            if profiler is not None:
                profiler.disable()
            phases.append((name, time.monotonic() - started, time.process_time() - cpu,
                           ", ".join("%s %d" % (method, sent.count(method)) for method in sorted(set(sent)))))

    if options.one_run:
        retention = {"repository_pattern": bench.PATTERN, "mode": "delete", "dry_run": not options.real}
        outcome = phase("one run", lambda: _cleanup.clean(client, retention, concurrency=options.concurrency))
        client.close()
        for name, wall, cpu, requests in phases:
            print("%-10s %6.2f s wall %6.2f s CPU  %s" % (name, wall, cpu, requests))
        print("deleted %d manifests" % outcome.result["report"]["deleted_manifests"])
        _print_profile(profiler, options)
        return
    regex = re.compile(bench.PATTERN)
    names = phase("catalog", lambda: [name for name in client.catalog.iter_catalog() if regex.search(name)])
    # What registry_delete's retention reads: the compact graph.
    inventory = phase("bulk read", lambda: read_repositories(client, names, options.concurrency, compact=True))
    plan = phase("plan", lambda: plan_repositories(inventory, mode="delete"))
    applied = None
    if options.real:
        reports = phase("bulk apply", lambda: apply(client, plan["apply"], concurrency=options.concurrency))[0]
        applied = {"repositories": reports}
    report = phase("report", lambda: cleanup_report(plan, applied, mode="delete", dry_run=not options.real))
    client.close()
    for name, wall, cpu, requests in phases:
        print("%-10s %6.2f s wall %6.2f s CPU  %s" % (name, wall, cpu, requests))
    print("deleted %d manifests" % report["deleted_manifests"])
    _print_profile(profiler, options)


def _print_profile(profiler, options):
    if profiler is not None:
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(options.cprofile)


def ab(options):
    """Floor, the role of ``--before`` (a collections path) and this checkout's role, interleaved round by round
    (the order rotates, so a load change on a shared machine hits each the same), dry then real; medians."""
    if not options.before:
        raise SystemExit("ab needs --before, a directory holding ansible_collections/oci/registry")
    env = _env(options)
    url = env["registries"]["plain"]["url"]
    runner = bench.Seed(env, options.repositories, options.big_images)
    runner.big = runner._big_manifests()  # pylint: disable=protected-access
    contenders = [("floor", None), ("before", options.before), ("after", os.environ.get("ANSIBLE_COLLECTIONS_PATH"))]
    for real in (False, True):
        samples = dict((name, []) for name, dummy in contenders)
        for round_number in range(options.rounds):
            shift = round_number % len(contenders)
            for name, path in contenders[shift:] + contenders[:shift]:
                if real:
                    runner.run(first=False)
                if name == "floor":
                    floor_runner = bench.Floor(url, options.concurrency)
                    seconds, dummy = floor_runner.run(real=real)
                    samples[name].append((seconds, floor_runner.cpu))
                    continue
                workdir = tempfile.mkdtemp(prefix="oci-registry-cleanup-profile-run-")
                try:
                    seconds, rss, dummy, summary = bench.run_role(url, not real, options.concurrency, workdir, path)
                finally:
                    shutil.rmtree(workdir, ignore_errors=True)
                samples[name].append((seconds, summary["cpu"], rss))
            print("round %d %s: %s" % (round_number + 1, "real" if real else "dry", "; ".join(
                "%s %.1f s (%.1f s CPU)" % (name, samples[name][-1][0], samples[name][-1][1])
                for name, dummy in contenders)), flush=True)
        floor_median = _median([item[0] for item in samples["floor"]])
        for name, dummy in contenders:
            wall = _median([item[0] for item in samples[name]])
            print("%s %-6s median %6.2f s wall, %6.2f s CPU, ratio to floor %.2f%s" % (
                "real" if real else "dry", name, wall, _median([item[1] for item in samples[name]]),
                wall / floor_median, "" if name == "floor" else ", peak RSS %.0f MiB" % max(
                    item[2] for item in samples[name])), flush=True)
    runner.run(first=False)


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0


def stop(options):
    launcher.stop(state_dir=options.state_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("seed", "floor", "role", "inproc", "ab", "stop"))
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR)
    parser.add_argument("--repositories", type=int, default=1000)
    parser.add_argument("--big-images", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--real", action="store_true", help="delete (seed again afterwards)")
    parser.add_argument("--one-run", action="store_true",
                        help="inproc: what registry_delete's retention runs (read, plan, apply by repository)")
    parser.add_argument("--serial", action="store_true",
                        help="inproc --one-run: every request in the calling thread, so --cprofile sees them all")
    parser.add_argument("--before", help="ab: collections path of the checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="ab: rounds")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the N costliest functions")
    options = parser.parse_args()
    globals()[options.command](options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
