# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_artifact in-process against the real registries; the ``oras`` Python package is the independent peer."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
import tracemalloc

import pytest

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._media import OCI_EMPTY_DATA, OCI_EMPTY_DIGEST, OCI_MANIFEST
from ansible_collections.oci.registry.plugins.module_utils._artifact_service import ArtifactService
from ansible_collections.oci.registry.plugins.modules import registry_artifact, registry_signature_info
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.images import deterministic_bytes
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

oras_client = pytest.importorskip("oras.client")

WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def repo(request):
    """A repository under this work's prefix hart/ that no other test uses."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    return "hart/%s-%s" % (name, secrets.token_hex(4))


@pytest.fixture
def plain(registries):
    return registries["registries"]["plain"]


def oras_for(registries, variant):
    """An oras client for ``variant``, credentials set on it (oras' login would write ~/.docker/config.json)."""
    info = registries["registries"][variant]
    secure = info["url"].startswith("https://")
    # oras' default backend reads any challenge as a token realm; htpasswd needs its basic backend.
    client = oras_client.OrasClient(hostname=info["host"], insecure=not secure,
                                    tls_verify=registries["ca_path"] if secure else False,
                                    auth_backend="basic" if variant == "basic" else "token")
    if info.get("users"):
        client.auth.set_basic_auth("admin", info["users"]["admin"])
    return client


def connection(registries, variant):
    info = registries["registries"][variant]
    options = dict(registry_url=info["url"])
    if info.get("users"):
        options.update(username="admin", password=info["users"]["admin"], ca_path=registries["ca_path"])
    elif info["url"].startswith("https://"):
        options.update(ca_path=registries["ca_path"])
    return options


def write(path, data):
    path.write_bytes(data)
    return str(path)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def writes(result):
    return [(r["method"], r["path"]) for r in result.get("trace", []) if r["method"] in WRITES]


# ---------------------------------------------------------------------------------------------- push


def test_check_mode_push_then_oras_pulls_byte_exact_then_repush_sends_no_write(
        registries, plain, repo, tmp_path, capsys):
    small = deterministic_bytes(repo, 3000)
    big = deterministic_bytes(repo + "/big", 300 * 1024)
    files = [write(tmp_path / "notes.txt", small),
             dict(path=write(tmp_path / "data.bin", big), media_type="application/vnd.example.data")]
    common = dict(registry_url=plain["url"], repository=repo, tag="v1", files=files,
                  artifact_type="application/vnd.example.bundle.v1", annotations={"release": "1.0"},
                  chunk_size=100 * 1024)

    predicted = run(registry_artifact, capsys, check_mode=True, verbosity=3, diff=True, **common)
    assert not predicted.get("failed"), predicted.get("msg")
    assert predicted["changed"] is True and writes(predicted) == []
    assert predicted["diff"]["before"]["digest"] is None
    assert sorted(predicted["uploaded"]) == sorted([OCI_EMPTY_DIGEST, sha256(small), sha256(big)])
    with RegistryClient(plain["url"]) as client:
        assert client.manifests.head_manifest(repo, "v1") is None

    pushed = run(registry_artifact, capsys, verbosity=3, **common)
    assert not pushed.get("failed"), pushed.get("msg")
    assert pushed["changed"] is True and pushed["digest"] == predicted["digest"]
    # 300 KiB in 100 KiB chunks went through the chunked, resumable writer.
    assert len([w for w in writes(pushed) if w[0] == "PATCH"]) >= 3
    assert [f["name"] for f in pushed["files"]] == ["notes.txt", "data.bin"]
    assert pushed["files"][1]["media_type"] == "application/vnd.example.data"

    with RegistryClient(plain["url"]) as client:
        manifest = json.loads(client.manifests.get_manifest(repo, "v1").raw)
    assert manifest["artifactType"] == "application/vnd.example.bundle.v1"
    assert manifest["config"] == {"mediaType": "application/vnd.oci.empty.v1+json", "digest": OCI_EMPTY_DIGEST,
                                  "size": len(OCI_EMPTY_DATA)}
    assert [layer["annotations"] for layer in manifest["layers"]] == [
        {"org.opencontainers.image.title": "notes.txt"}, {"org.opencontainers.image.title": "data.bin"}]
    assert manifest["annotations"] == {"release": "1.0"}
    assert manifest["mediaType"] == OCI_MANIFEST

    out = tmp_path / "oras-out"
    out.mkdir()
    oras_for(registries, "plain").pull(target="%s/%s:v1" % (plain["host"], repo), outdir=str(out))
    assert (out / "notes.txt").read_bytes() == small
    assert (out / "data.bin").read_bytes() == big

    again = run(registry_artifact, capsys, verbosity=3, diff=True, **common)
    assert again["changed"] is False and again["digest"] == pushed["digest"]
    assert again["uploaded"] == [] and writes(again) == []
    assert again["diff"]["before"] == again["diff"]["after"]


def test_large_file_streams_through_the_chunked_writer_both_ways(plain, repo, tmp_path, capsys):
    """48 MiB: above the monolithic limit, so chunked (8 MiB PATCHes), never held in memory whole."""
    big = tmp_path / "model.bin"
    block = deterministic_bytes(repo, 1024 * 1024)
    hasher = hashlib.sha256()
    with open(big, "wb") as handle:
        for position in range(48):
            chunk = bytes([position]) + block[1:]
            handle.write(chunk)
            hasher.update(chunk)
    digest = "sha256:" + hasher.hexdigest()
    tracemalloc.start()
    try:
        pushed = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, tag="big",
                     files=[str(big)], verbosity=3)
        dest = tmp_path / "dest"
        dest.mkdir()
        pulled = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, tag="big",
                     dest=str(dest))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not pushed.get("failed"), pushed.get("msg")
    assert pushed["files"][0]["digest"] == digest
    assert len([w for w in writes(pushed) if w[0] == "PATCH"]) == 6
    assert not pulled.get("failed"), pulled.get("msg")
    check = hashlib.sha256()
    with open(dest / "model.bin", "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            check.update(chunk)
    assert "sha256:" + check.hexdigest() == digest
    assert peak < 24 * 1024 * 1024, "peak Python memory %d bytes for a 48 MiB file" % peak


def test_same_files_give_the_same_digest_in_another_repository_and_by_digest(plain, repo, tmp_path, capsys):
    files = [write(tmp_path / "a.txt", b"alpha\n")]
    tagged = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, tag="t", files=files)
    untagged = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo + "-other", files=files)
    assert not untagged.get("failed"), untagged.get("msg")
    assert untagged["digest"] == tagged["digest"] and "tag" not in untagged
    pinned = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo + "-other", files=files,
                 digest=tagged["digest"])
    assert pinned["changed"] is False
    wrong = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, files=files,
                digest="sha256:" + "0" * 64)
    assert wrong["failed"] is True and "not the given digest" in wrong["msg"]


