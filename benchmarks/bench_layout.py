"""Layout archive benchmark: registry_copy registry -> oci-archive and oci-archive -> registry with a 1 GiB image.

Run through benchmarks/run.sh (make bench) or on its own (PYTHONPATH=.build). Each direction runs the
module as Ansible does (a child process reading its arguments from a file) and reports wall time and
the child's peak RSS, which must stay under 100 MB: blobs stream from the tar member (or the registry)
straight into the registry upload (or the staging file), never whole in memory. Writes
benchmarks/results/layout.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from ansible_collections.oci.registry.tests.registries import images, launcher
from ansible_collections.oci.registry.tests.registries.skopeo import Skopeo

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODULE = os.path.join(ROOT, "plugins", "modules", "registry_copy.py")
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "oci-registry-bench")
RSS_LIMIT_MB = 100
REPOSITORY = "hlay/bench/big1g"


def log(message):
    print(message, file=sys.stderr, flush=True)


def seed(env, layer_count, layer_mib):
    """The 1 GiB image, built once into a cached layout and pushed to ``plain`` unless it is there."""
    layout_dir = os.path.join(CACHE, "layout-%dx%d" % (layer_count, layer_mib))
    if not os.path.exists(os.path.join(layout_dir, "index.json")):
        log("building %d x %d MiB layers into %s" % (layer_count, layer_mib, layout_dir))
        images.build_big_image(images.OCILayout(layout_dir), layer_count=layer_count, layer_mib=layer_mib,
                               seed="oci.registry/bench/layout")
    with open(os.path.join(layout_dir, "index.json"), encoding="utf-8") as handle:
        digest = json.load(handle)["manifests"][0]["digest"]
    skopeo = Skopeo(env)
    present = skopeo.run(["inspect", "--raw"] + skopeo.options("plain") + [skopeo.reference("plain", REPOSITORY)],
                         check=False)
    if present.returncode != 0 or images.sha256_digest(present.stdout) != digest:
        log("pushing to plain/%s" % REPOSITORY)
        images.push_layout(env, "plain", layout_dir, REPOSITORY, "latest")
    return digest


def run_module(arguments, workdir):
    """(result, seconds, peak RSS MB) of one registry_copy run in its own process."""
    path = os.path.join(workdir, "args.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": arguments}, handle)
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, MODULE, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=dict(os.environ))
    stdout = child.stdout.read()
    stderr = child.stderr.read()
    dummy, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    child.returncode = status
    try:
        result = json.loads(stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit("registry_copy printed no result: %s" % stderr.decode()[-2000:]) from None
    if result.get("failed"):
        raise SystemExit("registry_copy failed: %s" % result.get("msg"))
    return result, seconds, usage.ru_maxrss / 1024.0


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--layer-mib", type=int, default=256)
    args = parser.parse_args(argv)
    env = launcher.ensure_started()
    digest = seed(env, args.layers, args.layer_mib)
    size_mib = args.layers * args.layer_mib
    workdir = tempfile.mkdtemp(prefix="oci-registry-bench-layout-")
    rows = []
    try:
        archive = os.path.join(workdir, "release.tar")
        src = "%s/%s:latest" % (env["registries"]["plain"]["url"], REPOSITORY)
        result, seconds, rss = run_module({"src": src, "dest": "oci-archive:%s:latest" % archive}, workdir)
        assert result["dest_digest"] == digest, result
        rows.append(("registry -> oci-archive", seconds, rss, os.path.getsize(archive)))
        log("registry -> archive: %.1f s, peak RSS %.1f MB" % (seconds, rss))
        dest_repo = "%s-%d" % (REPOSITORY, int(time.time()))
        dest = "%s/%s:latest" % (env["registries"]["plain2"]["url"], dest_repo)
        result, seconds, rss = run_module({"src": "oci-archive:%s:latest" % archive, "dest": dest}, workdir)
        assert result["dest_digest"] == digest, result
        rows.append(("oci-archive -> registry", seconds, rss, os.path.getsize(archive)))
        log("archive -> registry: %.1f s, peak RSS %.1f MB" % (seconds, rss))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = ["# registry_copy with an OCI layout archive (%d MiB image, %d layers)" % (size_mib, args.layers), "",
             "| direction | seconds | MiB/s | peak RSS (MB) | RSS < %d MB |" % RSS_LIMIT_MB, "|---|---|---|---|---|"]
    for label, seconds, rss, dummy in rows:
        verdict = "met" if rss < RSS_LIMIT_MB else "MISSED"
        lines.append("| %s | %.1f | %.0f | %.1f | %s |" % (label, seconds, size_mib / seconds, rss, verdict))
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "layout.md"), "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)
    return 0 if all(row[2] < RSS_LIMIT_MB for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
