"""Cleanup benchmark (issue 13): the cleanup role against a floor of plain Python requests.

Run through benchmarks/run.sh (make bench). Own registry set in a temporary state dir (started and
stopped here). Seeds ``--repositories`` repositories (2 images, 3 tags each: latest on the new image,
1.0 and 0.9 on the old one) and one repository with ``--big-images`` images (one tag each, latest on
the newest), with concurrent raw requests (blob mounts, manifest PUTs).

Floor: requests with the same concurrency, making the requests a retention plan needs (catalog, tag
lists, manifest GETs, config GETs) and, for the real run, the manifest DELETEs. Ours: ansible-playbook
running the cleanup role (cleanup_mode=delete, default keep pattern), dry run then real run. After a
warm-up, floor and role run alternately ``--rounds`` times and the best of each counts (the machine
may be shared). Prints module runs per role run, wall and CPU time against the floor, the peak RSS
of any process of the role run, and the role's slowest tasks; writes benchmarks/results/cleanup.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

from ansible_collections.oci.registry.tests.registries import images, launcher
from ansible_collections.oci.registry.tests.registries.rawpush import RawRegistry

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RESULTS = os.path.join(ROOT, "benchmarks", "results", "cleanup.md")
SEED_WORKERS = 16
PATTERN = "^bench/(small-|big$)"
ACCEPT = ", ".join(["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.docker.distribution.manifest.v2+json"])
TARGET_RATIO = 1.5
RSS_LIMIT_MB = 300


def log(message):
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- seeding

class Seed:
    def __init__(self, env, repositories, big_images):
        self.env = env
        self.names = ["bench/small-%05d" % number for number in range(repositories)]
        self.big_images = big_images
        self.local = threading.local()
        workdir = tempfile.mkdtemp(prefix="oci-registry-bench-layout-")
        try:
            layout = images.OCILayout(workdir)
            layer = [images.deterministic_bytes("bench/layer", 2048)]
            self.new = images.build_image(layout, layer_contents=layer, seed="bench/new", created="2024-05-01T00:00:00Z")
            self.old = images.build_image(layout, layer_contents=layer, seed="bench/old", created="2024-01-01T00:00:00Z")
            images.push_layout_raw(env, "plain", workdir, [self.new, self.old], "bench/source", ["new"])
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self.big = []  # (tag, raw, media type) of the big repository

    def registry(self):
        if not hasattr(self.local, "registry"):
            self.local.registry = RawRegistry(self.env, "plain")
        return self.local.registry

    def _small(self, name, mount):
        registry = self.registry()
        if mount:
            for digest in sorted(set(self.new.blob_digests + self.old.blob_digests)):
                registry.mount_blob(name, digest, "bench/source")
        registry.put_manifest(name, "latest", self.new.raw, self.new.media_type)
        registry.put_manifest(name, "1.0", self.old.raw, self.old.media_type)
        registry.put_manifest(name, "0.9", self.old.raw, self.old.media_type)

    def _big_manifests(self):
        layer = self.new.layers[0]
        config_base = json.loads(images.canonical_json({"architecture": "amd64", "os": "linux",
                                                        "rootfs": {"type": "layers", "diff_ids": []}}))
        result = []
        for number in range(self.big_images):
            config = dict(config_base, created="2023-01-01T00:%02d:%02dZ" % (number // 60 % 60, number % 60),
                          history=[{"created_by": "bench image %d" % number}])
            config_raw = images.canonical_json(config)
            manifest = {"schemaVersion": 2, "mediaType": images.OCI_MANIFEST,
                        "config": images.descriptor(images.OCI_CONFIG, images.sha256_digest(config_raw), len(config_raw)),
                        "layers": [layer]}
            result.append(("b-%05d" % number, config_raw, images.canonical_json(manifest)))
        return result

    def _big_one(self, item, upload):
        tag, config_raw, raw = item
        registry = self.registry()
        if upload:
            registry.push_blob("bench/big", config_raw)
        registry.put_manifest("bench/big", tag, raw, images.OCI_MANIFEST)

    def run(self, first=True):
        started = time.monotonic()
        if first:
            self.registry().mount_blob("bench/big", self.new.layers[0]["digest"], "bench/source")
            self.big = self._big_manifests()
        with ThreadPoolExecutor(SEED_WORKERS) as pool:
            list(pool.map(lambda name: self._small(name, first), self.names))
            list(pool.map(lambda item: self._big_one(item, first), self.big))
        if self.big:
            self.registry().put_manifest("bench/big", "latest", self.big[-1][2], images.OCI_MANIFEST)
        seconds = time.monotonic() - started
        log("seeded %d repositories and %d images in bench/big in %.1fs" % (len(self.names), len(self.big), seconds))
        return seconds


# --------------------------------------------------------------------------- floor

class Floor:
    """The requests a retention plan needs, with plain requests and the same concurrency."""

    def __init__(self, url, concurrency):
        self.url = url
        self.concurrency = concurrency
        self.session = requests.Session()
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=concurrency * 2)
        self.session.mount("http://", adapter)
        self.requests = 0
        self.cpu = 0.0

    def get(self, path, **kwargs):
        self.requests += 1
        response = self.session.get(self.url + path, timeout=60, **kwargs)
        response.raise_for_status()
        return response

    def catalog(self):
        names = []
        path = "/v2/_catalog?n=1000"
        while path:
            response = self.get(path)
            names.extend(response.json().get("repositories") or [])
            link = response.headers.get("Link")
            target = urllib.parse.urlsplit(link.split(";")[0].strip("<> ")) if link else None
            path = "%s?%s" % (target.path, target.query) if target else None
        return names

    def run(self, real):
        """(wall seconds, manifests to delete); the CPU seconds of this process go to ``self.cpu``."""
        started = time.monotonic()
        cpu = time.process_time()
        regex = re.compile(PATTERN)
        names = [name for name in self.catalog() if regex.search(name)]
        with ThreadPoolExecutor(self.concurrency) as pool:
            tags = dict(zip(names, pool.map(lambda n: self.get("/v2/%s/tags/list" % n).json().get("tags") or [],
                                            names)))
            pairs = [(name, tag) for name in names for tag in tags[name]]

            def manifest(pair):
                response = self.get("/v2/%s/manifests/%s" % pair, headers={"Accept": ACCEPT})
                return pair, response.headers["Docker-Content-Digest"], response.json()

            read = list(pool.map(manifest, pairs))
            configs = set()
            digests = {}
            for (name, tag), digest, body in read:
                digests.setdefault(name, {})[tag] = digest
                if body.get("config"):
                    configs.add((name, body["config"]["digest"]))
            list(pool.map(lambda item: self.get("/v2/%s/blobs/%s" % item).content, sorted(configs)))
            deletes = []
            for name, by_tag in digests.items():
                kept = set(digest for tag, digest in by_tag.items() if tag == "latest")
                deletes.extend((name, digest) for digest in sorted(set(by_tag.values()) - kept))
            if real:
                def delete(item):
                    self.requests += 1
                    response = self.session.delete(self.url + "/v2/%s/manifests/%s" % item, timeout=60)
                    response.raise_for_status()
                list(pool.map(delete, deletes))
        self.cpu = time.process_time() - cpu
        return time.monotonic() - started, len(deletes)


# --------------------------------------------------------------------------- ours

def run_role(url, dry_run, concurrency, workdir, collections_path=None):
    counts = os.path.join(workdir, "counts.json")
    report = os.path.join(workdir, "report.json")
    timing = os.path.join(workdir, "time.txt")
    task_times = os.path.join(workdir, "tasks.json")
    env = dict(os.environ, ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="count_modules", COUNT_MODULES_FILE=counts, TASK_TIMES_FILE=task_times,
               SUMMARY_FILE=report,
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    if collections_path:
        env["ANSIBLE_COLLECTIONS_PATH"] = collections_path
    argv = ["/usr/bin/time", "-f", "%M %U %S", "-o", timing, "ansible-playbook", "-i", "localhost,",
            os.path.join(HERE, "cleanup.yml"), "-e", json.dumps({
                "bench_registry_url": url, "bench_pattern": PATTERN, "bench_dry_run": dry_run,
                "bench_concurrency": concurrency,
                "ansible_python_interpreter": sys.executable})]
    started = time.monotonic()
    process = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if process.returncode != 0:
        log(process.stdout[-3000:] + process.stderr[-3000:])
        raise SystemExit("the cleanup role failed")
    with open(timing) as handle:
        rss_kib, user, system = handle.read().split()[-3:]
    with open(counts) as handle:
        modules = json.load(handle)
    with open(report) as handle:
        summary = json.load(handle)
    with open(task_times) as handle:
        summary["tasks"] = [(name, seconds) for name, seconds in json.load(handle) if seconds >= 0.5]
    # CPU of ansible-playbook, its workers and the module processes (not the registry's).
    summary["cpu"] = float(user) + float(system)
    return seconds, int(rss_kib) / 1024.0, modules, summary


def load():
    with open("/proc/loadavg") as handle:
        return handle.read().split()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=5000)
    parser.add_argument("--big-images", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2,
                        help="floor and role run alternately this many times; the best of each counts")
    parser.add_argument("--collections-path", help="run the role of another checkout (a before measurement)")
    options = parser.parse_args()
    state_dir = tempfile.mkdtemp(prefix="oci-registry-cleanup-")
    workdir = tempfile.mkdtemp(prefix="oci-registry-cleanup-run-")
    rows = []
    loads = [load()]
    try:
        env = launcher.ensure_started(state_dir=state_dir)
        url = env["registries"]["plain"]["url"]
        seed = Seed(env, options.repositories, options.big_images)
        seed_seconds = seed.run()
        floor = Floor(url, options.concurrency)
        # Warm-up (registry and page caches, not counted), then floor and role alternately so that
        # a load change on a shared machine hits both.
        planned = floor.run(real=False)[1]
        for dry_run in (True, False):
            floors = []
            ours = []
            for round_number in range(options.rounds):
                floor_s, deleted = floor.run(real=not dry_run)
                floors.append((floor_s, floor.cpu))
                if not dry_run:
                    seed.run(first=False)
                ours.append(run_role(url, dry_run, options.concurrency, workdir, options.collections_path))
                if not dry_run and round_number < options.rounds - 1:
                    seed.run(first=False)
                loads.append(load())
            best_floor = min(floors)
            best = min(ours, key=lambda item: item[0])
            samples = "floor %s; role %s" % (", ".join("%.1f" % f for f, dummy in floors),
                                             ", ".join("%.1f" % o[0] for o in ours))
            rows.append(("dry run" if dry_run else "real run", best_floor, best, samples))
        leftover = Floor(url, options.concurrency).run(real=False)[1]
    finally:
        launcher.stop(state_dir=state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    ok = leftover == 0 and all(row[2][3]["deleted_manifests"] == planned == deleted for row in rows)
    lines = ["| run | floor s | ours s | ratio (target <= %.1f) | CPU s floor / ours | peak RSS MiB (target < %d) "
             "| module runs | deleted | samples s |" % (TARGET_RATIO, RSS_LIMIT_MB),
             "|---|---|---|---|---|---|---|---|---|"]
    for name, (floor_s, floor_cpu), (ours_s, rss, modules, summary), samples in rows:
        lines.append("| %s | %.1f | %.1f | %.2f | %.1f / %.1f | %.0f | %d (%s) | %d | %s |" % (
            name, floor_s, ours_s, ours_s / floor_s, floor_cpu, summary["cpu"], rss, sum(modules.values()),
            ", ".join("%s %d" % (k.split(".")[-1], v) for k, v in sorted(modules.items())),
            summary["deleted_manifests"], samples))
    lines.append("")
    for name, dummy, (ours_s, rss, modules, summary), samples in rows:
        lines.append("Best role %s, tasks over 0.5 s: %s." % (name, "; ".join(
            "%s %.1f s" % (task.split(" : ")[-1], seconds) for task, seconds in summary["tasks"])))
    text = "\n".join(lines)
    header = ("# Cleanup benchmark\n\n%s, Python %s, %d CPUs, load average %s; distribution registry (plain HTTP) "
              "on 127.0.0.1. %d repositories (2 images, 3 tags each) and one with %d images; concurrency %d; "
              "seeding %.1f s. Floor: plain requests (catalog, tag lists, manifest and config GETs; DELETEs in the "
              "real run). Best of %d alternating runs each; CPU is the client side only (the role: ansible-playbook, "
              "its workers and modules). After the real runs the registry has %d manifests left to delete (must "
              "be 0).\n\n"
              % (platform.platform(), platform.python_version(), os.cpu_count() or 0, " to ".join(loads),
                 options.repositories, options.big_images, options.concurrency, seed_seconds, options.rounds,
                 leftover))
    print()
    print(header + text)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as out:
        out.write(header + text + "\n")
    log("written to %s" % RESULTS)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