def test_retagging_changed_files_reports_previous_digest(plain, repo, tmp_path, capsys):
    path = tmp_path / "report.json"
    path.write_bytes(b'{"v": 1}')
    first = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, tag="latest", files=[str(path)])
    path.write_bytes(b'{"v": 2}')
    second = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, tag="latest",
                 files=[str(path)], diff=True)
    assert second["changed"] is True and second["previous_digest"] == first["digest"]
    assert second["uploaded"] == [sha256(b'{"v": 2}')]  # the empty config was there already
    assert second["diff"]["before"]["digest"] == first["digest"]


def test_config_file_and_helm_media_types_without_artifact_type(plain, repo, tmp_path, capsys):
    chart = write(tmp_path / "demo-0.1.0.tgz", deterministic_bytes(repo, 2048))
    config = write(tmp_path / "Chart.json", b'{"apiVersion":"v2","name":"demo","version":"0.1.0"}')
    result = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, tag="0.1.0",
                 files=[dict(path=chart, media_type="application/vnd.cncf.helm.chart.content.v1.tar+gzip")],
                 config=dict(path=config, media_type="application/vnd.cncf.helm.config.v1+json"))
    assert not result.get("failed"), result.get("msg")
    with RegistryClient(plain["url"]) as client:
        manifest = json.loads(client.manifests.get_manifest(repo, "0.1.0").raw)
    assert "artifactType" not in manifest
    assert manifest["config"]["mediaType"] == "application/vnd.cncf.helm.config.v1+json"
    assert manifest["config"]["digest"] == sha256(open(config, "rb").read())
    assert manifest["layers"][0]["mediaType"] == "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


