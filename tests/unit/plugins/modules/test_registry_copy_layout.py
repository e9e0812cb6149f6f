# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_copy with OCI image layouts (oci:/dir) as source and destination, against the real test registries."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import stat
import tarfile

import pytest

# The mirror filters' logic (module tests may not import controller code such as the filter plugins).
from ansible_collections.oci.registry.plugins.module_utils._role_batches import mirror_copy_items, mirror_report
from ansible_collections.oci.registry.plugins.module_utils import _layout
from ansible_collections.oci.registry.plugins.module_utils._reference import is_layout_reference
from ansible_collections.oci.registry.plugins.modules import registry_copy
from ansible_collections.oci.registry.tests.registries import cosign, images
from ansible_collections.oci.registry.tests.registries.cosign import SIGNATURE_ANNOTATION, SIMPLE_SIGNING
from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy
from ansible_collections.oci.registry.tests.registries.rawpush import RawRegistry
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

REF_NAME = "org.opencontainers.image.ref.name"


@pytest.fixture
def layout_repo(request):
    """A repository name under hlay/ that no other test uses."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-") or "repo"
    return "hlay/%s-%s" % (name, secrets.token_hex(4))


def url(env, variant, repository, tag=None):
    text = "%s/%s" % (env["registries"][variant]["url"], repository)
    return text + ":" + tag if tag else text


def index_of(path):
    with open(os.path.join(path, "index.json"), "rb") as handle:
        return json.load(handle)


def tagged(path):
    """{ref.name: digest} of a layout's index.json."""
    return {entry["annotations"][REF_NAME]: entry["digest"] for entry in index_of(path)["manifests"]
            if REF_NAME in (entry.get("annotations") or {})}


def blob_files(path):
    directory = os.path.join(path, "blobs", "sha256")
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def assert_blobs_verified(path):
    for name in blob_files(path):
        with open(os.path.join(path, "blobs", "sha256", name), "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == name


def test_registry_image_to_layout_check_mode_idempotent_and_back(registries, skopeo, layout_repo, tmp_path, capsys):
    image = images.push_oci_image(registries, "plain", layout_repo, "1.0", layers=(2048, 512), seed=layout_repo)
    target = str(tmp_path / "app")

    predicted = run(registry_copy, capsys, check_mode=True, src=url(registries, "plain", layout_repo, "1.0"),
                    dest="oci:%s:1.0" % target)
    assert predicted["changed"] is True
    assert predicted["blobs"]["copied"] == 3
    assert not os.path.exists(target), "check mode wrote into the layout"

    first = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1.0"), dest="oci:%s:1.0" % target)
    assert first["changed"] is True, first
    assert first["dest_digest"] == image.digest
    assert first["tags"][0]["dest"] == "oci:%s:1.0" % target
    assert tagged(target) == {"1.0": image.digest}
    with open(os.path.join(target, "oci-layout"), encoding="utf-8") as handle:
        assert json.load(handle) == {"imageLayoutVersion": "1.0.0"}
    assert set(blob_files(target)) == {d.split(":")[1] for d in [image.digest] + image.blob_digests}
    assert_blobs_verified(target)

    again = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1.0"), dest="oci:%s:1.0" % target)
    assert again["changed"] is False, again
    assert again["blobs"]["copied"] == 0

    # And back into another registry, byte-exact, as skopeo sees it.
    back = run(registry_copy, capsys, src="oci:%s:1.0" % target, dest=url(registries, "plain2", layout_repo, "back"))
    assert back["changed"] is True and back["dest_digest"] == image.digest
    assert skopeo.inspect_digest("plain2", layout_repo, "back") == image.digest
    assert run(registry_copy, capsys, src="oci:%s:1.0" % target,
               dest=url(registries, "plain2", layout_repo, "back"))["changed"] is False


def test_multi_arch_index_many_tags_platforms_and_layout_to_layout(registries, skopeo, layout_repo, tmp_path, capsys):
    index = images.push_index(registries, "plain", layout_repo, "multi", seed=layout_repo)
    # A second tag sharing every layer: one blob file per digest in the layout.
    images.tag_manifest(registries, "plain", layout_repo, index, ["multi-again"])
    other = images.push_oci_image(registries, "plain", layout_repo, "single", seed=layout_repo + "/single")
    target = str(tmp_path / "many")
    first = run(registry_copy, capsys, src=url(registries, "plain", layout_repo), dest="oci:" + target,
                tag_pattern="^(multi|single)")
    assert first["changed"] is True, first
    assert tagged(target) == {"multi": index.digest, "multi-again": index.digest, "single": other.digest}
    manifests = [index.digest] + [m.digest for m in index.images + index.attestations] + [other.digest]
    blobs = set(manifests) | {d for m in index.images + index.attestations + [other] for d in m.blob_digests}
    assert set(blob_files(target)) == {d.split(":")[1] for d in blobs}
    assert_blobs_verified(target)
    assert run(registry_copy, capsys, src=url(registries, "plain", layout_repo), dest="oci:" + target,
               tag_pattern="^(multi|single)")["changed"] is False

    # Layout -> layout with a platform: the arm64 manifest alone, its digest unchanged.
    arm = index.image_for("linux/arm64/v8")
    narrow = str(tmp_path / "arm")
    picked = run(registry_copy, capsys, src="oci:%s:multi" % target, dest="oci:%s:arm" % narrow,
                 platforms=["linux/arm64"])
    assert picked["changed"] is True and picked["dest_digest"] == arm.digest, picked
    assert tagged(narrow) == {"arm": arm.digest}
    assert set(blob_files(narrow)) == {d.split(":")[1] for d in [arm.digest] + arm.blob_digests}

    # The whole index from the layout into a registry keeps its digest (skopeo reads it back).
    pushed = run(registry_copy, capsys, src="oci:%s:multi" % target, dest=url(registries, "plain2", layout_repo, "m"))
    assert pushed["dest_digest"] == index.digest
    assert skopeo.inspect_digest("plain2", layout_repo, "m") == index.digest


def test_overwrite_false_refuses_to_move_a_layout_tag(registries, layout_repo, tmp_path, capsys):
    one = images.push_oci_image(registries, "plain", layout_repo, "one", seed=layout_repo + "/1")
    two = images.push_oci_image(registries, "plain", layout_repo, "two", seed=layout_repo + "/2")
    target = str(tmp_path / "l")
    run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "one"), dest="oci:%s:t" % target)
    refused = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "two"), dest="oci:%s:t" % target,
                  overwrite=False)
    assert refused["failed"] is True
    assert "overwrite is false" in refused["msg"] and "\n" not in refused["msg"]
    assert tagged(target) == {"t": one.digest}
    moved = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "two"), dest="oci:%s:t" % target)
    assert moved["changed"] is True and tagged(target) == {"t": two.digest}


