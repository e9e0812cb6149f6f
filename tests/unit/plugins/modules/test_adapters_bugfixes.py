# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bugs found while making the modules thin adapters; each test failed on the code before the fix."""

from __future__ import annotations

import hashlib
import io
import json
import secrets

import pytest
import responses

from ansible_collections.oci.registry.plugins.module_utils import _media as media
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.modules import registry_blob, registry_tag_info
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run


@pytest.fixture
def had_repo(request):
    name = "".join(c if c.isalnum() else "-" for c in request.node.name.lower()).strip("-")[:40].strip("-")
    return "had/fix-%s-%s" % (name, secrets.token_hex(4))


@pytest.fixture
def plain(registries):
    return registries["registries"]["plain"]["url"]


def blob_file(tmp_path, seed, size):
    data = images.deterministic_bytes(seed, size)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    return path, "sha256:" + hashlib.sha256(data).hexdigest(), data


def test_check_mode_predicts_an_upload_when_mount_from_lacks_the_blob(plain, had_repo, tmp_path, capsys):
    # Check mode said "mounted" whenever mount_from was given; the registry mounts only what the
    # source repository has, so the real run uploaded from src.
    src, digest, data = blob_file(tmp_path, had_repo, 100 * 1024)
    options = dict(registry_url=plain, repository=had_repo, src=str(src), mount_from=had_repo + "-empty")
    predicted = run(registry_blob, capsys, check_mode=True, **options)
    assert not predicted.get("failed"), predicted.get("msg")
    assert (predicted["changed"], predicted["method"], predicted["size"]) == (True, "uploaded", len(data))
    with RegistryClient(plain) as client:
        assert client.blobs.blob_exists(had_repo, digest) is None  # check mode wrote nothing
    done = run(registry_blob, capsys, **options)
    assert (done["changed"], done["method"]) == (predicted["changed"], predicted["method"])
    with RegistryClient(plain) as client:
        assert client.blobs.blob_exists(had_repo, digest) == len(data)


def test_check_mode_predicts_a_mount_when_mount_from_has_the_blob(plain, had_repo, tmp_path, capsys):
    src, digest, data = blob_file(tmp_path, had_repo, 50 * 1024)
    with RegistryClient(plain) as client:
        client.uploads.monolithic_upload(had_repo + "-source", digest, data)
    options = dict(registry_url=plain, repository=had_repo, src=str(src), mount_from=had_repo + "-source")
    predicted = run(registry_blob, capsys, check_mode=True, **options)
    done = run(registry_blob, capsys, **options)
    assert (predicted["method"], done["method"]) == ("mounted", "mounted")
    again = run(registry_blob, capsys, check_mode=True, **options)
    assert (again["changed"], again["method"]) == (False, "none")


def test_refused_mount_falls_back_to_an_upload_in_chunk_size_chunks(plain, had_repo, tmp_path, capsys):
    # The mount-refused fallback once dropped chunk_size and uploaded in one request.
    src, digest, data = blob_file(tmp_path, had_repo, 200 * 1024)
    result = run(registry_blob, capsys, registry_url=plain, repository=had_repo, src=str(src),
                 mount_from=had_repo + "-empty", chunk_size=64 * 1024)
    assert not result.get("failed"), result.get("msg")
    assert (result["method"], result["chunks"]) == ("uploaded", 4)
    out = io.BytesIO()
    with RegistryClient(plain) as client:
        client.blobs.download_blob(had_repo, digest, out)
    assert out.getvalue() == data


def test_real_run_and_check_mode_say_alike_that_mount_from_lacks_the_blob(plain, had_repo, capsys):
    # The real run failed with the copy's "get blob failed ... BLOB_UNKNOWN" where check mode named both places.
    digest = "sha256:" + hashlib.sha256(had_repo.encode()).hexdigest()
    options = dict(registry_url=plain, repository=had_repo, digest=digest, mount_from=had_repo + "-empty")
    predicted = run(registry_blob, capsys, check_mode=True, **options)
    done = run(registry_blob, capsys, **options)
    assert predicted["failed"] is True and done["failed"] is True
    assert done["msg"] == predicted["msg"] and "is neither in %s nor in mount_from" % had_repo in done["msg"]
    assert done["exists"] is False


# Distribution 2.8 refuses schema 1 pushes, so a schema 1 registry (Docker Hub before 2019) is
# mocked: the platform is the manifest's architecture, there is no configuration blob.
REG = "http://schema1.test"
SCHEMA1 = json.dumps({"schemaVersion": 1, "name": "team/old", "tag": "1", "architecture": "arm64",
                      "fsLayers": [{"blobSum": "sha256:" + "a" * 64}], "history": [],
                      "signatures": [{}]}).encode()


def schema1_registry(mock):
    mock.add(responses.GET, REG + "/v2/", json={})
    mock.add(responses.GET, REG + "/v2/team/old/tags/list", json={"name": "team/old", "tags": ["1"]})
    mock.add(responses.GET, REG + "/v2/team/old/manifests/1", body=SCHEMA1,
             headers={"Content-Type": media.DOCKER_SCHEMA1_SIGNED})


def test_tag_details_give_the_platform_of_a_schema1_image(capsys):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        schema1_registry(mock)
        one = run(registry_tag_info, capsys, registry_url=REG, auth_type="none", repository="team/old",
                  include_details=True)
        many = run(registry_tag_info, capsys, registry_url=REG, auth_type="none", repositories=["team/old"],
                   include_details=True)
    assert not one.get("failed"), one.get("msg")
    assert one["tag_details"][0]["platforms"] == ["linux/arm64"]
    assert one["tag_details"][0]["created"] is None
    entry = many["repositories"][0]
    assert entry["tag_details"][0]["platforms"] == ["linux/arm64"]
    assert [manifest["platform"] for manifest in entry["manifests"].values()] == ["linux/arm64"]