# ---------------------------------------------------------------------------------------------- pull


def test_oras_push_then_module_pulls_byte_exact_idempotent_and_check_mode_writes_nothing(
        registries, plain, repo, tmp_path, capsys, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    one = deterministic_bytes(repo, 5000)
    two = deterministic_bytes(repo + "/2", 70 * 1024)
    (src / "one.txt").write_bytes(one)
    (src / "two.dat").write_bytes(two)
    monkeypatch.chdir(src)  # oras pushes paths relative to the working directory only
    oras_for(registries, "plain").push(target="%s/%s:peer" % (plain["host"], repo),
                                       files=["one.txt", "two.dat:application/vnd.example.two"], quiet=True)
    dest = tmp_path / "dest"
    dest.mkdir()
    common = dict(registry_url=plain["url"], repository=repo, tag="peer", dest=str(dest))

    predicted = run(registry_artifact, capsys, check_mode=True, **common)
    assert not predicted.get("failed"), predicted.get("msg")
    assert predicted["changed"] is True and os.listdir(dest) == []

    pulled = run(registry_artifact, capsys, **common)
    assert not pulled.get("failed"), pulled.get("msg")
    assert pulled["changed"] is True
    assert (dest / "one.txt").read_bytes() == one and (dest / "two.dat").read_bytes() == two
    assert sorted(os.listdir(dest)) == ["one.txt", "two.dat"]  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    # A new file gets the umask's permissions, not the private ones of its temporary file.
    assert stat.S_IMODE(os.stat(dest / "one.txt").st_mode) == 0o666 & ~umask
    assert {f["name"]: f["media_type"] for f in pulled["files"]}["two.dat"] == "application/vnd.example.two"
    before = os.stat(dest / "two.dat")

    again = run(registry_artifact, capsys, verbosity=3, **common)
    assert again["changed"] is False
    assert not [r for r in again["trace"] if "/blobs/" in r["path"]]
    after = os.stat(dest / "two.dat")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    (dest / "one.txt").write_bytes(b"tampered")
    repaired = run(registry_artifact, capsys, **common)
    assert repaired["changed"] is True and (dest / "one.txt").read_bytes() == one


def put_artifact(url, repository, tag, layers):
    """An artifact whose layer titles we choose (as a hostile registry user could): [(title or None, data)]."""
    descriptors = []
    with RegistryClient(url) as client:
        client.uploads.upload_blob(repository, OCI_EMPTY_DATA)
        for title, data in layers:
            client.uploads.upload_blob(repository, data)
            descriptor = {"mediaType": "application/octet-stream", "digest": sha256(data), "size": len(data)}
            if title is not None:
                descriptor["annotations"] = {"org.opencontainers.image.title": title}
            descriptors.append(descriptor)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/vnd.example",
                    "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": OCI_EMPTY_DIGEST,
                               "size": 2},
                    "layers": descriptors}
        client.manifests.put_manifest(repository, tag, json.dumps(manifest).encode(), OCI_MANIFEST)


@pytest.mark.parametrize("title", ["../escape.txt", "/tmp/absolute.txt", "sub/../../escape.txt", "..", "a\\b",
                                   "sub//x"])