@pytest.mark.parametrize("case", ["missing", "tag", "relative", "file", "foreign_dir", "prune"])
def test_user_errors_are_one_line_and_write_nothing(registries, layout_repo, tmp_path, capsys, case):
    image = images.push_oci_image(registries, "plain", layout_repo, "1", seed=layout_repo)
    layout = str(tmp_path / "l")
    run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1"), dest="oci:%s:1" % layout)
    args = {
        "missing": dict(src="oci:%s:1" % (tmp_path / "nowhere"), dest=url(registries, "plain2", layout_repo, "x")),
        "tag": dict(src="oci:%s:2" % layout, dest=url(registries, "plain2", layout_repo, "x")),
        "relative": dict(src="oci:relative/dir:1", dest=url(registries, "plain2", layout_repo, "x")),
        "file": dict(src=url(registries, "plain", layout_repo, "1"), dest="oci:%s:1" % (tmp_path / "l" / "index.json")),
        "foreign_dir": dict(src=url(registries, "plain", layout_repo, "1"), dest="oci:%s:1" % tmp_path),
        "prune": dict(src=url(registries, "plain", layout_repo), dest="oci:%s" % layout, tags=["1"], prune=True),
    }[case]
    before = sorted(os.listdir(str(tmp_path)))
    result = run(registry_copy, capsys, **args)
    assert result["failed"] is True
    assert "\n" not in result["msg"] and "Traceback" not in result["msg"]
    expected = {"missing": "no OCI image layout", "tag": "tag 2 is not in the layout (it has 1)",
                "relative": "must be absolute", "file": "not a directory", "foreign_dir": "not an OCI image layout",
                "prune": "prune"}[case]
    assert expected in result["msg"], result["msg"]
    assert sorted(os.listdir(str(tmp_path))) == before
    assert tagged(layout) == {"1": image.digest}


