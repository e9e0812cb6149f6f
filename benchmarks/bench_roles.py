"""Role benchmark (issue 13): module runs, wall time and peak RSS of the mirror and promote roles.

- mirror: the mirror role with N entries (one small image each, one tag) into fresh repositories, then the
  no-op re-run; compared with the copy engine doing the same copies in one Python process (the floor).
- promote: a release of M images (guards on: expected digest and immutable, one additional tag), either
  as M role runs (--promote-style loop: the only way before promote_images) or one role run with
  promote_images (--promote-style images).

Run through benchmarks/run.sh (make bench), or directly:
  bench_roles.py [--collection-root DIR] [--entries 200] [--release 30] [--promote-style images|loop]
Prints a table and writes benchmarks/results/roles.md. --collection-root measures another checkout (the
"before" numbers were taken from main that way).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from ansible_collections.oci.registry.tests.registries import images, launcher
from ansible_collections.oci.registry.tests.registries.skopeo import Skopeo

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable

ENGINE_SCRIPT = r'''
import json, sys
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._copy import CopyEngine
from ansible_collections.oci.registry.plugins.module_utils._reference import parse_reference
pairs = json.load(open(sys.argv[1]))
clients = {}
def client(ref):
    if ref.registry_url not in clients:
        clients[ref.registry_url] = RegistryClient(ref.registry_url)
    return clients[ref.registry_url]
for pair in pairs:
    src, dest = parse_reference(pair["src"]), parse_reference(pair["dest"])
    CopyEngine(client(src), client(dest), concurrency=4).copy(src, dest)
'''


def log(message):
    print(message, file=sys.stderr, flush=True)


class Runner:
    def __init__(self, collection_root, workdir):
        self.workdir = workdir
        build = os.path.join(workdir, "collections")
        os.makedirs(os.path.join(build, "ansible_collections", "oci"), exist_ok=True)
        os.symlink(os.path.abspath(collection_root), os.path.join(build, "ansible_collections", "oci", "registry"))
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=build, PYTHONPATH=build,
                        ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
                        ANSIBLE_PYTHON_INTERPRETER=PY, ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"),
                        ANSIBLE_CALLBACKS_ENABLED="module_runs", ANSIBLE_NOCOLOR="1")

    def measure(self, argv, label):
        """(seconds, peak RSS MB of the process tree's largest process, module runs or None)."""
        counts = os.path.join(self.workdir, label + ".runs.json")
        rss = os.path.join(self.workdir, label + ".rss")
        env = dict(self.env, OCI_BENCH_MODULE_RUNS=counts)
        started = time.monotonic()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss] + argv, env=env, capture_output=True,
                              text=True, check=False, stdin=subprocess.DEVNULL)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            raise RuntimeError("%s failed:\n%s\n%s" % (label, done.stdout[-3000:], done.stderr[-3000:]))
        with open(rss, encoding="utf-8") as handle:
            peak_mb = int(handle.read().strip().splitlines()[-1]) / 1024.0
        runs = None
        if os.path.exists(counts):
            with open(counts, encoding="utf-8") as handle:
                runs = sum(json.load(handle).values())
        log("  %-28s %7.1f s  %6.1f MB  module runs %s" % (label, seconds, peak_mb, runs))
        return seconds, peak_mb, runs

    def playbook(self, label, tasks, variables):
        path = os.path.join(self.workdir, label + ".yml")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump([{"hosts": "localhost", "gather_facts": False, "connection": "local",
                        "vars": variables, "tasks": tasks}], handle)
        return self.measure(["ansible-playbook", "-i", "localhost,", path], label)