def test_hostile_titles_are_refused_before_anything_is_written(plain, repo, tmp_path, capsys, title):
    put_artifact(plain["url"], repo, "evil", [("fine.txt", b"fine"), (title, b"evil")])
    dest = tmp_path / "dest"
    dest.mkdir()
    result = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, tag="evil", dest=str(dest))
    assert result["failed"] is True
    assert "refusing" in result["msg"] and "\n" not in result["msg"]
    assert os.listdir(dest) == [] and sorted(os.listdir(tmp_path)) == ["dest"]


def test_symlink_in_dest_does_not_carry_a_title_outside(plain, repo, tmp_path, capsys):
    put_artifact(plain["url"], repo, "link", [("out/x.txt", b"x")])
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "out").symlink_to(outside)
    result = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, tag="link", dest=str(dest))
    assert result["failed"] is True and "outside dest" in result["msg"]
    assert os.listdir(outside) == []


def test_untitled_layer_gets_its_hex_and_subdirectory_titles_stay_inside(plain, repo, tmp_path, capsys):
    put_artifact(plain["url"], repo, "mixed", [(None, b"no title"), ("docs/readme.md", b"# hi")])
    dest = tmp_path / "dest"
    dest.mkdir()
    result = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, tag="mixed", dest=str(dest))
    assert not result.get("failed"), result.get("msg")
    assert (dest / sha256(b"no title").split(":")[1]).read_bytes() == b"no title"
    assert (dest / "docs" / "readme.md").read_bytes() == b"# hi"


# ---------------------------------------------------------------------------------------------- subject


def test_subject_makes_a_referrer_listed_in_the_fallback_index(registries, plain, repo, tmp_path, capsys, skopeo):
    image = images.push_oci_image(registries, "plain", repo, "1.0", seed=repo)
    sbom = write(tmp_path / "sbom.spdx.json", b'{"spdxVersion": "SPDX-2.3"}')
    common = dict(registry_url=plain["url"], repository=repo, subject="1.0", artifact_type="application/spdx+json",
                  files=[dict(path=sbom, media_type="application/spdx+json")])

    predicted = run(registry_artifact, capsys, check_mode=True, **common)
    assert predicted["changed"] is True and predicted["fallback_index"] is True
    fallback_tag = image.digest.replace(":", "-")
    assert fallback_tag not in skopeo.list_tags("plain", repo)

    pushed = run(registry_artifact, capsys, **common)
    assert not pushed.get("failed"), pushed.get("msg")
    assert pushed["subject"] == image.digest and pushed["fallback_index"] is True
    with RegistryClient(plain["url"]) as client:
        listed = client.referrers.list_referrers(repo, image.digest, artifact_type="application/spdx+json")
        manifest = json.loads(client.manifests.get_manifest(repo, pushed["digest"]).raw)
    assert [d.digest for d in listed.descriptors] == [pushed["digest"]]
    assert manifest["subject"] == {"mediaType": image.media_type, "digest": image.digest, "size": image.size}
    assert fallback_tag in skopeo.list_tags("plain", repo)

    again = run(registry_artifact, capsys, verbosity=3, **common)
    assert again["changed"] is False and writes(again) == []

    # registry_signature_info finds it among the image's SBOMs (artifact type spdx).
    info = run(registry_signature_info, capsys, registry_url=plain["url"], repository=repo, reference="1.0")
    assert [sbom["digest"] for sbom in info["sboms"]] == [pushed["digest"]]

    # Deleting the referrer takes it out of the fallback index too; another referrer stays listed.
    other = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, subject="1.0",
                files=[write(tmp_path / "notes.txt", b"notes")])
    removal = dict(registry_url=plain["url"], repository=repo, digest=pushed["digest"], state="absent")
    predicted = run(registry_artifact, capsys, check_mode=True, verbosity=3, **removal)
    assert predicted["fallback_index"] is True and writes(predicted) == []
    deleted = run(registry_artifact, capsys, **removal)
    assert deleted["changed"] is True and deleted["fallback_index"] is True and deleted["subject"] == image.digest
    with RegistryClient(plain["url"]) as client:
        listed = client.referrers.list_referrers(repo, image.digest)
    assert [d.digest for d in listed.descriptors] == [other["digest"]]
    assert run(registry_artifact, capsys, **removal)["changed"] is False