@pytest.mark.parametrize("fault", ["truncate", "corrupt"])
def test_interrupted_copy_never_claims_missing_content_and_rerun_completes(
        registries, layout_repo, tmp_path, capsys, fault):
    index = images.push_index(registries, "plain", layout_repo, "multi", seed=layout_repo, layers=(300000, 1000))
    big = index.images[1].layers[0]["digest"]
    target = str(tmp_path / "crash")
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        proxy.add(fault, method="GET", path=r"/blobs/%s" % big, times=None, after_bytes=100000, offset=150000)
        broken = run(registry_copy, capsys, src="%s/%s:multi" % (proxy.url, layout_repo), dest="oci:%s:multi" % target,
                     retries=0)
        assert proxy.injected >= 1
    assert broken["failed"] is True and "\n" not in broken["msg"], broken
    # What the layout has is whole and verified; it lists nothing whose content is missing.
    assert tagged(target) == {}
    assert all(entry["digest"].split(":")[1] in blob_files(target) for entry in index_of(target)["manifests"])
    assert big.split(":")[1] not in blob_files(target)
    assert not [name for name in os.listdir(os.path.join(target, "blobs", "sha256")) if name.startswith(".")]
    assert_blobs_verified(target)

    done = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "multi"), dest="oci:%s:multi" % target)
    assert done["changed"] is True and tagged(target) == {"multi": index.digest}
    assert big.split(":")[1] in blob_files(target)
    assert_blobs_verified(target)


