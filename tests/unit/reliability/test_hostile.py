# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile registries (mocked with `responses`: an unregistered URL raises, so every test also
proves which requests were sent) and hostile module input.

Oversized and malformed manifests, wrong Content-Type, Link loops, a token realm over plain HTTP
on another host, redirects to another host, blobs that do not match their digest, and
registry_blob ``dest`` paths.

The ``dest`` rule: registry_blob uses ``dest`` as given (type ``path``: ``~`` and variables
expanded); it never joins it with another directory, so there is no base directory to escape
and ``..`` is just part of a path the playbook author chose. ``dest`` must name a file (an
existing directory is refused) whose parent directory exists; the download goes to a
temporary file in that directory and is renamed over ``dest`` only once its digest matches.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import responses

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    DigestMismatchError,
    ManifestTooLargeError,
    ProtocolError,
    RegistryError,
)
from ansible_collections.oci.registry.plugins.modules import registry_blob
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run
from ansible_collections.oci.registry.tests.unit.reliability.reliability_helpers import (
    assert_one_line,
    count_bad_inputs,
)

REGISTRY = "https://registry.test"
REPO = "team/app"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PASSWORD = "s3cret-Pa55word"
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + "a" * 64, "size": 2}, "layers": []}).encode()


def client(**options):
    options.setdefault("retries", 0)
    return RegistryClient(REGISTRY, sleep=lambda seconds: None, **options)


def open_v2(mock):
    mock.add(responses.GET, REGISTRY + "/v2/", status=200, json={})


# --------------------------------------------------------------------------- manifests

@pytest.mark.parametrize("announce_length", [True, False], ids=["content-length", "no-content-length"])
def test_manifest_over_4_mib_refused(announce_length):
    count_bad_inputs()
    body = b'{"schemaVersion":2,"layers":[' + b" " * (4 * 1024 * 1024) + b"]}"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_v2(mock)
        headers = {"Content-Length": str(len(body))} if announce_length else {}
        mock.add(responses.GET, REGISTRY + "/v2/team/app/manifests/v1", body=body, content_type=OCI_MANIFEST,
                 headers=headers)
        with client() as c, pytest.raises(ManifestTooLargeError) as caught:
            c.manifests.get_manifest(REPO, "v1")
    assert "4194304" in assert_one_line(caught.value)


@pytest.mark.parametrize("body, content_type", [
    (b"{not json", OCI_MANIFEST),
    (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
    (b"[1, 2, 3]", OCI_MANIFEST),
    (b'{"schemaVersion": 2, "mediaType": "application/vnd.example.unknown"}', "application/vnd.example.unknown"),
    (b"\xff\xfe\x00garbage", "application/octet-stream"),
    (b'{"schemaVersion":2,"mediaType":"%s","config":{},"layers":true}' % OCI_MANIFEST.encode(), OCI_MANIFEST),
], ids=["invalid-json", "html", "json-array", "unknown-type", "binary", "layers-not-array"])
def test_malformed_manifest_is_a_protocol_error(body, content_type):
    count_bad_inputs()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_v2(mock)
        mock.add(responses.GET, REGISTRY + "/v2/team/app/manifests/v1", body=body, content_type=content_type)
        with client() as c, pytest.raises(ProtocolError) as caught:
            c.manifests.get_manifest(REPO, "v1")
    assert_one_line(caught.value)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "application/octet-stream", ""])
def test_generic_content_type_uses_the_body_media_type(content_type):
    count_bad_inputs()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_v2(mock)
        mock.add(responses.GET, REGISTRY + "/v2/team/app/manifests/v1", body=MANIFEST,
                 headers={"Content-Type": content_type} if content_type else {})
        with client() as c:
            result = c.manifests.get_manifest(REPO, "v1")
    assert result.media_type == OCI_MANIFEST
    assert result.digest == "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def test_manifest_by_digest_with_other_content_refused():
    count_bad_inputs()
    wanted = "sha256:" + "b" * 64
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_v2(mock)
        mock.add(responses.GET, REGISTRY + "/v2/team/app/manifests/" + wanted, body=MANIFEST,
                 content_type=OCI_MANIFEST, headers={"Docker-Content-Digest": wanted})
        with client() as c, pytest.raises(DigestMismatchError) as caught:
            c.manifests.get_manifest(REPO, wanted)
    assert_one_line(caught.value)


# --------------------------------------------------------------------------- Link loops

@pytest.mark.parametrize("links", [
    {"a": "/v2/_catalog?last=a&n=1", "b": "/v2/_catalog?n=1"},           # b points back to the first page
    {"a": "/v2/_catalog?last=a&n=1", "b": "/v2/_catalog?last=a&n=1"},    # b points to itself
    # Another host: not followed (an unregistered URL would raise); the client goes on with last=a on its own.
    {"a": "http://evil.test/v2/_catalog?last=a&n=1", "b": None},
], ids=["loop-to-first", "self-loop", "other-host"])
def test_catalog_link_loops_terminate(links):
    count_bad_inputs()
    pages = {None: ["a"], "a": ["b"]}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_v2(mock)

        def catalog(request):
            last = request.params.get("last")
            items = pages.get(last, [])
            link = links.get(items[0]) if items else None
            headers = {"Link": '<%s>; rel="next"' % link} if link else {}
            return 200, headers, json.dumps({"repositories": items})

        mock.add_callback(responses.GET, REGISTRY + "/v2/_catalog", callback=catalog)
        with client() as c:
            names = list(c.catalog.iter_catalog(page_size=1))
            requests_sent = len([call for call in mock.calls if "_catalog" in call.request.url])
    assert requests_sent <= 4
    assert names == ["a", "b"]