def test_rerun_completes_a_fallback_index_an_interrupted_push_left_out(registries, plain, repo, tmp_path, capsys):
    image = images.push_oci_image(registries, "plain", repo, "1.0", seed=repo)
    report = write(tmp_path / "scan.json", b'{"vulnerabilities": []}')
    service = ArtifactService(None)
    layers, config, artifact_type = service.prepare([report], artifact_type="application/vnd.example.scan.v1")
    with RegistryClient(plain["url"]) as client:
        subject = client.manifests.head_manifest(repo, "1.0")
        manifest, raw = service.manifest(layers, config, artifact_type, subject=subject)
        for blob in [config] + layers:
            client.uploads.upload_blob(repo, blob.source)
        # The run that stopped here wrote the manifest but not the fallback index.
        client.manifests.put_manifest(repo, sha256(raw), raw, OCI_MANIFEST)
    common = dict(registry_url=plain["url"], repository=repo, subject="1.0",
                  artifact_type="application/vnd.example.scan.v1", files=[report])
    predicted = run(registry_artifact, capsys, check_mode=True, verbosity=3, **common)
    assert predicted["changed"] is True and predicted["fallback_index"] is True and writes(predicted) == []
    repaired = run(registry_artifact, capsys, verbosity=3, **common)
    assert repaired["changed"] is True and repaired["uploaded"] == []
    assert writes(repaired) == [("PUT", "/v2/%s/manifests/%s" % (repo, image.digest.replace(":", "-")))]
    assert run(registry_artifact, capsys, **common)["changed"] is False


def test_subject_missing_fails_with_what_to_do(plain, repo, tmp_path, capsys):
    result = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, subject="nope",
                 files=[write(tmp_path / "f", b"x")])
    assert result["failed"] is True and "push the image first" in result["msg"]


# ---------------------------------------------------------------------------------------------- absent


def test_absent_deletes_by_digest_check_mode_first_then_missing_is_no_change(plain, repo, tmp_path, capsys):
    pushed = run(registry_artifact, capsys, registry_url=plain["url"], repository=repo, tag="gone",
                 files=[write(tmp_path / "f.txt", b"bye")])
    common = dict(registry_url=plain["url"], repository=repo, tag="gone", state="absent")
    predicted = run(registry_artifact, capsys, check_mode=True, **common)
    assert predicted["changed"] is True and predicted["digest"] == pushed["digest"]
    with RegistryClient(plain["url"]) as client:
        assert client.manifests.head_manifest(repo, pushed["digest"]) is not None
    deleted = run(registry_artifact, capsys, **common)
    assert deleted["changed"] is True
    with RegistryClient(plain["url"]) as client:
        assert client.manifests.head_manifest(repo, pushed["digest"]) is None
    again = run(registry_artifact, capsys, **common)
    assert again["changed"] is False and again["digest"] is None


def test_absent_on_registry_refusing_deletes_says_how_to_enable_them(registries, repo, tmp_path, capsys):
    url = registries["registries"]["plain_nodelete"]["url"]
    run(registry_artifact, capsys, registry_url=url, repository=repo, tag="keep", files=[write(tmp_path / "k", b"k")])
    result = run(registry_artifact, capsys, registry_url=url, repository=repo, tag="keep", state="absent")
    assert result["failed"] is True
    assert "deletes are disabled" in result["msg"] and "\n" not in result["msg"]
    assert "Traceback" not in json.dumps(result.get("msg"))


# ---------------------------------------------------------------------------------------------- errors, auth