def test_leftover_partial_files_of_a_killed_run_are_ignored(registries, layout_repo, tmp_path, capsys):
    image = images.push_oci_image(registries, "plain", layout_repo, "1", seed=layout_repo)
    target = tmp_path / "killed"
    (target / "blobs" / "sha256").mkdir(parents=True)
    (target / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (target / "index.json").write_text('{"schemaVersion":2,"manifests":[]}')
    # A killed writer leaves its temporary file (a prefix of some blob) under a name no reader looks at.
    (target / "blobs" / "sha256" / ".partial-killed").write_bytes(b"half a layer")
    done = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1"), dest="oci:%s:1" % target)
    assert done["changed"] is True and tagged(str(target)) == {"1": image.digest}
    back = run(registry_copy, capsys, src="oci:%s:1" % target, dest=url(registries, "plain2", layout_repo, "1"))
    assert back["dest_digest"] == image.digest


def _crafted(tmp_path, case):
    """A layout with one image tagged 1, then made hostile as ``case`` says; returns (path, image)."""
    path = str(tmp_path / "crafted")
    layout = images.OCILayout(path)
    image = images.build_image(layout, layers=(4096,), seed="crafted", tag="1")
    index_path = os.path.join(path, "index.json")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not for the registry")
    layer = image.layers[0]["digest"]

    def set_index(data):
        with open(index_path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"))

    def rewrite_manifest(layer_digest):
        manifest = json.loads(image.raw)
        manifest["layers"][0]["digest"] = layer_digest
        raw = images.canonical_json(manifest)
        digest = layout.add_blob(raw)
        layout.tag("1", images.descriptor(image.media_type, digest, len(raw)))

    if case == "traversal_index":
        set_index({"schemaVersion": 2, "manifests": [{"mediaType": image.media_type, "digest": "sha256:../../outside/secret",
                                                      "size": 20, "annotations": {REF_NAME: "1"}}]})
    elif case == "sha512_index":
        set_index({"schemaVersion": 2, "manifests": [{"mediaType": image.media_type, "digest": "sha512:" + "a" * 128,
                                                      "size": 20, "annotations": {REF_NAME: "1"}}]})
    elif case == "traversal_layer":
        rewrite_manifest("sha256:../../../outside/secret")
    elif case == "symlink_blob":
        os.unlink(layout.blob_path(layer))
        os.symlink(str(outside / "secret"), layout.blob_path(layer))
    elif case == "symlink_dir":
        moved = str(tmp_path / "moved-blobs")
        os.rename(os.path.join(path, "blobs", "sha256"), moved)
        os.symlink(moved, os.path.join(path, "blobs", "sha256"))
    elif case == "symlink_index":
        os.rename(index_path, str(outside / "index.json"))
        os.symlink(str(outside / "index.json"), index_path)
    elif case == "huge_index":
        with open(index_path, "wb") as handle:
            handle.write(b'{"manifests":[' + b" " * (5 * 1024 * 1024) + b"]}")
    elif case == "many_entries":
        entry = {"digest": image.digest, "size": image.size}
        set_index({"schemaVersion": 2, "manifests": [dict(entry, annotations={REF_NAME: "t%d" % n}) for n in range(20001)]})
    elif case == "tampered_layer":
        with open(layout.blob_path(layer), "r+b") as handle:
            handle.seek(100)
            byte = handle.read(1)
            handle.seek(100)
            handle.write(bytes([byte[0] ^ 0xFF]))
    elif case == "not_json":
        with open(index_path, "wb") as handle:
            handle.write(b"\x00\xff not json")
    return path, image


HOSTILE = {
    "traversal_index": "only sha256:<64 lowercase hex> digests",
    "sha512_index": "only sha256:<64 lowercase hex> digests",
    "traversal_layer": "only sha256:<64 lowercase hex> digests",
    "symlink_blob": "symbolic link",
    "symlink_dir": "symbolic link",
    "symlink_index": "symbolic link",
    "huge_index": "more than the 4194304 this reader accepts",
    "many_entries": "more than 20000",
    "tampered_layer": "hashes to",
    "not_json": "not JSON",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("dest_kind", ["registry", "layout"])
def test_hostile_layouts_are_refused_with_one_line(registries, skopeo, layout_repo, tmp_path, capsys, case, dest_kind):
    path, image = _crafted(tmp_path, case)
    dest_layout = str(tmp_path / "dest")
    dest = url(registries, "plain2", layout_repo, "1") if dest_kind == "registry" else "oci:%s:1" % dest_layout
    result = run(registry_copy, capsys, src="oci:%s:1" % path, dest=dest)
    assert result.get("failed") is True, result
    assert HOSTILE[case] in result["msg"] and "\n" not in result["msg"], result["msg"]
    assert "not for the registry" not in json.dumps(result)
    if dest_kind == "registry":
        assert skopeo.list_tags("plain2", layout_repo, check=False).returncode != 0
    else:
        assert not os.path.exists(dest_layout) or tagged(dest_layout) == {}
        assert not os.path.exists(dest_layout) or not any(name.startswith(".") for name in blob_files(dest_layout))


def test_skopeo_loads_our_layout_and_we_load_skopeos_keeping_digests(registries, skopeo, layout_repo, tmp_path, capsys):
    index = images.push_index(registries, "plain", layout_repo, "multi", seed=layout_repo)
    ours = str(tmp_path / "ours")
    run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "multi"), dest="oci:%s:multi" % ours)
    skopeo.copy("oci:%s:multi" % ours, skopeo.reference("plain2", layout_repo, "from-ours"), dest_variant="plain2")
    assert skopeo.inspect_digest("plain2", layout_repo, "from-ours") == index.digest
    assert hashlib.sha256(skopeo.inspect_raw("plain2", layout_repo, "from-ours")).hexdigest() == index.digest[7:]

    theirs = str(tmp_path / "theirs")
    skopeo.copy(skopeo.reference("plain", layout_repo, "multi"), "oci:%s:multi" % theirs, src_variant="plain")
    assert tagged(theirs) == {"multi": index.digest}
    loaded = run(registry_copy, capsys, src="oci:%s:multi" % theirs, dest=url(registries, "plain2", layout_repo, "from-theirs"))
    assert loaded["changed"] is True and loaded["dest_digest"] == index.digest
    assert skopeo.inspect_digest("plain2", layout_repo, "from-theirs") == index.digest
    # Into skopeo's layout under another tag: its blobs are reused, its entries kept.
    more = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "multi"), dest="oci:%s:again" % theirs)
    assert more["blobs"]["copied"] == 0 and tagged(theirs) == {"multi": index.digest, "again": index.digest}


