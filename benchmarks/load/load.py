"""Load benchmark: a catalog of 5,000 repositories, a repository with 10,000 tags, 20 concurrent module runs.

Run through benchmarks/run.sh (make bench), after the copy benchmark. Uses its own registry set
(a private state dir, started and stopped here), so the big catalog never slows other tests.
Seeds with concurrent raw requests (one tiny image: PUT of the same manifest under many tags,
blob mount + manifest PUT per repository). Measures completeness and correctness against what was
seeded, wall time, and peak RSS of each module process (its VmHWM), and times `skopeo list-tags`
on the same repository in the same run. Prints a table and writes benchmarks/results/load.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.oci.registry.tests.registries import images, launcher
from ansible_collections.oci.registry.tests.registries.rawpush import RawRegistry
from ansible_collections.oci.registry.tests.registries.skopeo import Skopeo

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RESULTS = os.path.join(ROOT, "benchmarks", "results", "load.md")
PY = sys.executable
SEED_WORKERS = 16


def log(message):
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- seeding

def seed(env, repositories, tags):
    """One tiny image; ``tags`` tags in load/tags; ``repositories`` repositories load/repo-NNNNN."""
    image = images.push_oci_image(env, "plain", "load/tags", "tag-00000", layers=(512,), seed="oci.registry/load")
    local = threading.local()

    def registry():
        if not hasattr(local, "registry"):
            local.registry = RawRegistry(env, "plain")
        return local.registry

    def put_tag(number):
        registry().put_manifest("load/tags", "tag-%05d" % number, image.raw, image.media_type)

    def put_repository(number):
        name = "load/repo-%05d" % number
        for digest in image.blob_digests:
            registry().mount_blob(name, digest, "load/tags")
        registry().put_manifest(name, "latest", image.raw, image.media_type)

    started = time.monotonic()
    with ThreadPoolExecutor(SEED_WORKERS) as pool:
        list(pool.map(put_tag, range(1, tags)))
    tag_seconds = time.monotonic() - started
    started = time.monotonic()
    with ThreadPoolExecutor(SEED_WORKERS) as pool:
        list(pool.map(put_repository, range(repositories)))
    repo_seconds = time.monotonic() - started
    log("seeded %d tags in %.1fs, %d repositories in %.1fs" % (tags, tag_seconds, repositories, repo_seconds))
    expected_tags = {"tag-%05d" % n for n in range(tags)}
    expected_repos = {"load/repo-%05d" % n for n in range(repositories)} | {"load/tags"}
    return image, expected_tags, expected_repos, tag_seconds + repo_seconds


# --------------------------------------------------------------------------- module runs

def module_path(name):
    return os.path.join(ROOT, "plugins", "modules", name + ".py")


def start_module(name, args, workdir):
    """Start one module process (AnsibleModule reads its args from a file); returns (Popen, started)."""
    handle, path = tempfile.mkstemp(suffix=".json", dir=workdir)
    with os.fdopen(handle, "w") as out:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, out)
    process = subprocess.Popen([PY, "-c", RUNNER, module_path(name), path], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    return process, time.monotonic()


# Runs the module file as __main__ and reports the process's own VmHWM at exit. (ru_maxrss of a
# child is no good here: Linux carries the forking parent's high-water mark over exec.)
RUNNER = r"""
import atexit, runpy, sys
def report():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.stderr.write("\nVMHWM_KB %s\n" % line.split()[1])
atexit.register(report)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def finish_module(process, started):
    """Wait with os.wait4 for the child's own peak RSS; returns (result, seconds, peak_rss_mib)."""
    stdout_chunks, stderr_chunks = [], []
    readers = [threading.Thread(target=lambda: stdout_chunks.append(process.stdout.read())),
               threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()))]
    for reader in readers:
        reader.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    out = b"".join(stdout_chunks).decode("utf-8", "replace")
    err = b"".join(stderr_chunks).decode("utf-8", "replace")
    peak = [line.split()[1] for line in err.splitlines() if line.startswith("VMHWM_KB ")]
    rss = int(peak[-1]) / 1024.0 if peak else usage.ru_maxrss / 1024.0
    try:
        result = json.loads(out[out.index("{"):])
    except ValueError:
        result = {"failed": True, "msg": "no JSON: %s %s" % (out[-500:], b"".join(stderr_chunks)[-500:])}
    return result, seconds, rss


def run_module(name, args, workdir):
    return finish_module(*start_module(name, args, workdir))


def timed(argv):
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, check=False)
    return done, time.monotonic() - started


# --------------------------------------------------------------------------- scenarios

def catalog_rows(env, url, expected_repos, workdir):
    rows = []
    for page_size in (100, 1000):
        result, seconds, rss = run_module("registry_catalog_info", {"registry_url": url, "page_size": page_size},
                                          workdir)
        names = result.get("repositories") or []
        ours = [name for name in names if name.startswith("load/")]
        rows.append({
            "scenario": "catalog, %d repositories (registry_catalog_info, page_size %d)"
                        % (len(expected_repos), page_size),
            "seconds": seconds, "rss_mib": rss, "items": len(ours),
            "complete": set(ours) == expected_repos, "correct": not result.get("failed") and
            len(ours) == len(set(ours)) and names == sorted(names),
            "note": result.get("msg", ""),
        })
    return rows