# --------------------------------------------------------------------------- credentials

def test_token_realm_over_plain_http_on_another_host_gets_no_credentials():
    count_bad_inputs()
    basic = base64.b64encode(("alice:" + PASSWORD).encode()).decode()
    challenge = 'Bearer realm="http://evil.test/token",service="registry.test",scope="repository:team/app:pull"'
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, REGISTRY + "/v2/", status=401, headers={"WWW-Authenticate": challenge}, json={})
        mock.add(responses.HEAD, REGISTRY + "/v2/team/app/manifests/v1", status=401,
                 headers={"WWW-Authenticate": challenge})
        mock.add(responses.GET, REGISTRY + "/v2/team/app/manifests/v1", status=401,
                 headers={"WWW-Authenticate": challenge}, json={"errors": [{"code": "UNAUTHORIZED"}]})
        mock.add(responses.GET, "http://evil.test/token", json={"token": "anonymous-token"})
        mock.add(responses.POST, "http://evil.test/token", json={"token": "anonymous-token"})
        with client(username="alice", password=PASSWORD) as c, pytest.raises(RegistryError) as caught:
            c.manifests.get_digest(REPO, "v1")
        evil = [call.request for call in mock.calls if "evil.test" in call.request.url]
    for request in evil:
        assert "Authorization" not in request.headers
        assert PASSWORD not in request.url and PASSWORD not in str(request.body or "")
        assert basic not in str(request.headers)
    text = assert_one_line(caught.value)
    assert PASSWORD not in text


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_to_another_host_drops_authorization(status):
    count_bad_inputs()
    blob = b"layer behind a redirect"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, REGISTRY + "/v2/", status=401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        mock.add(responses.GET, REGISTRY + "/v2/team/app/blobs/" + digest, status=status,
                 headers={"Location": "https://storage.test/blobs/1?sig=x"})
        mock.add(responses.GET, "https://storage.test/blobs/1", body=blob)
        with client(username="alice", password=PASSWORD, auth_type="basic") as c:
            with c.blobs.get_blob(REPO, digest) as stream:
                assert stream.read_all() == blob
        registry_calls = [call.request for call in mock.calls if "registry.test" in call.request.url]
        storage_calls = [call.request for call in mock.calls if "storage.test" in call.request.url]
    assert storage_calls and all("Authorization" not in request.headers for request in storage_calls)
    assert any("Authorization" in request.headers for request in registry_calls)


# --------------------------------------------------------------------------- blob bodies

@pytest.mark.parametrize("body, size", [
    (b"not the content", None),
    (b"12345678", 4),              # longer than the descriptor says
    (b"1234", 8),                  # shorter than the descriptor says
    (b"", None),
], ids=["other-bytes", "too-long", "too-short", "empty"])
def test_blob_not_matching_its_digest_refused(body, size):
    count_bad_inputs()
    digest = "sha256:" + hashlib.sha256(b"the real content").hexdigest()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_v2(mock)
        mock.add(responses.GET, REGISTRY + "/v2/team/app/blobs/" + digest, body=body)
        with client() as c, pytest.raises(DigestMismatchError) as caught:
            with c.blobs.get_blob(REPO, digest, expected_size=size) as stream:
                stream.read_all()
    assert_one_line(caught.value)


def test_registry_blob_dest_keeps_old_file_when_blob_does_not_match(tmp_path, capsys):
    count_bad_inputs()
    digest = "sha256:" + hashlib.sha256(b"the real content").hexdigest()
    dest = tmp_path / "layer.bin"
    dest.write_bytes(b"old")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_v2(mock)
        mock.add(responses.GET, REGISTRY + "/v2/team/app/blobs/" + digest, body=b"evil content")
        result = run(registry_blob, capsys, registry_url=REGISTRY, repository=REPO, digest=digest, dest=str(dest),
                     retries=0)
    assert result["failed"] is True and "hashes to" in assert_one_line(result["msg"])
    assert dest.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layer.bin"]


# --------------------------------------------------------------------------- registry_blob dest

def test_registry_blob_dest_rules(tmp_path, capsys):
    blob = b"layer"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    (tmp_path / "sub").mkdir()
    cases = {
        str(tmp_path): "is a directory",                                   # a directory is refused
        str(tmp_path / "missing" / "layer.bin"): "does not exist",        # parent must exist
        str(tmp_path / "missing" / ".." / "layer.bin"): "does not exist",  # resolved by the OS: missing/ is needed
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        open_v2(mock)
        mock.add(responses.GET, REGISTRY + "/v2/team/app/blobs/" + digest, body=blob)
        for dest, expected in cases.items():
            count_bad_inputs()
            result = run(registry_blob, capsys, registry_url=REGISTRY, repository=REPO, digest=digest, dest=dest)
            assert result["failed"] is True, dest
            assert expected in assert_one_line(result["msg"]), result["msg"]
        # ".." through an existing directory is an ordinary path: the file lands where it points, nowhere else.
        dotted = str(tmp_path / "sub" / ".." / "layer.bin")
        result = run(registry_blob, capsys, registry_url=REGISTRY, repository=REPO, digest=digest, dest=dotted)
    assert not result.get("failed"), result.get("msg")
    assert (tmp_path / "layer.bin").read_bytes() == blob
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layer.bin", "sub"]
    assert list((tmp_path / "sub").iterdir()) == []