def test_referrers_and_cosign_signatures_travel_through_a_layout(registries, skopeo, layout_repo, tmp_path, capsys):
    image = images.push_oci_image(registries, "plain", layout_repo, "1", seed=layout_repo)
    artifact = images.push_artifact(registries, "plain", layout_repo, image, referrers_tag=True)
    signature = (SIMPLE_SIGNING, b"build payload", {SIGNATURE_ANNOTATION: "build-signature"})
    sig_tag = image.digest.replace(":", "-") + ".sig"
    with RawRegistry(registries, "plain") as plain:
        sig_digest = cosign.attach(plain, layout_repo, sig_tag, [signature])
    sig_digest = getattr(sig_digest, "digest", sig_digest)
    target = str(tmp_path / "signed")

    packed = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1"), dest="oci:%s:1" % target,
                 referrers=True)
    assert packed["changed"] is True, packed
    assert packed["attachments"] == [sig_tag]
    assert artifact.digest in packed["referrers"]
    entries = index_of(target)["manifests"]
    assert tagged(target) == {"1": image.digest, sig_tag: sig_digest}
    # The image-spec way: the referrer is an untagged index.json entry, its manifest (with subject) in blobs.
    untagged = [entry for entry in entries if REF_NAME not in (entry.get("annotations") or {})]
    assert [entry["digest"] for entry in untagged] == [artifact.digest]
    with open(os.path.join(target, "blobs", "sha256", artifact.digest[7:]), "rb") as handle:
        assert json.load(handle)["subject"]["digest"] == image.digest
    assert not any(name.startswith("sha256-") and not name.endswith(".sig") for name in tagged(target))
    again = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1"), dest="oci:%s:1" % target,
                referrers=True)
    assert again["changed"] is False, again

    unpacked = run(registry_copy, capsys, src="oci:%s:1" % target, dest=url(registries, "plain2", layout_repo, "1"),
                   referrers=True)
    assert unpacked["changed"] is True and unpacked["attachments"] == [sig_tag], unpacked
    assert skopeo.inspect_digest("plain2", layout_repo, "1") == image.digest
    assert hashlib.sha256(skopeo.inspect_raw("plain2", layout_repo, sig_tag)).hexdigest() == sig_digest[7:]
    fallback = json.loads(skopeo.inspect_raw("plain2", layout_repo, image.digest.replace(":", "-")))
    assert [entry["digest"] for entry in fallback["manifests"]] == [artifact.digest]
    # skopeo reads the signature out of our layout as an ordinary tag.
    skopeo.copy("oci:%s:%s" % (target, sig_tag), skopeo.reference("plain2", layout_repo, "sig-by-skopeo"),
                dest_variant="plain2")
    assert skopeo.inspect_digest("plain2", layout_repo, "sig-by-skopeo") == sig_digest


def archive_members(path):
    with tarfile.open(path, "r:") as archive:
        return {member.name: member for member in archive.getmembers()}


def archive_index(path):
    with tarfile.open(path, "r:") as archive:
        return json.load(archive.extractfile("index.json"))


def test_archive_round_trip_check_mode_idempotent_and_skopeo(registries, skopeo, layout_repo, tmp_path, capsys):
    index = images.push_index(registries, "plain", layout_repo, "multi", seed=layout_repo)
    single = images.push_oci_image(registries, "plain", layout_repo, "single", seed=layout_repo + "/s")
    archive = str(tmp_path / "release.tar")
    src = url(registries, "plain", layout_repo, "multi")

    predicted = run(registry_copy, capsys, check_mode=True, src=src, dest="oci-archive:%s:multi" % archive)
    assert predicted["changed"] is True and os.listdir(str(tmp_path)) == []

    packed = run(registry_copy, capsys, src=src, dest="oci-archive:%s:multi" % archive)
    assert packed["changed"] is True and packed["dest_digest"] == index.digest
    assert sorted(os.listdir(str(tmp_path))) == ["release.tar"], "staging or temporary files were left"
    members = archive_members(archive)
    assert {"oci-layout", "index.json"} <= set(members)
    assert all(member.isreg() or member.isdir() for member in members.values())
    mtime = os.stat(archive).st_mtime_ns
    again = run(registry_copy, capsys, src=src, dest="oci-archive:%s:multi" % archive)
    assert again["changed"] is False and os.stat(archive).st_mtime_ns == mtime, "an unchanged archive was rewritten"

    # Another tag into the same archive keeps the first and stores shared blobs once.
    added = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "single"),
                dest="oci-archive:%s:single" % archive)
    assert added["changed"] is True
    assert {entry["annotations"][REF_NAME]: entry["digest"] for entry in archive_index(archive)["manifests"]} == {
        "multi": index.digest, "single": single.digest}
    names = [name for name in archive_members(archive) if name.startswith("blobs/sha256/") and len(name) > 20]
    assert len(names) == len(set(names))

    loaded = run(registry_copy, capsys, src="oci-archive:%s:multi" % archive, dest=url(registries, "plain2", layout_repo, "m"))
    assert loaded["dest_digest"] == index.digest
    assert skopeo.inspect_digest("plain2", layout_repo, "m") == index.digest
    skopeo.copy("oci-archive:%s:single" % archive, skopeo.reference("plain2", layout_repo, "s-by-skopeo"),
                dest_variant="plain2")
    assert skopeo.inspect_digest("plain2", layout_repo, "s-by-skopeo") == single.digest
    theirs = str(tmp_path / "theirs.tar")
    skopeo.copy(skopeo.reference("plain", layout_repo, "multi"), "oci-archive:%s:multi" % theirs, src_variant="plain")
    from_theirs = run(registry_copy, capsys, src="oci-archive:%s:multi" % theirs,
                      dest=url(registries, "plain2", layout_repo, "from-theirs"))
    assert from_theirs["dest_digest"] == index.digest


