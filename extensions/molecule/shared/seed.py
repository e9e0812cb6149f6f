# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seed (and first wipe) the repositories a molecule scenario uses on the shared test registries.

`seed.py SCENARIO` ensures the registries from tests/registries run (never stops them), deletes
every manifest in the scenario's repositories so each run starts from the same state, pushes
deterministic images with the harness builders (skopeo / raw HTTP, not the code under test) and
prints a JSON document with the digests the verify playbooks compare against.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from registries import ensure_started  # noqa: E402  pylint: disable=import-error,wrong-import-position
from registries import images  # noqa: E402  pylint: disable=import-error,wrong-import-position
from registries.rawpush import RawRegistry  # noqa: E402  pylint: disable=import-error,wrong-import-position
from registries.skopeo import Skopeo  # noqa: E402  pylint: disable=import-error,wrong-import-position


def wipe(env, variant, repository, extra=()):
    """Delete every manifest reachable from the tags of a repository; a missing repository is fine.

    Children of indexes go too (referrer index -> signature, image index -> platforms): a copy that
    finds such leftovers would skip them, and the scenario would no longer test a first promotion.
    """
    skopeo = Skopeo(env)
    user = "admin" if env["registries"][variant].get("users") else None
    listed = skopeo.list_tags(variant, repository, user=user, check=False)
    tags = json.loads(listed.stdout).get("Tags") or [] if listed.returncode == 0 else []
    # `extra`: untagged manifests a tag walk cannot find, such as a referrer whose fallback tag is gone.
    pending = ["tag:" + tag for tag in tags] + ["digest:" + digest for digest in extra]
    digests = []
    while pending:
        reference = pending.pop()
        # `skopeo inspect` refuses artifacts (signatures) without --raw; the digest is the sha256 of the bytes.
        result = skopeo.inspect_raw(variant, repository, reference.split(":", 1)[1], user=user, check=False)
        if result.returncode != 0:
            continue
        digest = "sha256:" + hashlib.sha256(result.stdout).hexdigest()
        if digest in digests:
            continue
        digests.append(digest)
        pending.extend("digest:" + child["digest"] for child in json.loads(result.stdout).get("manifests") or [])
    with RawRegistry(env, variant, user) as registry:
        for digest in digests:
            registry.request("DELETE", "/v2/%s/manifests/%s" % (repository, digest),
                             ["repository:%s:delete,pull,push" % repository])


def seed_promote(env):
    wipe(env, "plain", "molecule-promote/app")
    index = images.push_index(env, "plain", "molecule-promote/app", "1.0", seed="molecule/promote/1.0")
    signature = images.push_artifact(env, "plain", "molecule-promote/app", index)
    other = images.push_oci_image(env, "plain", "molecule-promote/app", "1.1", seed="molecule/promote/1.1")
    leftovers = [signature.digest] + index.manifest_digests + [index.digest, other.digest]
    for variant, repository in (("plain2", "molecule-promote/prod"), ("plain2", "molecule-promote/arm64"),
                                ("basic", "molecule-promote/prod"), ("plain2", "molecule-promote/release-api"),
                                ("plain2", "molecule-promote/release-web"), ("plain2", "molecule-promote/atomic-api"),
                                ("plain2", "molecule-promote/atomic-web"), ("plain2", "molecule-promote/backup")):
        wipe(env, variant, repository, extra=leftovers)
    return {
        "index": index.digest,
        "arm64": index.image_for("linux/arm64").digest,
        "amd64": index.image_for("linux/amd64").digest,
        "signature": signature.digest,
        "referrers_tag": index.digest.replace(":", "-"),
        "other": other.digest,
    }


def _image(layout, name, created, layers=(512,), platform="linux/amd64", shared=None):
    contents = [images.deterministic_bytes("molecule/cleanup/%s/%d" % (name, i), size) for i, size in enumerate(layers)]
    if shared is not None:
        contents.insert(0, shared)
    return images.build_image(layout, layer_contents=contents, created=created, platform=platform,
                              seed="molecule/cleanup/" + name)


def _index(layout, children):
    entries = [child.descriptor(platform=child.platform) for child in children]
    raw = images.canonical_json({"schemaVersion": 2, "mediaType": images.OCI_INDEX, "manifests": entries})
    return images.Index(layout.add_blob(raw), images.OCI_INDEX, len(raw), raw, list(children), [])