def test_user_errors_are_one_line_and_send_nothing(plain, repo, tmp_path, capsys):
    cases = [
        (dict(files=[str(tmp_path / "missing.txt")]), "does not exist or is not a regular file"),
        (dict(files=[str(tmp_path)]), "does not exist or is not a regular file"),
        (dict(files=[dict(path=write(tmp_path / "x", b"x"), media_type="not a type")]), "is not a media type"),
        (dict(files=[write(tmp_path / "y", b"y"), write((tmp_path / "y").with_suffix(""), b"z")]), None),
        (dict(tag="bad tag", files=[write(tmp_path / "z", b"z")]), "invalid tag"),
        (dict(dest=str(tmp_path / "nodir"), tag="t"), "not a directory"),
        (dict(dest=str(tmp_path), artifact_type="a/b", tag="t"), "only apply to a push"),
        (dict(state="absent"), "exactly one of tag or digest"),
        (dict(), "needs files"),
        (dict(files=[write(tmp_path / "c", b"c")], chunk_size=0), "chunk_size"),
    ]
    (tmp_path / "dup").mkdir()
    cases[3] = (dict(files=[write(tmp_path / "same.txt", b"1"), write(tmp_path / "dup" / "same.txt", b"2")]),
                "same name")
    for options, expected in cases:
        # An unroutable registry: any request would fail differently from the message expected.
        result = run(registry_artifact, capsys, registry_url="http://127.0.0.1:9", repository=repo, **options)
        assert result["failed"] is True, options
        assert expected in result["msg"], (options, result["msg"])
        assert "\n" not in result["msg"] and "Traceback" not in result["msg"]


def test_wrong_password_is_one_line_without_the_secret(registries, repo, tmp_path, capsys):
    info = registries["registries"]["basic"]
    result = run(registry_artifact, capsys, registry_url=info["url"], ca_path=registries["ca_path"],
                 username="admin", password="wrong-secret-123", repository=repo, tag="t",
                 files=[write(tmp_path / "f", b"f")])
    assert result["failed"] is True
    assert "\n" not in result["msg"] and "wrong-secret-123" not in json.dumps(result)


@pytest.mark.parametrize("variant", ["basic", "token"])
def test_auth_variants_push_pull_and_oras_reads_what_we_pushed(registries, repo, tmp_path, capsys, variant):
    data = deterministic_bytes(repo, 10 * 1024)
    options = connection(registries, variant)
    pushed = run(registry_artifact, capsys, repository=repo, tag="v1", files=[write(tmp_path / "payload.bin", data)],
                 **options)
    assert not pushed.get("failed"), pushed.get("msg")
    again = run(registry_artifact, capsys, repository=repo, tag="v1", files=[str(tmp_path / "payload.bin")],
                **options)
    assert again["changed"] is False
    dest = tmp_path / "dest"
    dest.mkdir()
    pulled = run(registry_artifact, capsys, repository=repo, tag="v1", dest=str(dest), **options)
    assert not pulled.get("failed"), pulled.get("msg")
    assert (dest / "payload.bin").read_bytes() == data
    out = tmp_path / "oras"
    out.mkdir()
    host = registries["registries"][variant]["host"]
    oras_for(registries, variant).pull(target="%s/%s:v1" % (host, repo), outdir=str(out))
    assert (out / "payload.bin").read_bytes() == data
    for result in (pushed, again, pulled):
        assert options["password"] not in json.dumps(result)


def test_pull_only_user_pushing_is_refused_in_one_line(registries, repo, tmp_path, capsys):
    token = registries["registries"]["token"]
    result = run(registry_artifact, capsys, registry_url=token["url"], ca_path=registries["ca_path"],
                 username="puller", password=token["users"]["puller"], repository=repo, tag="t",
                 files=[write(tmp_path / "f", b"f")])
    assert result["failed"] is True and "\n" not in result["msg"]
    assert token["users"]["puller"] not in json.dumps(result)
    assert re.search(r"(?i)denied|permission|insufficient", result["msg"]), result["msg"]
