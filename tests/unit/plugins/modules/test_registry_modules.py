# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module behaviour the real registries cannot produce: deletes disabled, Docker Hub, missing requests.

HTTP is mocked with `responses`; an unregistered URL raises, so every test also proves which
requests a module sends.
"""

from __future__ import annotations

import hashlib
import json
import re

import responses

from ansible_collections.oci.registry.plugins.module_utils import _ansible_module as ansible_module
from ansible_collections.oci.registry.plugins.modules import (
    registry_info,
    registry_manifest,
    registry_tag_info,
)
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

REGISTRY = "http://registry.test"
REPO = "team/app"
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": "sha256:" + "1" * 64, "size": 2},
    "layers": [],
}, separators=(",", ":")).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def open_registry(mock):
    mock.add(responses.GET, REGISTRY + "/v2/", status=200, json={},
             headers={"Docker-Distribution-API-Version": "registry/2.0"})


def manifest_head(mock, reference):
    mock.add(responses.HEAD, "%s/v2/%s/manifests/%s" % (REGISTRY, REPO, reference), status=200,
             headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST,
                      "Content-Length": str(len(MANIFEST))})


UNSUPPORTED = {"errors": [{"code": "UNSUPPORTED", "message": "The operation is unsupported."}]}


def test_delete_by_digest_with_deletes_disabled(capsys):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_registry(mock)
        manifest_head(mock, DIGEST)
        manifest_head(mock, "v1")
        mock.add(responses.GET, "%s/v2/%s/tags/list" % (REGISTRY, REPO), json={"name": REPO, "tags": ["v1"]})
        mock.add(responses.DELETE, "%s/v2/%s/manifests/%s" % (REGISTRY, REPO, DIGEST), status=405, json=UNSUPPORTED)
        result = run(registry_manifest, capsys, registry_url=REGISTRY, repository=REPO, digest=DIGEST, state="absent")
        deletes = [call for call in mock.calls if call.request.method == "DELETE"]
    assert result["failed"] is True
    assert result["status"] == 405
    assert result["code"] == "UNSUPPORTED"
    assert "delete" in result["msg"].lower() and "disabled" in result["msg"]
    assert "\n" not in result["msg"]
    assert "Traceback" not in result["msg"]
    assert len(deletes) == 1


def test_delete_by_digest_check_mode_sends_no_delete(capsys):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_registry(mock)
        manifest_head(mock, DIGEST)
        manifest_head(mock, "v1")
        manifest_head(mock, "latest")
        mock.add(responses.GET, "%s/v2/%s/tags/list" % (REGISTRY, REPO), json={"name": REPO, "tags": ["v1", "latest"]})
        result = run(registry_manifest, capsys, check_mode=True, diff=True, registry_url=REGISTRY, repository=REPO,
                     digest=DIGEST, state="absent")
        methods = set(call.request.method for call in mock.calls)
    assert result["changed"] is True
    assert result["removed_tags"] == ["latest", "v1"]
    assert result["diff"]["before"]["present"] is True and result["diff"]["after"]["present"] is False
    assert methods <= {"GET", "HEAD"}


def test_untag_with_deletes_disabled_restores_and_fails(capsys):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_registry(mock)
        manifest_head(mock, "v1")
        mock.add(responses.DELETE, "%s/v2/%s/manifests/v1" % (REGISTRY, REPO), status=405, json=UNSUPPORTED)
        mock.add(responses.HEAD, REGISTRY + "/v2/%s/blobs/sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" % REPO,
                 status=200, headers={"Content-Length": "2"})
        placeholder_put = mock.add(responses.PUT, "%s/v2/%s/manifests/v1" % (REGISTRY, REPO), status=201)
        # the delete probe passes (404 for a digest that cannot exist), then the throwaway manifest
        # cannot be deleted after all: the tag is put back
        mock.add(responses.DELETE, re.compile(r".*/manifests/sha256:[0-9a-f]{64}$"), status=404,
                 json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
        mock.add(responses.DELETE, re.compile(r".*/manifests/sha256:[0-9a-f]{64}$"), status=405, json=UNSUPPORTED)
        mock.add(responses.GET, "%s/v2/%s/manifests/%s" % (REGISTRY, REPO, DIGEST), body=MANIFEST, status=200,
                 headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST})
        result = run(registry_manifest, capsys, registry_url=REGISTRY, repository=REPO, tag="v1", state="absent")
        puts = [call.request.body for call in mock.calls if call.request.method == "PUT"]
    assert result["failed"] is True
    assert result["status"] == 405
    assert "disabled" in result["msg"]
    assert placeholder_put.call_count == 2
    # the last PUT puts the original manifest back on the tag
    assert puts[-1] == MANIFEST


def test_invalid_repository_is_rejected_before_any_request(capsys):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        result = run(registry_tag_info, capsys, registry_url=REGISTRY, repository="Team/App")
        calls = len(mock.calls)
    assert result["failed"] is True
    assert "must be lowercase" in result["msg"]
    assert calls == 0


def test_invalid_digest_is_rejected_before_any_request(capsys):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        result = run(registry_manifest, capsys, registry_url=REGISTRY, repository=REPO, digest="sha256:ABC",
                     state="absent")
        calls = len(mock.calls)
    assert result["failed"] is True
    assert "invalid" in result["msg"] and "digest" in result["msg"]
    assert calls == 0


HUB_TAGS = {
    "count": 2,
    "next": None,
    "results": [
        {"name": "3.20", "digest": "sha256:" + "a" * 64, "media_type": "application/vnd.oci.image.index.v1+json",
         "full_size": 3600000, "last_updated": "2024-06-01T00:00:00.000000Z",
         "images": [{"os": "linux", "architecture": "amd64", "digest": "sha256:" + "b" * 64},
                    {"os": "linux", "architecture": "arm64", "variant": "v8", "digest": "sha256:" + "c" * 64},
                    {"os": "unknown", "architecture": "unknown", "digest": "sha256:" + "d" * 64}]},
        {"name": "latest", "digest": "sha256:" + "a" * 64, "media_type": "application/vnd.oci.image.index.v1+json",
         "full_size": 3600000, "last_updated": "2024-06-01T00:00:00.000000Z", "images": []},
        {"name": "edge", "digest": "sha256:" + "e" * 64, "media_type": "application/vnd.oci.image.index.v1+json",
         "full_size": 3700000, "last_updated": "2024-06-02T00:00:00.000000Z", "images": []},
    ],
}


def test_tag_info_uses_docker_hub_api(capsys):
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, "https://hub.docker.com/v2/namespaces/library/repositories/alpine/tags", json=HUB_TAGS)
        result = run(registry_tag_info, capsys, registry_url="hub.docker.com", repository="alpine",
                     pattern="^(3|latest)", include_digests=True, auth_type="anonymous")
        paths = [call.request.path_url for call in mock.calls]
    assert result.get("failed") is not True, result
    assert result["repository"] == "library/alpine"
    assert result["tags"] == ["3.20", "latest"]
    first = result["tag_details"][0]
    assert first["tag"] == "3.20"
    assert first["last_updated"] == "2024-06-01T00:00:00.000000Z"
    assert first["platforms"] == ["linux/amd64", "linux/arm64/v8"]
    assert first["size"] == 3600000
    assert result["tags_by_digest"] == [{"digest": "sha256:" + "a" * 64,
                                         "media_type": "application/vnd.oci.image.index.v1+json",
                                         "size": None, "tags": ["3.20", "latest"]}]
    assert all(path.startswith("/v2/namespaces/") for path in paths)


def test_trace_only_at_verbosity_3(capsys):
    with responses.RequestsMock() as mock:
        open_registry(mock)
        quiet = run(registry_info, capsys, registry_url=REGISTRY)
        mock.add(responses.GET, REGISTRY + "/v2/", status=200, json={})
        verbose = run(registry_info, capsys, verbosity=3, registry_url=REGISTRY)
    assert "trace" not in quiet
    assert [record["path"] for record in verbose["trace"]] == ["/v2/"]
    assert verbose["trace"][0]["status"] == 200


def test_wrong_password_never_in_output(capsys):
    secret = "S3cret-password-value"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, REGISTRY + "/v2/", status=401, json={"errors": [{"code": "UNAUTHORIZED"}]},
                 headers={"WWW-Authenticate": 'Basic realm="registry"'})
        result = run(registry_info, capsys, verbosity=3, registry_url=REGISTRY, username="admin", password=secret)
    # A wrong password is a result of registry_info, not a failure (issue 11 item 7).
    assert not result.get("failed")
    assert result["authenticated"] is False and result["accessible"] is False
    assert result["status"] == 401 and result["auth_error"]
    assert secret not in json.dumps(result)


def test_missing_requests_is_a_clean_failure(capsys, monkeypatch):
    monkeypatch.setattr(ansible_module, "HAS_REQUESTS", False)
    monkeypatch.setattr(ansible_module, "REQUESTS_IMPORT_ERROR", "Traceback ...\nImportError: No module named requests")
    result = run(registry_info, capsys, registry_url=REGISTRY)
    assert result["failed"] is True
    assert "requests" in result["msg"]
    assert "Traceback" not in result["msg"]


# The environment-scoping tests moved to tests/unit/plugins/module_utils/test_sec_connect.py (connect.py owns the rule).