def seed(env, stamp, count):
    """`count` source repositories with one small image each (own layer, so no blob is shared)."""
    log("seeding %d source repositories" % count)
    pushed = []
    layout_root = tempfile.mkdtemp(prefix="oci-bench-roles-")
    for number in range(count):
        repository = "bench-roles/%s/src-%04d" % (stamp, number)
        image = images.push_docker_image(env, "plain", repository, "1.0", layers=(2048,),
                                         seed="bench-roles/%s/%d" % (stamp, number),
                                         layout_dir=os.path.join(layout_root, str(number)))
        pushed.append((repository, image.digest))
    return pushed


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--collection-root", default=ROOT)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--release", type=int, default=30)
    parser.add_argument("--promote-style", choices=("images", "loop"), default="images")
    parser.add_argument("--only", choices=("mirror", "promote"))
    parser.add_argument("--output", default=os.path.join(HERE, "results", "roles.md"))
    args = parser.parse_args(argv)
    env = launcher.ensure_started()
    plain, plain2 = env["registries"]["plain"]["url"], env["registries"]["plain2"]["url"]
    stamp = time.strftime("%Y%m%d%H%M%S")
    sources = seed(env, stamp, args.release if args.only == "promote" else max(args.entries, args.release))
    workdir = tempfile.mkdtemp(prefix="oci-bench-roles-run-")
    runner = Runner(args.collection_root, workdir)
    rows = []

    if args.only != "promote":
        mirror(args, runner, rows, sources, workdir, plain, plain2, stamp)
    if args.only != "mirror":
        promote(args, runner, rows, sources, env, plain, plain2, stamp)
    lines = ["| run | items | wall s | peak RSS MB | module runs |", "|---|---:|---:|---:|---:|"]
    for label, items, seconds, peak, runs in rows:
        lines.append("| %s | %d | %.1f | %.0f | %s |" % (label, items, seconds, peak, "-" if runs is None else runs))
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write("# Role benchmark (%s, collection %s)\n\n%s\n" % (stamp, args.collection_root, table))


def mirror(args, runner, rows, sources, workdir, plain, plain2, stamp):
    log("mirror role, %d entries" % args.entries)
    entries = [{"src": "%s/%s:1.0" % (plain, repo), "dest": "%s/bench-roles/%s/mirror-%04d" % (plain2, stamp, n)}
               for n, (repo, _digest) in enumerate(sources[:args.entries])]
    task = [{"ansible.builtin.include_role": {"name": "oci.registry.mirror"}}]
    rows.append(("mirror role, cold", args.entries) + runner.playbook("mirror-cold", task, {"mirror_images": entries}))
    rows.append(("mirror role, no-op re-run", args.entries)
                + runner.playbook("mirror-noop", task, {"mirror_images": entries}))
    pairs = [{"src": entry["src"], "dest": entry["dest"].replace("/mirror-", "/engine-")} for entry in entries]
    pairs_file = os.path.join(workdir, "pairs.json")
    with open(pairs_file, "w", encoding="utf-8") as handle:
        json.dump(pairs, handle)
    seconds, peak, _runs = runner.measure([PY, "-c", ENGINE_SCRIPT, pairs_file], "engine-floor")
    rows.append(("copy engine in one process (floor)", args.entries, seconds, peak, None))


def promote(args, runner, rows, sources, env, plain, plain2, stamp):
    log("promote, release of %d images (%s)" % (args.release, args.promote_style))
    release = [{"src": "%s/%s:1.0" % (plain, repo), "dest": "%s/bench-roles/%s/prod-%04d" % (plain2, stamp, n),
                "expected_digest": digest, "additional_tags": ["stable"]}
               for n, (repo, digest) in enumerate(sources[:args.release])]
    if args.promote_style == "images":
        task = [{"ansible.builtin.include_role": {"name": "oci.registry.promote"}}]
        variables = {"promote_images": release, "promote_immutable": True}
    else:
        task = [{"ansible.builtin.include_role": {"name": "oci.registry.promote"},
                 "loop": "{{ release }}", "loop_control": {"loop_var": "release_image"},
                 "vars": {"promote_src": "{{ release_image.src }}", "promote_dest": "{{ release_image.dest }}",
                          "promote_expected_digest": "{{ release_image.expected_digest }}",
                          "promote_additional_tags": "{{ release_image.additional_tags }}",
                          "promote_immutable": True}}]
        variables = {"release": release}
    rows.append(("promote %s, cold" % args.promote_style, args.release) + runner.playbook("promote-cold", task, variables))
    rows.append(("promote %s, no-op re-run" % args.promote_style, args.release)
                + runner.playbook("promote-noop", task, variables))

    skopeo = Skopeo(env)
    for n in (0, args.release - 1):
        got = skopeo.run(["inspect", "--raw"] + skopeo.options("plain2")
                         + [skopeo.reference("plain2", "bench-roles/%s/prod-%04d" % (stamp, n), "stable")]).stdout
        if images.sha256_digest(got) != sources[n][1]:
            raise RuntimeError("promoted image %d has the wrong digest" % n)


if __name__ == "__main__":
    main(sys.argv[1:])