def test_failed_copy_into_an_archive_leaves_the_old_archive_and_no_debris(registries, layout_repo, tmp_path, capsys):
    first = images.push_oci_image(registries, "plain", layout_repo, "1", seed=layout_repo + "/1")
    images.push_oci_image(registries, "plain", layout_repo, "2", seed=layout_repo + "/2", layers=(200000,))
    archive = str(tmp_path / "a.tar")
    run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1"), dest="oci-archive:%s:1" % archive)
    with open(archive, "rb") as handle:
        before = hashlib.sha256(handle.read()).hexdigest()
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        proxy.add("truncate", method="GET", path=r"/blobs/sha256:", times=None, after_bytes=1000)
        broken = run(registry_copy, capsys, src="%s/%s:2" % (proxy.url, layout_repo), dest="oci-archive:%s:2" % archive,
                     retries=0)
    assert broken["failed"] is True and "\n" not in broken["msg"]
    assert os.listdir(str(tmp_path)) == ["a.tar"]
    with open(archive, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == before
    assert [entry["digest"] for entry in archive_index(archive)["manifests"]] == [first.digest]


def _hostile_archive(path, case):
    with tarfile.open(path, "w") as archive:
        def add(name, data=b"x", kind=tarfile.REGTYPE, link=""):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            archive.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", b'{"schemaVersion":2,"manifests":[]}')
        if case == "dotdot":
            add("blobs/sha256/../../../escape")
        elif case == "absolute":
            add("/etc/escape")
        elif case == "symlink":
            add("blobs/sha256/" + "a" * 64, kind=tarfile.SYMTYPE, link="/etc/passwd")
        elif case == "hardlink":
            add("blobs/sha256/" + "a" * 64, kind=tarfile.LNKTYPE, link="oci-layout")
        elif case == "device":
            add("blobs/sha256/" + "a" * 64, kind=tarfile.CHRTYPE)
    if case == "not_tar":
        with open(path, "wb") as handle:
            handle.write(b"\x1f\x8b not a tar at all" * 100)


@pytest.mark.parametrize("case,expected", [("dotdot", "outside the layout"), ("absolute", "outside the layout"),
                                           ("symlink", "a link"), ("hardlink", "a link"),
                                           ("device", "special file"), ("not_tar", "not an uncompressed tar")])
def test_hostile_archives_are_refused(registries, layout_repo, tmp_path, capsys, case, expected):
    archive = str(tmp_path / "hostile.tar")
    _hostile_archive(archive, case)
    as_src = run(registry_copy, capsys, src="oci-archive:%s:1" % archive, dest=url(registries, "plain2", layout_repo, "1"))
    as_dest = run(registry_copy, capsys, src="oci-archive:%s:1" % archive, dest="oci-archive:%s:1" % (tmp_path / "o.tar"))
    for result in (as_src, as_dest):
        assert result["failed"] is True and expected in result["msg"] and "\n" not in result["msg"], result["msg"]
    assert sorted(os.listdir(str(tmp_path))) == ["hostile.tar"]


def test_mirror_role_entries_pack_into_an_archive_and_load_from_it(registries, skopeo, layout_repo, tmp_path, capsys):
    """The mirror role's filter passes oci-archive: ends through to registry_copy images (one run per shard)."""
    one = images.push_oci_image(registries, "plain", layout_repo + "/a", "1.0", seed=layout_repo + "/a")
    index = images.push_index(registries, "plain", layout_repo + "/b", "2.0", seed=layout_repo + "/b")
    archive = str(tmp_path / "site.tar")
    entries = [{"src": url(registries, "plain", layout_repo + "/a"), "dest": "oci-archive:" + archive, "tags": ["1.0"]},
               {"src": url(registries, "plain", layout_repo + "/b", "2.0"), "dest": "oci-archive:%s:b-2.0" % archive}]
    packed = run(registry_copy, capsys, images=mirror_copy_items(entries))
    assert packed["changed"] is True and [image["status"] for image in packed["images"]] == ["done", "done"], packed
    assert {entry["annotations"][REF_NAME]: entry["digest"] for entry in archive_index(archive)["manifests"]} == {
        "1.0": one.digest, "b-2.0": index.digest}
    assert run(registry_copy, capsys, images=mirror_copy_items(entries))["changed"] is False

    back = [{"src": "oci-archive:" + archive, "dest": url(registries, "plain2", layout_repo + "/a"), "tags": ["1.0"]},
            {"src": "oci-archive:%s:b-2.0" % archive, "dest": url(registries, "plain2", layout_repo + "/b", "2.0")}]
    loaded = run(registry_copy, capsys, images=mirror_copy_items(back))
    assert [image["status"] for image in loaded["images"]] == ["done", "done"], loaded
    report = mirror_report(loaded, back)
    assert [item["changed"] for item in report] == [True, True]
    assert skopeo.inspect_digest("plain2", layout_repo + "/a", "1.0") == one.digest
    assert skopeo.inspect_digest("plain2", layout_repo + "/b", "2.0") == index.digest


def test_chunk_size_writes_a_layout_through_the_chunked_path(registries, layout_repo, tmp_path, capsys):
    image = images.push_oci_image(registries, "plain", layout_repo, "1", seed=layout_repo, layers=(300000,))
    target = str(tmp_path / "chunked")
    done = run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1"), dest="oci:%s:1" % target,
               chunk_size=65536)
    assert done["dest_digest"] == image.digest and tagged(target) == {"1": image.digest}
    assert_blobs_verified(target)
    assert not [name for name in os.listdir(os.path.join(target, "blobs", "sha256")) if name.startswith(".")]