def seed_cleanup(env):
    repository = "molecule-cleanup/app"
    untag_repository = "molecule-cleanup/untag-me"
    wipe(env, "plain", repository)
    wipe(env, "plain", untag_repository)
    base = images.deterministic_bytes("molecule/cleanup/base", 4096)  # a layer every image shares
    with tempfile.TemporaryDirectory(prefix="molecule-cleanup-") as path:
        layout = images.OCILayout(path)
        v1 = _image(layout, "v1", "2023-01-01T00:00:00Z", shared=base)
        v2 = _image(layout, "v2", "2023-06-01T00:00:00Z", shared=base)
        v3 = _image(layout, "v3", "2024-01-01T00:00:00Z", shared=base)
        v4 = _image(layout, "v4", "2024-03-01T00:00:00Z", shared=base)
        nodate = _image(layout, "nodate", None)
        child_shared = _image(layout, "multi-shared", "2022-01-01T00:00:00Z", platform="linux/amd64")
        child_new = _image(layout, "multi-new", "2024-02-01T00:00:00Z", platform="linux/arm64")
        child_old = _image(layout, "multi-old", "2022-01-01T00:00:00Z", platform="linux/arm64")
        multi = _index(layout, [child_shared, child_new])
        multi_old = _index(layout, [child_shared, child_old])
        plan = [
            (v1, ["1.0", "old-alias"]), (v2, ["1.1", "dev-abc"]), (v3, ["1.2"]), (v4, ["1.3", "latest"]),
            (nodate, ["nodate"]),
        ]
        for image, tags in plan:
            images.push_layout_raw(env, "plain", path, [image], repository, tags)
        images.push_layout_raw(env, "plain", path, [child_shared, child_new, multi], repository, ["multi"])
        images.push_layout_raw(env, "plain", path, [child_shared, child_old, multi_old], repository, ["multi-old"])
        images.push_layout_raw(env, "plain", path, [v1], untag_repository, ["a", "b"])
    v4.repository = v1.repository = repository
    signature_kept = images.push_artifact(env, "plain", repository, v4)
    signature_removed = images.push_artifact(env, "plain", repository, v1, payload=b"signature of v1")
    digests = {
        "v1": v1.digest, "v2": v2.digest, "v3": v3.digest, "v4": v4.digest, "nodate": nodate.digest,
        "multi": multi.digest, "multi_old": multi_old.digest, "child_shared": child_shared.digest,
        "child_new": child_new.digest, "child_old": child_old.digest,
        "signature_kept": signature_kept.digest, "signature_removed": signature_removed.digest,
        "sigtag_kept": v4.digest.replace(":", "-"), "sigtag_removed": v1.digest.replace(":", "-"),
        "sigindex_kept": signature_kept.referrers_index.digest,
        "sigindex_removed": signature_removed.referrers_index.digest,
        "untag_digest": v1.digest,
    }
    return digests


def seed_mirror(env):
    upstream, multi = "molecule-mirror/upstream", "molecule-mirror/multi"
    wipe(env, "plain", upstream)
    wipe(env, "plain", multi)
    for repository in ("semver", "pattern", "listed", "single", "multi-arm"):
        wipe(env, "plain2", "molecule-mirror/" + repository)
    digests = {}
    for tag in ("1.0.0", "1.1.0", "1.2.0", "v1.2.5", "2.0.0", "2.1.0-rc.1", "latest", "dev"):
        image = images.push_oci_image(env, "plain", upstream, tag, seed="molecule/mirror/" + tag)
        digests[tag] = image.digest
    index = images.push_index(env, "plain", multi, "3.0", seed="molecule/mirror/multi")
    digests["multi"] = index.digest
    digests["multi_arm64"] = index.image_for("linux/arm64").digest
    return digests


def seed_mirror_sync(env):
    """Upstream 1.0.0, 1.1.0 (signed, cosign tag scheme), 2.0.0, latest; a mirror that has drifted from it."""
    upstream, mirror, listed = "molecule-sync/upstream", "molecule-sync/mirror", "molecule-sync/listed"
    for variant, repository in (("plain", upstream), ("plain2", mirror), ("plain2", listed)):
        wipe(env, variant, repository)
    digests = {}
    for tag in ("1.0.0", "1.1.0", "2.0.0", "latest"):
        digests[tag] = images.push_oci_image(env, "plain", upstream, tag, seed="molecule/sync/" + tag).digest
    # cosign's tag scheme: a manifest without subject under sha256-<hex of the signed image>.sig.
    digests["sig_tag"] = digests["1.1.0"].replace(":", "-") + ".sig"
    digests["sig"] = images.push_oci_image(env, "plain", upstream, digests["sig_tag"],
                                           seed="molecule/sync/signature").digest
    # The mirror: 1.0.0 holds another image (an immutable tag is never re-read), latest is older than
    # upstream (moves, with a backup), 0.9.0 and its signature are gone upstream (pruned).
    digests["mirror_1.0.0"] = images.push_oci_image(env, "plain2", mirror, "1.0.0",
                                                    seed="molecule/sync/1.0.0-mirror").digest
    digests["mirror_latest"] = images.push_oci_image(env, "plain2", mirror, "latest",
                                                     seed="molecule/sync/latest-old").digest
    old = images.push_oci_image(env, "plain2", mirror, "0.9.0", seed="molecule/sync/0.9.0")
    digests["old_sig_tag"] = old.digest.replace(":", "-") + ".sig"
    images.push_oci_image(env, "plain2", mirror, digests["old_sig_tag"], seed="molecule/sync/old-signature")
    # An entry with prune: false keeps what it does not select.
    digests["keep_me"] = images.push_oci_image(env, "plain2", listed, "keep-me", seed="molecule/sync/keep").digest
    return digests


SEEDERS = {"promote": seed_promote, "cleanup": seed_cleanup, "mirror": seed_mirror, "mirror_sync": seed_mirror_sync}


def main(argv):
    if len(argv) != 2 or argv[1] not in SEEDERS:
        sys.stderr.write("usage: seed.py {%s}\n" % "|".join(sorted(SEEDERS)))
        return 2
    env = ensure_started()
    digests = SEEDERS[argv[1]](env)
    json.dump({"env": env, "digests": digests}, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
