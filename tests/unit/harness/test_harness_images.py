"""The test-data builders: deterministic, and the digests they report are what the registry serves."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse

import requests

from ansible_collections.oci.registry.tests.registries import images


def _sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _pages(registries, variant, path, key, n=100):
    """Follow the Link header like any client would; returns the list of pages."""
    url = registries["registries"][variant]["url"]
    next_url, pages = "%s%s?n=%d" % (url, path, n), []
    while next_url:
        response = requests.get(next_url, verify=registries["ca_path"], timeout=30)
        response.raise_for_status()
        pages.append(response.json()[key])
        link = response.headers.get("Link")
        next_url = urllib.parse.urljoin(url, link.split(";")[0].strip("<> ")) if link else None
    return pages


def test_builders_are_deterministic(tmp_path):
    first = images.build_index(images.OCILayout(str(tmp_path / "a")), seed="same")
    second = images.build_index(images.OCILayout(str(tmp_path / "b")), seed="same")
    other = images.build_index(images.OCILayout(str(tmp_path / "c")), seed="other")
    assert first.raw == second.raw and first.digest == second.digest
    assert other.digest != first.digest
    layout_blob = tmp_path / "a" / "blobs" / "sha256" / first.digest.split(":", 1)[1]
    assert _sha256(layout_blob.read_bytes()) == first.digest


def test_oci_image_digests_match_skopeo(registries, skopeo, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "v1", layers=(10, 2048, 4096), labels={"team": "qa"},
                                  created="2023-05-06T07:08:09Z", seed=unique_repo)
    raw = skopeo.inspect_raw("plain", unique_repo, "v1")
    assert raw == image.raw and _sha256(raw) == image.digest
    manifest = json.loads(raw)
    assert manifest["mediaType"] == images.OCI_MANIFEST
    assert [layer["digest"] for layer in manifest["layers"]] == [layer["digest"] for layer in image.layers]
    config = json.loads(skopeo.run(["inspect", "--config", "--raw", "--tls-verify=false", skopeo.reference("plain", unique_repo, "v1")]).stdout)
    assert config["config"]["Labels"] == {"team": "qa"}
    assert config["created"] == "2023-05-06T07:08:09Z"
    assert len(config["rootfs"]["diff_ids"]) == 3


def test_docker_schema2_image_digest_matches_skopeo(registries, skopeo, unique_repo):
    image = images.push_docker_image(registries, "tls", unique_repo, "v1", seed=unique_repo)
    raw = skopeo.inspect_raw("tls", unique_repo, "v1")
    assert _sha256(raw) == image.digest
    manifest = json.loads(raw)
    assert manifest["mediaType"] == images.DOCKER_MANIFEST
    assert manifest["config"]["mediaType"] == images.DOCKER_CONFIG
    assert {layer["mediaType"] for layer in manifest["layers"]} == {images.DOCKER_LAYER_GZIP}


def test_multiarch_index_with_attestations(registries, skopeo, unique_repo):
    index = images.push_index(registries, "basic", unique_repo, "v1", seed=unique_repo)
    raw = skopeo.inspect_raw("basic", unique_repo, "v1", user="admin")
    assert _sha256(raw) == index.digest
    entries = json.loads(raw)["manifests"]
    platforms = [entry["platform"] for entry in entries]
    assert {"os": "linux", "architecture": "amd64"} in platforms
    assert {"os": "linux", "architecture": "arm64", "variant": "v8"} in platforms
    attestations = [entry for entry in entries if entry["platform"] == {"architecture": "unknown", "os": "unknown"}]
    assert len(attestations) == 2
    assert {entry["annotations"]["vnd.docker.reference.digest"] for entry in attestations} == {image.digest for image in index.images}
    assert {entry["annotations"]["vnd.docker.reference.type"] for entry in attestations} == {"attestation-manifest"}
    for digest in index.manifest_digests:
        assert _sha256(skopeo.inspect_raw("basic", unique_repo, digest, user="admin")) == digest
    arm = index.image_for("linux/arm64")
    assert skopeo.inspect_digest("basic", unique_repo, arm.digest, user="admin") == arm.digest


def test_docker_manifest_list(registries, skopeo, unique_repo):
    index = images.push_index(registries, "plain", unique_repo, "v1", docker=True, seed=unique_repo)
    manifest = json.loads(skopeo.inspect_raw("plain", unique_repo, "v1"))
    assert manifest["mediaType"] == images.DOCKER_LIST
    assert _sha256(skopeo.inspect_raw("plain", unique_repo, "v1")) == index.digest
    assert index.attestations == []


def test_artifact_with_subject_and_referrers_tag(registries, skopeo, unique_repo):
    subject = images.push_oci_image(registries, "token", unique_repo, "v1", seed=unique_repo)
    artifact = images.push_artifact(registries, "token", unique_repo, subject)
    raw = skopeo.inspect_raw("token", unique_repo, artifact.digest, user="puller")
    assert _sha256(raw) == artifact.digest
    manifest = json.loads(raw)
    assert manifest["artifactType"] == images.SIGNATURE_ARTIFACT
    assert manifest["config"]["mediaType"] == images.OCI_EMPTY
    assert manifest["subject"] == {"mediaType": images.OCI_MANIFEST, "digest": subject.digest, "size": subject.size}
    fallback_tag = subject.digest.replace(":", "-")
    assert sorted(skopeo.list_tags("token", unique_repo, user="puller")) == sorted(["v1", fallback_tag])
    referrers = json.loads(skopeo.inspect_raw("token", unique_repo, fallback_tag, user="puller"))
    assert [entry["digest"] for entry in referrers["manifests"]] == [artifact.digest]
    assert referrers["manifests"][0]["artifactType"] == images.SIGNATURE_ARTIFACT
    assert artifact.referrers_index.digest == _sha256(skopeo.inspect_raw("token", unique_repo, fallback_tag, user="puller"))


def test_many_tags_are_all_listed(registries, skopeo, unique_repo):
    image = images.seed_many_tags(registries, "plain", unique_repo, count=250)
    # distribution 2.8 ignores n on tags/list (pagination arrived in 3.0) and answers in one unsorted
    # page; following Link still has to yield every tag exactly once, whichever version runs.
    pages = _pages(registries, "plain", "/v2/%s/tags/list" % unique_repo, "tags")
    listed = [tag for page in pages for tag in page]
    assert sorted(listed) == sorted(image.tags)
    assert len(image.tags) == 250 and len(skopeo.list_tags("plain", unique_repo)) == 250
    assert skopeo.inspect_digest("plain", unique_repo, image.tags[-1]) == image.digest


def test_many_repositories_span_catalog_pages(registries, unique_repo):
    prefix = unique_repo + "/repo-"
    seeded = images.seed_many_repositories(registries, "plain2", count=120, prefix=prefix)
    assert len(seeded) == 120
    repositories = [name for page in _pages(registries, "plain2", "/v2/_catalog", "repositories", n=50) for name in page]
    assert sorted(name for name in repositories if name.startswith(prefix)) == sorted(image.repository for image in seeded)
    assert len(_pages(registries, "plain2", "/v2/_catalog", "repositories", n=50)) >= 3
    last = seeded[-1]
    response = requests.head("%s/v2/%s/manifests/latest" % (registries["registries"]["plain2"]["url"], last.repository),
                             headers={"Accept": images.OCI_MANIFEST}, timeout=10)
    assert response.headers["Docker-Content-Digest"] == seeded[0].digest


def test_big_image_is_streamed_and_pushable(registries, skopeo, unique_repo, tmp_path):
    layout = images.OCILayout(str(tmp_path / "big"))
    image = images.build_big_image(layout, layer_count=2, layer_mib=2, seed=unique_repo)
    for layer in image.layers:
        assert layer["mediaType"] == images.OCI_LAYER_TAR
        blob = layout.blob_path(layer["digest"])
        assert os.path.getsize(blob) == layer["size"] > 2 * images.MIB
        with open(blob, "rb") as handle:
            assert _sha256(handle.read()) == layer["digest"]
    images.push_layout(registries, "plain", layout.path, unique_repo, "big", layout_tag="latest")
    assert skopeo.inspect_digest("plain", unique_repo, "big") == image.digest
