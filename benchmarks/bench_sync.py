"""Sync benchmark (issue 14): registry_copy as a sync tool against ``skopeo sync --preserve-digests``.

Scenario: one source repository with T tags over I distinct small images (tag j points at image j % I),
synced to fresh destination repositories:

- cold sync: ``registry_copy tag_pattern: '.*'`` (one module process) vs ``skopeo sync``;
- no-op re-run of both;
- no-op re-run of registry_copy with ``immutable_tags: '.*'``.

For the registry_copy runs it reports the requests per side (result ``requests``) and the ``GET``
requests sent to the destination (request trace at -vvv; the target is 0 on a no-op run).

Run through benchmarks/run.sh (make bench), or directly (PYTHONPATH=.build):
  bench_sync.py [--tags 1000] [--images 300]
Prints a table and writes benchmarks/results/sync.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

from ansible_collections.oci.registry.tests.registries import ensure_started, images

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable
SKOPEO = os.environ.get("SKOPEO", "skopeo")


def log(message):
    print(message, file=sys.stderr, flush=True)


def seed(env, repository, tag_count, image_count):
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as path:
        layout = images.OCILayout(path)
        for number in range(image_count):
            image = images.build_image(layout, layers=(512,), seed="bench-sync/%s/%d" % (repository, number))
            tags = ["v%04d" % tag for tag in range(number, tag_count, image_count)]
            images.push_layout_raw(env, "plain", path, [image], repository, tags)


def registry_copy(src, dest, **options):
    """One module process, as Ansible would start it; returns (seconds, result)."""
    args = dict(src=src, dest=dest, tag_pattern=".*", _ansible_verbosity=3, **options)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    started = time.monotonic()
    try:
        done = subprocess.run([PY, "-m", "ansible_collections.oci.registry.plugins.modules.registry_copy", handle.name],
                              capture_output=True, check=False, env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, ".build")))
    finally:
        os.unlink(handle.name)
    seconds = time.monotonic() - started
    result = json.loads(done.stdout)
    if result.get("failed"):
        raise RuntimeError("registry_copy failed: %s" % result.get("msg"))
    return seconds, result


def skopeo_sync(env, repository, dest_prefix):
    host, dest_host = env["registries"]["plain"]["host"], env["registries"]["plain2"]["host"]
    argv = [SKOPEO, "sync", "--src", "docker", "--dest", "docker", "--preserve-digests", "--src-tls-verify=false",
            "--dest-tls-verify=false", "%s/%s" % (host, repository), "%s/%s" % (dest_host, dest_prefix)]
    started = time.monotonic()
    subprocess.run(argv, capture_output=True, check=True)
    return time.monotonic() - started


def dest_gets(env, result):
    host = env["registries"]["plain2"]["host"]
    # The tag listing is a GET too, but no pull: count manifest and blob GETs.
    return sum(1 for record in result.get("trace") or [] if record["host"] == host and record["method"] == "GET"
               and not record["path"].endswith("/tags/list"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=1000)
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()
    env = ensure_started()
    run_id = secrets.token_hex(4)
    repository = "bench-sync/%s/src" % run_id
    log("seeding %d tags over %d images ..." % (args.tags, args.images))
    seed(env, repository, args.tags, args.images)
    src = "%s/%s" % (env["registries"]["plain"]["url"], repository)
    dest = "%s/bench-sync/%s/ours" % (env["registries"]["plain2"]["url"], run_id)

    rows = []
    cold, cold_result = registry_copy(src, dest)
    skopeo_cold = skopeo_sync(env, repository, "bench-sync/%s/skopeo" % run_id)
    noop, noop_result = registry_copy(src, dest)
    skopeo_noop = skopeo_sync(env, repository, "bench-sync/%s/skopeo" % run_id)
    immutable, immutable_result = registry_copy(src, dest, immutable_tags=".*")
    assert noop_result["changed"] is False and immutable_result["changed"] is False
    rows.append(("cold sync", cold, skopeo_cold, cold_result))
    rows.append(("no-op re-run", noop, skopeo_noop, noop_result))
    rows.append(("no-op re-run, immutable_tags '.*'", immutable, skopeo_noop, immutable_result))

    lines = ["# Sync benchmark (issue 14)", "",
             "%d tags over %d images (512-byte layers), plain -> plain2 on the test registries; skopeo %s."
             % (args.tags, args.images, subprocess.run([SKOPEO, "--version"], capture_output=True, text=True,
                                                       check=False).stdout.strip().split()[-1]), "",
             "| run | registry_copy | skopeo sync | ratio | requests src / dest | manifest/blob GETs at dest |",
             "|---|---|---|---|---|---|"]
    for name, ours, theirs, result in rows:
        lines.append("| %s | %.2f s | %.2f s | %.2fx | %d / %d | %d |" % (
            name, ours, theirs, ours / theirs, result["requests"]["src"], result["requests"]["dest"],
            dest_gets(env, result)))
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "sync.md"), "w", encoding="utf-8") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
