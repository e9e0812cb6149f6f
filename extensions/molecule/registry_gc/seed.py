# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seed the registry_gc scenario's private registry (tests/registries/standalone.py) and measure it.

`seed.py seed DIR`: images gc/app:1, :2, :3 (layers of their own) and a multi-arch index gc/multi:m;
prints JSON: the registry, the digests, the blobs only tags 1 and 2 reach (gone after cleanup + GC),
the blobs the kept tags reach, and the storage's bytes (summed here, independently of the collection).
`seed.py garbage DIR NAME`: pushes gc/NAME:1 with layers of its own, deletes its manifest, prints its blobs.
`seed.py bytes DIR`: the storage's bytes.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from registries import images  # noqa: E402  pylint: disable=import-error,wrong-import-position
from registries.rawpush import RawRegistry  # noqa: E402  pylint: disable=import-error,wrong-import-position

VARIANT = "plain_gc"  # "plain*": the harness's skopeo flags for plain HTTP


def registry_env(directory):
    with open(os.path.join(directory, "registry.json"), encoding="utf-8") as handle:
        info = json.load(handle)
    auth = os.path.join(directory, "auth")
    os.makedirs(auth, exist_ok=True)
    with open(os.path.join(auth, "anonymous.json"), "w", encoding="utf-8") as handle:
        json.dump({"auths": {}}, handle)
    return info, {"state_dir": directory, "ca_path": "", "cert_dir": "",
                  "registries": {VARIANT: {"url": info["url"], "host": info["host"]}}}


def storage_bytes(info):
    total = 0
    for directory, _subdirs, names in os.walk(info["data"]):
        total += sum(os.lstat(os.path.join(directory, name)).st_size for name in names)
    return total


def blob_file(info, digest):
    hexdigest = digest.split(":", 1)[1]
    return os.path.join(info["data"], "docker", "registry", "v2", "blobs", "sha256", hexdigest[:2], hexdigest, "data")


def image_blobs(image):
    return set(image.blob_digests) | {image.digest}


def seed(directory):
    info, env = registry_env(directory)
    app = {tag: images.push_oci_image(env, VARIANT, "gc/app", tag, seed="molecule/gc/" + tag, layers=(4096, 2048), user=None)
           for tag in ("1", "2", "3")}
    index = images.push_index(env, VARIANT, "gc/multi", "m", seed="molecule/gc/multi", user=None)
    kept = image_blobs(app["3"]) | {index.digest}
    for image in index.images + index.attestations:
        kept |= image_blobs(image)
    gone = (image_blobs(app["1"]) | image_blobs(app["2"])) - kept
    return {"registry": info, "digests": {tag: image.digest for tag, image in app.items()}, "index": index.digest,
            "gone_files": sorted(blob_file(info, digest) for digest in gone),
            "kept_files": sorted(blob_file(info, digest) for digest in kept), "bytes": storage_bytes(info)}


def garbage(directory, name):
    info, env = registry_env(directory)
    image = images.push_oci_image(env, VARIANT, "gc/" + name, "1", seed="molecule/gc/garbage/" + name, user=None)
    with RawRegistry(env, VARIANT, None) as raw:
        raw.request("DELETE", "/v2/gc/%s/manifests/%s" % (name, image.digest), [])
    return {"digest": image.digest, "blobs": sorted(image_blobs(image)),
            "files": sorted(blob_file(info, digest) for digest in image_blobs(image))}


def main(argv):
    if len(argv) == 3 and argv[1] == "seed":
        result = seed(argv[2])
    elif len(argv) == 4 and argv[1] == "garbage":
        result = garbage(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "bytes":
        result = {"bytes": storage_bytes(registry_env(argv[2])[0])}
    else:
        sys.stderr.write("usage: seed.py seed DIR | garbage DIR NAME | bytes DIR\n")
        return 2
    json.dump(result, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
