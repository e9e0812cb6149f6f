"""Copy benchmark: the engine, the Ansible module, skopeo and a raw ceiling between two local registries.

Run through benchmarks/run.sh (make bench). Prints a table and writes benchmarks/results/latest.md.
Every timed run copies into a repository that did not exist before (a new name per run), so the
destination never has a blob linked yet and each run transfers everything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


from ansible_collections.oci.registry.tests.registries import images, launcher
from ansible_collections.oci.registry.tests.registries.rawpush import RawRegistry
from ansible_collections.oci.registry.tests.registries.skopeo import Skopeo

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "oci-registry-bench")
MIB = 1024 * 1024
METHODS = ("skopeo", "engine", "ansible", "raw")
TARGETS = {"engine/skopeo": 0.75, "ansible/skopeo": 1.0, "engine/raw": 1.15}
RSS_LIMIT_MB = 100


def log(message):
    print(message, file=sys.stderr, flush=True)


def layout_digest(layout_dir, tag="latest"):
    try:
        with open(os.path.join(layout_dir, "index.json"), encoding="utf-8") as handle:
            index = json.load(handle)
    except FileNotFoundError:
        return None
    for entry in index.get("manifests", []):
        if entry.get("annotations", {}).get(images.REF_NAME) == tag:
            return entry["digest"]
    return None


def seed_big_image(env, name, layer_count, layer_mib, repository):
    """Build the image once into a cached OCI layout and push it to `plain` unless it is there already."""
    layout_dir = os.path.join(CACHE, name)
    digest = layout_digest(layout_dir)
    if digest is None:
        log("building %s: %d x %d MiB incompressible uncompressed-tar layers" % (name, layer_count, layer_mib))
        images.build_big_image(images.OCILayout(layout_dir), layer_count=layer_count, layer_mib=layer_mib,
                               seed="oci.registry/bench/" + name)
        digest = layout_digest(layout_dir)
    skopeo = Skopeo(env)
    present = skopeo.run(["inspect", "--raw"] + skopeo.options("plain") + [skopeo.reference("plain", repository)],
                         check=False)
    if present.returncode != 0 or images.sha256_digest(present.stdout) != digest:
        log("pushing %s to plain/%s" % (name, repository))
        images.push_layout(env, "plain", layout_dir, repository, "latest")
    return digest


def seed_shared_tags(env, repository, count=50, shared_layers=4, shared_mib=4, own_kib=256):
    """`count` tags sharing `shared_layers` layers, each with one small layer and config of its own."""
    shared = [images.deterministic_bytes("bench/shared/%d" % i, shared_mib * MIB) for i in range(shared_layers)]
    unique = {}
    with RawRegistry(env, "plain") as registry:
        shared_descriptors = []
        for data in shared:
            digest = registry.push_blob(repository, data=data)
            shared_descriptors.append(images.descriptor(images.OCI_LAYER_TAR, digest, len(data)))
            unique[digest] = len(data)
        for number in range(count):
            own = images.deterministic_bytes("bench/own/%d" % number, own_kib * 1024)
            own_descriptor = images.descriptor(images.OCI_LAYER_TAR, registry.push_blob(repository, data=own), len(own))
            config = images.canonical_json({"architecture": "amd64", "os": "linux", "config": {},
                                            "rootfs": {"type": "layers", "diff_ids": []}, "tag": number})
            config_descriptor = images.descriptor(images.OCI_CONFIG, registry.push_blob(repository, data=config),
                                                  len(config))
            unique[own_descriptor["digest"]] = len(own)
            unique[config_descriptor["digest"]] = len(config)
            raw = images.canonical_json({"schemaVersion": 2, "mediaType": images.OCI_MANIFEST,
                                         "config": config_descriptor,
                                         "layers": shared_descriptors + [own_descriptor]})
            registry.put_manifest(repository, "t%02d" % number, raw, images.OCI_MANIFEST)
    return sum(unique.values()), len(unique), sum(
        sum(len(d) for d in shared) + own_kib * 1024 for dummy in range(count))


def timed(argv, env=None):
    started = time.monotonic()
    completed = subprocess.run(argv, capture_output=True, text=True, env=env, check=False,
                               stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s\n%s" % (" ".join(argv[:4]), completed.returncode,
                                                        completed.stdout[-2000:], completed.stderr[-2000:]))
    return elapsed, completed.stdout


def last_json_line(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON in output: %s" % text[-500:])


class Bench:
    def __init__(self, env, runs, concurrency):
        self.env = env
        self.runs = runs
        self.concurrency = concurrency
        self.plain = env["registries"]["plain"]
        self.plain2 = env["registries"]["plain2"]
        self.stamp = time.strftime("%Y%m%d%H%M%S")
        self.skopeo = Skopeo(env)
        self.ansible_env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="False",
                                ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_PYTHON_INTERPRETER=PY)

    def dest_repo(self, label, method, run):
        return "bench/%s-%s-%s-%d" % (self.stamp, label, method, run)

    def run_method(self, method, src_repo, dest_repo):
        src = "%s/%s:latest" % (self.plain["url"], src_repo)
        dest = "%s/%s:latest" % (self.plain2["url"], dest_repo)
        if method == "skopeo":
            return self.run_skopeo(src_repo, dest_repo), None
        if method == "engine":
            elapsed, out = timed([PY, os.path.join(HERE, "engine_copy.py"), src, dest,
                                  "--concurrency", str(self.concurrency)])
            return elapsed, last_json_line(out)
        if method == "ansible":
            args = json.dumps({"src": src, "dest": dest, "concurrency": self.concurrency})
            elapsed, out = timed(["ansible", "localhost", "-m", "oci.registry.registry_copy", "-a", args],
                                 env=self.ansible_env)
            return elapsed, json.loads(out.split("=>", 1)[1])
        if method == "raw":
            elapsed, out = timed([PY, os.path.join(HERE, "raw_copy.py"), self.plain["url"], src_repo, "latest",
                                  self.plain2["url"], dest_repo, "latest", str(self.concurrency)])
            return elapsed, last_json_line(out)
        raise ValueError(method)

    def run_skopeo(self, src_repo, dest_repo):
        """skopeo with an empty blob info cache of its own.

        skopeo remembers where blobs are and mounts them from an earlier destination repository;
        distribution 2.8 keeps answering HEAD for a deleted blob link (in-memory descriptor cache), so
        wiping the destination does not stop that. As root the cache path is fixed
        (/var/lib/containers/cache), so skopeo runs as nobody with a fresh HOME: a new cache per run.
        """
        home = tempfile.mkdtemp(prefix="oci-bench-skopeo-")
        try:
            os.chmod(home, 0o777)
            authfile = os.path.join(home, "auth.json")
            with open(authfile, "w", encoding="utf-8") as handle:
                handle.write("{}")
            os.chmod(authfile, 0o644)
            prefix = []
            if os.geteuid() == 0:
                prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            argv = prefix + ["env", "HOME=" + home, "XDG_DATA_HOME=" + os.path.join(home, "data"),
                             "XDG_RUNTIME_DIR=" + home,
                             "skopeo", "copy", "--preserve-digests", "--quiet", "--src-tls-verify=false",
                             "--dest-tls-verify=false", "--authfile", authfile,
                             self.skopeo.reference("plain", src_repo), self.skopeo.reference("plain2", dest_repo)]
            return timed(argv)[0]
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def verify(self, dest_repo, digest):
        got = self.skopeo.run(["inspect", "--raw"] + self.skopeo.options("plain2")
                              + [self.skopeo.reference("plain2", dest_repo)]).stdout
        if images.sha256_digest(got) != digest:
            raise RuntimeError("%s on plain2 has %s, expected %s" % (dest_repo, images.sha256_digest(got), digest))

    def throughput(self, src_repo, digest, label):
        times = {method: [] for method in METHODS}
        rss = []
        for run in range(self.runs):
            # Rotate the order so no method always runs first (cold page cache) or last.
            order = METHODS[run % len(METHODS):] + METHODS[:run % len(METHODS)]
            for method in order:
                dest_repo = self.dest_repo(label, method, run)
                elapsed, detail = self.run_method(method, src_repo, dest_repo)
                self.verify(dest_repo, digest)
                times[method].append(elapsed)
                if method == "engine":
                    rss.append(detail["maxrss_kb"] / 1024.0)
                log("  run %d %-7s %6.2f s" % (run + 1, method, elapsed))
        return times, rss

    def engine_rss(self, src_repo, digest, label, runs):
        values, seconds = [], []
        for run in range(runs):
            dest_repo = self.dest_repo(label, "engine", run)
            elapsed, detail = self.run_method("engine", src_repo, dest_repo)
            self.verify(dest_repo, digest)
            values.append(detail["maxrss_kb"] / 1024.0)
            seconds.append(elapsed)
            log("  run %d engine  %6.2f s, peak RSS %.1f MB" % (run + 1, elapsed, values[-1]))
        return values, seconds

    def idempotent(self, src_repo, digest):
        dest_repo = self.dest_repo("idem", "engine", 0)
        self.run_method("engine", src_repo, dest_repo)
        elapsed, detail = timed([PY, os.path.join(HERE, "engine_copy.py"),
                                 "%s/%s:latest" % (self.plain["url"], src_repo),
                                 "%s/%s:latest" % (self.plain2["url"], dest_repo)])
        detail = last_json_line(detail)
        return elapsed, detail

    def tags50(self, repository):
        unique_bytes, unique_count, naive_bytes = seed_shared_tags(self.env, repository)
        dest_repo = self.dest_repo("tags50", "engine", 0)
        elapsed, out = timed([PY, os.path.join(HERE, "engine_copy.py"),
                              "%s/%s" % (self.plain["url"], repository), "%s/%s" % (self.plain2["url"], dest_repo),
                              "--tag-pattern", "^t[0-9]+$", "--concurrency", str(self.concurrency)])
        detail = last_json_line(out)
        return elapsed, detail, unique_bytes, unique_count, naive_bytes


def fmt_ratio(value, target):
    return "%.2fx (target <= %.2fx: %s)" % (value, target, "met" if value <= target else "MISSED")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--layer-mib", type=int, default=128)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--big-layer-mib", type=int, default=1024)
    parser.add_argument("--rss-runs", type=int, default=2)
    args = parser.parse_args(argv)
    env = launcher.ensure_started()
    os.makedirs(CACHE, exist_ok=True)
    total_mib = args.layers * args.layer_mib
    main_name = "img-%dx%d" % (args.layers, args.layer_mib)
    big_name = "img-1x%d" % args.big_layer_mib
    main_repo, big_repo = "bench/" + main_name, "bench/" + big_name
    main_digest = seed_big_image(env, main_name, args.layers, args.layer_mib, main_repo)
    big_digest = seed_big_image(env, big_name, 1, args.big_layer_mib, big_repo)
    bench = Bench(env, args.runs, args.concurrency)

    log("throughput: %d MiB image, %d runs per method, concurrency %d" % (total_mib, args.runs, args.concurrency))
    times, rss_small = bench.throughput(main_repo, main_digest, "tp")
    log("peak RSS with one %d MiB layer" % args.big_layer_mib)
    rss_big, big_seconds = bench.engine_rss(big_repo, big_digest, "rss", args.rss_runs)
    log("idempotent re-run")
    idem_seconds, idem = bench.idempotent(main_repo, main_digest)
    log("50-tag copy with shared layers")
    tags_seconds, tags_detail, unique_bytes, unique_count, naive_bytes = bench.tags50("bench/tags50")

    medians = {method: statistics.median(values) for method, values in times.items()}
    ratios = {
        "engine/skopeo": medians["engine"] / medians["skopeo"],
        "ansible/skopeo": medians["ansible"] / medians["skopeo"],
        "engine/raw": medians["engine"] / medians["raw"],
    }
    lines = []
    lines.append("# Copy benchmark results")
    lines.append("")
    lines.append("%s; %d CPUs; Python %s; skopeo %s; distribution %s; %s" % (
        time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), platform.python_version(),
        subprocess.run(["skopeo", "--version"], capture_output=True, text=True, check=False).stdout.split()[-1],
        subprocess.run(["docker-registry", "--version"], capture_output=True, text=True, check=False).stdout.split()[-1],
        platform.platform()))
    lines.append("")
    lines.append("Image: %d layers x %d MiB incompressible uncompressed tar (%d MiB), plain -> plain2 on 127.0.0.1, "
                 "fresh destination repository per run, concurrency %d, %d runs each (order rotated per run)."
                 % (args.layers, args.layer_mib, total_mib, args.concurrency, args.runs))
    lines.append("")
    lines.append("| method | runs (s) | median (s) | MiB/s | vs skopeo | vs raw |")
    lines.append("|---|---|---|---|---|---|")
    labels = {"skopeo": "skopeo copy --preserve-digests", "engine": "engine (Python, module_utils)",
              "ansible": "ansible localhost -m oci.registry.registry_copy", "raw": "raw ceiling (requests, no checks)"}
    for method in METHODS:
        lines.append("| %s | %s | %.2f | %.0f | %.2fx | %.2fx |" % (
            labels[method], " ".join("%.2f" % v for v in times[method]), medians[method],
            total_mib / medians[method], medians[method] / medians["skopeo"], medians[method] / medians["raw"]))
    lines.append("")
    lines.append("| target | measured |")
    lines.append("|---|---|")
    for key, target in TARGETS.items():
        lines.append("| %s median <= %.2fx | %s |" % (key, target, fmt_ratio(ratios[key], target)))
    rss_ok = max(rss_small + rss_big) < RSS_LIMIT_MB
    lines.append("| engine peak RSS < %d MB, same for %d MiB and %d MiB layers | %s MB (%d MiB layers), "
                 "%s MB (%d MiB layer): %s |" % (
                     RSS_LIMIT_MB, args.layer_mib, args.big_layer_mib,
                     "/".join("%.1f" % v for v in rss_small), args.layer_mib,
                     "/".join("%.1f" % v for v in rss_big), args.big_layer_mib, "met" if rss_ok else "MISSED"))
    idem_requests = idem["requests"]
    idem_ok = set(idem_requests) == {"HEAD"} and not idem["result"]["changed"]
    lines.append("| idempotent re-run sends only manifest HEADs | %s in %.2f s (process wall, engine %.3f s): %s |" % (
        ", ".join("%d %s" % (n, m) for m, n in sorted(idem_requests.items())), idem_seconds,
        idem["result"]["duration"], "met" if idem_ok else "MISSED"))
    sent = tags_detail["blob_bytes_sent"]
    blobs = tags_detail["result"]["blobs"]
    tags_ok = sent == unique_bytes and blobs["copied"] == unique_count
    lines.append("| 50-tag copy sends each unique blob once | %d tags in %.2f s: %d blobs, %.1f MiB sent; unique %d blobs, "
                 "%.1f MiB (per-tag copies would send %.1f MiB): %s |" % (
                     len(tags_detail["result"]["tags"]), tags_seconds, blobs["copied"], sent / MIB, unique_count,
                     unique_bytes / MIB, naive_bytes / MIB, "met" if tags_ok else "MISSED"))
    lines.append("")
    lines.append("skopeo runs with an empty blob info cache each time (as nobody, fresh HOME); otherwise it mounts "
                 "the blobs from an earlier run's repository instead of copying them.")
    lines.append("")
    lines.append("Wall times are whole processes (interpreter or ansible start-up included), as a user runs them. "
                 "One %d MiB-layer engine copy took %s s." % (args.big_layer_mib, "/".join("%.2f" % v for v in big_seconds)))
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "latest.md"), "w", encoding="utf-8") as handle:
        handle.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
