# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One platform rule for resolve(), registry_manifest_info and the copy engine (the digest lookup's own
tests cover its use of resolve)."""

from __future__ import annotations

import json

import pytest
import responses

from ansible_collections.oci.registry.plugins.module_utils import _media as media
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._copy import CopyEngine
from ansible_collections.oci.registry.plugins.module_utils._resolve import PlatformError, resolve
from ansible_collections.oci.registry.plugins.modules import registry_manifest_info
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run


def plain(registries, variant="plain"):
    return RegistryClient(registries["registries"][variant]["url"])


def push_image_without_platform(client, repository, tag):
    """An image whose configuration blob is not JSON (artifacts may use any config type)."""
    config = b"not json at all"
    config_digest = media.sha256_digest(config)
    client.uploads.monolithic_upload(repository, config_digest, config)
    raw = media.dumps_canonical({"schemaVersion": 2, "mediaType": media.OCI_MANIFEST,
                                 "config": {"mediaType": "application/vnd.example.config", "digest": config_digest,
                                            "size": len(config)}, "layers": []})
    client.manifests.put_manifest(repository, tag, raw, media.OCI_MANIFEST)
    return media.sha256_digest(raw)


def manifest_info(registries, capsys, repository, reference, platform, **options):
    return run(registry_manifest_info, capsys, registry_url=registries["registries"]["plain"]["url"],
               repository=repository, reference=reference, platform=platform, **options)


def copy_with_platform(registries, repository, tag, platform):
    with plain(registries) as src, plain(registries, "plain2") as dest:
        url, url2 = registries["registries"]["plain"]["url"], registries["registries"]["plain2"]["url"]
        return CopyEngine(src, dest).copy("%s/%s:%s" % (url, repository, tag), "%s/%s:%s" % (url2, repository, tag),
                                          platforms=[platform])


def test_single_image_of_another_platform_is_refused_alike(registries, unique_repo, capsys):
    images.push_oci_image(registries, "plain", unique_repo, "1", platform="linux/amd64")
    expected = "a single-platform image for linux/amd64, not linux/arm64"

    with plain(registries) as client:
        with pytest.raises(PlatformError, match=expected):
            resolve(client, unique_repo, "1", "linux/arm64")
        assert str(resolve(client, unique_repo, "1", "linux/amd64").platform) == "linux/amd64"
    info = manifest_info(registries, capsys, unique_repo, "1", "linux/arm64")
    assert info["failed"] is True and expected in info["msg"]
    with pytest.raises(PlatformError, match=expected):
        copy_with_platform(registries, unique_repo, "1", "linux/arm64")


def test_image_that_declares_no_platform_matches_no_platform(registries, unique_repo, capsys):
    # registry_manifest_info used to accept any platform for such an image.
    with plain(registries) as client:
        push_image_without_platform(client, unique_repo, "art")
        with pytest.raises(PlatformError, match="not an image with a known platform"):
            resolve(client, unique_repo, "art", "linux/amd64")
    info = manifest_info(registries, capsys, unique_repo, "art", "linux/amd64")
    assert info["failed"] is True and "not an image with a known platform" in info["msg"], info.get("msg")
    with pytest.raises(PlatformError, match="not an image with a known platform"):
        copy_with_platform(registries, unique_repo, "art", "linux/amd64")
    # Without platform nothing is checked.
    assert not manifest_info(registries, capsys, unique_repo, "art", None).get("failed")


def test_platform_from_index_returns_the_platform_manifest(registries, unique_repo, capsys):
    index = images.push_index(registries, "plain", unique_repo, "multi")
    arm = index.image_for("linux/arm64")
    with plain(registries) as client:
        resolved = resolve(client, unique_repo, "multi", "linux/arm64")
    assert resolved.digest == arm.digest and resolved.result.raw == arm.raw
    assert resolved.index.digest == index.digest
    info = manifest_info(registries, capsys, unique_repo, "multi", "linux/arm64")
    assert info["digest"] == arm.digest and info["index_digest"] == index.digest
    assert info["platforms"] == ["linux/arm64/v8"]


# Distribution 2.8 refuses schema 1 pushes, so these answers are mocked, with the body a schema 1
# registry (Docker Hub before 2019) served: architecture in the manifest, no configuration blob.
REG = "http://schema1.test"
SCHEMA1 = json.dumps({"schemaVersion": 1, "name": "team/old", "tag": "1", "architecture": "amd64",
                      "fsLayers": [], "history": [], "signatures": [{}]}).encode()


def schema1_registry(mock):
    mock.add(responses.GET, REG + "/v2/", json={})
    mock.add(responses.GET, REG + "/v2/team/old/manifests/1", body=SCHEMA1,
             headers={"Content-Type": media.DOCKER_SCHEMA1_SIGNED})


@pytest.mark.parametrize("platform, matches", [("linux/amd64", True), ("linux/arm64", False)])
def test_schema1_image_is_checked_against_its_architecture(capsys, platform, matches):
    # registry_manifest_info used to accept any platform for a schema 1 image.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        schema1_registry(mock)
        with RegistryClient(REG, auth_type="none") as client:
            if matches:
                assert str(resolve(client, "team/old", "1", platform).platform) == "linux/amd64"
            else:
                with pytest.raises(PlatformError, match="single-platform image for linux/amd64"):
                    resolve(client, "team/old", "1", platform)
        info = run(registry_manifest_info, capsys, registry_url=REG, auth_type="none", repository="team/old",
                   reference="1", platform=platform)
    if matches:
        assert not info.get("failed"), info.get("msg")
        assert info["platforms"] == ["linux/amd64"]
    else:
        assert info["failed"] is True and "single-platform image for linux/amd64, not linux/arm64" in info["msg"]