def tag_rows(env, url, expected_tags, skopeo, workdir):
    rows = []
    result, seconds, rss = run_module("registry_tag_info", {"registry_url": url, "repository": "load/tags"}, workdir)
    tags = result.get("tags") or []
    rows.append({"scenario": "tags, %d (registry_tag_info)" % len(expected_tags), "seconds": seconds, "rss_mib": rss,
                 "items": len(tags), "complete": set(tags) == expected_tags,
                 "correct": not result.get("failed") and len(tags) == len(set(tags)), "note": result.get("msg", "")})
    module_seconds = seconds
    done, seconds = timed([shutil.which("skopeo") or "skopeo", "list-tags", "--tls-verify=false",
                           "--authfile", skopeo.authfile("plain", None),
                           "docker://%s/load/tags" % env["registries"]["plain"]["host"]])
    skopeo_tags = json.loads(done.stdout or b"{}").get("Tags") or []
    rows.append({"scenario": "tags, %d (skopeo list-tags, same repository)" % len(expected_tags),
                 "seconds": seconds, "rss_mib": None, "items": len(skopeo_tags),
                 "complete": set(skopeo_tags) == expected_tags, "correct": done.returncode == 0,
                 "note": "module/skopeo time ratio %.2f" % (module_seconds / seconds if seconds else 0)})
    result, seconds, rss = run_module("registry_tag_info", {"registry_url": url, "repository": "load/tags",
                                                            "include_digests": True}, workdir)
    groups = result.get("tags_by_digest") or []
    grouped = [tag for group in groups for tag in group.get("tags", [])]
    rows.append({"scenario": "tags by digest, %d HEADs (registry_tag_info include_digests)" % len(expected_tags),
                 "seconds": seconds, "rss_mib": rss, "items": len(grouped),
                 "complete": set(grouped) == expected_tags,
                 "correct": not result.get("failed") and len(groups) == 1, "note": result.get("msg", "")})
    return rows


def concurrent_rows(env, url, image, workdir, runs=20):
    """``runs`` module processes at once: half registry_copy into new repositories, half manifest info."""
    host = env["registries"]["plain"]["host"]
    jobs = []
    for number in range(runs):
        if number % 2 == 0:
            jobs.append(("registry_copy", {"src": "http://%s/load/tags:tag-00000" % host,
                                           "dest": "http://%s/load/concurrent-%02d:v1" % (host, number)}))
        else:
            jobs.append(("registry_manifest_info", {"registry_url": url, "repository": "load/repo-%05d" % number,
                                                    "reference": "latest"}))
    started = time.monotonic()
    processes = [start_module(name, args, workdir) for name, args in jobs]
    outcomes = [finish_module(*process) for process in processes]
    wall = time.monotonic() - started
    good = 0
    notes = []
    for (name, _args), (result, _seconds, _rss) in zip(jobs, outcomes):
        digest = result.get("dest_digest") if name == "registry_copy" else result.get("digest")
        if not result.get("failed") and digest == image.digest:
            good += 1
        else:
            notes.append("%s: %s" % (name, result.get("msg", digest)))
    with RawRegistry(env, "plain") as raw:
        copied = sum(1 for number in range(0, runs, 2)
                     if raw.request("HEAD", "/v2/load/concurrent-%02d/manifests/v1" % number, [],
                                    headers={"Accept": image.media_type}).status_code == 200)
    return [{"scenario": "%d concurrent module runs (%d registry_copy + %d registry_manifest_info)"
                         % (runs, (runs + 1) // 2, runs // 2),
             "seconds": wall, "rss_mib": max(rss for _result, _seconds, rss in outcomes), "items": good,
             "complete": good == runs and copied == runs // 2, "correct": good == runs,
             "note": "; ".join(notes)[:300] or "max module %.1fs" % max(s for _r, s, _m in outcomes)}]


# --------------------------------------------------------------------------- report

def table(rows):
    lines = ["| scenario | time (s) | peak RSS (MiB) | items | complete | correct | note |",
             "|---|---:|---:|---:|---|---|---|"]
    for row in rows:
        lines.append("| %s | %.2f | %s | %d | %s | %s | %s |" % (
            row["scenario"], row["seconds"], "%.0f" % row["rss_mib"] if row["rss_mib"] is not None else "-",
            row["items"], "yes" if row["complete"] else "NO", "yes" if row["correct"] else "NO",
            (row.get("note") or "").replace("|", "/")))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=5000)
    parser.add_argument("--tags", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()
    state_dir = tempfile.mkdtemp(prefix="oci-registry-load-")
    workdir = tempfile.mkdtemp(prefix="oci-registry-load-args-")
    total = time.monotonic()
    try:
        env = launcher.ensure_started(state_dir=state_dir)
        url = env["registries"]["plain"]["url"]
        image, expected_tags, expected_repos, seed_seconds = seed(env, options.repositories, options.tags)
        skopeo = Skopeo(env)
        result, seconds, rss = run_module("registry_info", {"registry_url": url}, workdir)
        rows = [{"scenario": "baseline: one registry_info run (interpreter + imports + 1 request)",
                 "seconds": seconds, "rss_mib": rss, "items": 1, "complete": True,
                 "correct": not result.get("failed"), "note": result.get("msg", "")}]
        rows += catalog_rows(env, url, expected_repos, workdir)
        rows += tag_rows(env, url, expected_tags, skopeo, workdir)
        rows += concurrent_rows(env, url, image, workdir, options.runs)
    finally:
        launcher.stop(state_dir=state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    text = table(rows)
    header = ("# Load benchmark\n\n%s, Python %s, %d CPUs; distribution registry (plain HTTP, filesystem storage) "
              "on 127.0.0.1. Seeding: %.1f s. Total: %.1f s. Peak RSS is the module process's own "
              "(VmHWM of the module process).\n\n"
              % (platform.platform(), platform.python_version(), os.cpu_count() or 0, seed_seconds,
                 time.monotonic() - total))
    print()
    print(text)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as out:
        out.write(header + text + "\n")
    log("written to %s" % RESULTS)
    return 0 if all(row["complete"] and row["correct"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