def test_disconnected_guide_release_with_signatures_through_an_archive(registries, skopeo, layout_repo, tmp_path, capsys):
    """The guide's two playbooks: pack a release with tag_pattern and referrers, load it at the site."""
    release = {tag: images.push_oci_image(registries, "plain", layout_repo, tag, seed=layout_repo + tag)
               for tag in ("1.4.0", "1.4.1")}
    images.push_oci_image(registries, "plain", layout_repo, "1.5.0", seed=layout_repo + "1.5.0")
    sig_tag = release["1.4.1"].digest.replace(":", "-") + ".sig"
    with RawRegistry(registries, "plain") as plain:
        cosign.attach(plain, layout_repo, sig_tag, [(SIMPLE_SIGNING, b"payload", {SIGNATURE_ANNOTATION: "sig"})])
    archive = str(tmp_path / "app-1.4.tar")
    pack = dict(src=url(registries, "plain", layout_repo), dest="oci-archive:" + archive, tag_pattern=r"^1\.4\.",
                referrers=True)
    packed = run(registry_copy, capsys, **pack)
    assert packed["changed"] is True and packed["attachments"] == [sig_tag], packed
    assert run(registry_copy, capsys, **pack)["changed"] is False
    load = dict(src="oci-archive:" + archive, dest=url(registries, "plain2", layout_repo), tag_pattern=r"^1\.4\.",
                referrers=True)
    loaded = run(registry_copy, capsys, **load)
    assert loaded["changed"] is True and loaded["attachments"] == [sig_tag], loaded
    assert sorted(skopeo.list_tags("plain2", layout_repo)) == ["1.4.0", "1.4.1", sig_tag]
    for tag, image in release.items():
        assert skopeo.inspect_digest("plain2", layout_repo, tag) == image.digest
    assert run(registry_copy, capsys, **load)["changed"] is False


@pytest.mark.parametrize("text,layout", [("oci:/srv/app:1.0", True), ("oci-archive:/srv/a.tar", True),
                                         ("oci:relative", True), ("oci:5000/team/app:1", False),
                                         ("oci.example.com/team/app", False), ("ocifoo/app", False)])
def test_layout_references_are_told_from_registry_references(text, layout):
    assert is_layout_reference(text) is layout


def test_layout_files_get_the_usual_mode_and_a_replaced_archive_keeps_its_own(
        registries, layout_repo, tmp_path, capsys):
    images.push_oci_image(registries, "plain", layout_repo, "1", seed=layout_repo)
    images.push_oci_image(registries, "plain", layout_repo, "2", seed=layout_repo + "/2")
    target = str(tmp_path / "modes")
    run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1"), dest="oci:%s:1" % target)
    expected = 0o666 & ~_layout.process_umask()
    for name in ["index.json", "oci-layout"] + ["blobs/sha256/" + blob for blob in blob_files(target)]:
        assert stat.S_IMODE(os.stat(os.path.join(target, name)).st_mode) == expected, name
    archive = str(tmp_path / "a.tar")
    run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1"), dest="oci-archive:%s:1" % archive)
    assert stat.S_IMODE(os.stat(archive).st_mode) == expected
    os.chmod(archive, 0o640)
    run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "2"), dest="oci-archive:%s:2" % archive)
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o640


def test_referrer_whose_index_entry_was_lost_is_listed_again(registries, layout_repo, tmp_path, capsys):
    """A copy that broke between a referrer's blob and its index.json entry: the next run adds the entry."""
    image = images.push_oci_image(registries, "plain", layout_repo, "1", seed=layout_repo)
    artifact = images.push_artifact(registries, "plain", layout_repo, image, referrers_tag=True)
    target = str(tmp_path / "lost")
    options = dict(src=url(registries, "plain", layout_repo, "1"), dest="oci:%s:1" % target, referrers=True)
    run(registry_copy, capsys, **options)
    index = index_of(target)
    index["manifests"] = [entry for entry in index["manifests"] if entry["digest"] != artifact.digest]
    with open(os.path.join(target, "index.json"), "w", encoding="utf-8") as handle:
        json.dump(index, handle)
    assert artifact.digest[7:] in blob_files(target)
    again = run(registry_copy, capsys, **options)
    assert again["changed"] is True and again["referrers"] == [artifact.digest], again
    assert artifact.digest in [entry["digest"] for entry in index_of(target)["manifests"]]
    assert run(registry_copy, capsys, **options)["changed"] is False


def test_check_mode_into_existing_layout_and_archive_writes_nothing_and_retag_within_a_layout(
        registries, layout_repo, tmp_path, capsys):
    one = images.push_oci_image(registries, "plain", layout_repo, "1", seed=layout_repo + "/1")
    images.push_oci_image(registries, "plain", layout_repo, "2", seed=layout_repo + "/2")
    directory, archive = str(tmp_path / "dir"), str(tmp_path / "a.tar")
    for dest in ("oci:%s:1" % directory, "oci-archive:%s:1" % archive):
        run(registry_copy, capsys, src=url(registries, "plain", layout_repo, "1"), dest=dest)
    snapshot = {}
    for root, dummy, files in os.walk(str(tmp_path)):
        for name in files:
            path = os.path.join(root, name)
            snapshot[path] = (os.stat(path).st_mtime_ns, os.stat(path).st_size)
    for dest in ("oci:%s:2" % directory, "oci-archive:%s:2" % archive):
        predicted = run(registry_copy, capsys, check_mode=True, src=url(registries, "plain", layout_repo, "2"),
                        dest=dest)
        assert predicted["changed"] is True and predicted["blobs"]["copied"] >= 1, predicted
    after = {}
    for root, dummy, files in os.walk(str(tmp_path)):
        for name in files:
            path = os.path.join(root, name)
            after[path] = (os.stat(path).st_mtime_ns, os.stat(path).st_size)
    assert after == snapshot, "check mode changed files"

    # A second tag for an image already in the layout: nothing but the index entry is written.
    retag = run(registry_copy, capsys, src="oci:%s:1" % directory, dest="oci:%s:one-again" % directory)
    assert retag["changed"] is True and retag["blobs"]["copied"] == 0
    assert tagged(directory) == {"1": one.digest, "one-again": one.digest}
