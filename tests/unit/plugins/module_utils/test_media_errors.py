"""media.py models and errors.py messages."""

import json

import pytest
import requests

from ansible_collections.oci.registry.plugins.module_utils import _media as media
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    ManifestInvalidError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RegistryError,
    UnsupportedError,
    error_from_response,
    scrub,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import Platform

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def _index():
    return {
        "schemaVersion": 2,
        "mediaType": media.OCI_INDEX,
        "manifests": [
            {"mediaType": media.OCI_MANIFEST, "digest": D1, "size": 10,
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": media.OCI_MANIFEST, "digest": D2, "size": 11,
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": media.OCI_MANIFEST, "digest": D3, "size": 12,
             "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                             "vnd.docker.reference.digest": D1}},
        ],
    }


def test_parse_index_and_select_platform():
    raw = json.dumps(_index()).encode()
    index = media.parse_manifest(raw, "application/json")
    assert index.is_index and index.media_type == media.OCI_INDEX
    assert index.digest == media.sha256_digest(raw) and index.size == len(raw)
    assert [d.digest for d in index.image_manifests()] == [D1, D2]
    assert [d.digest for d in index.attestations()] == [D3]
    assert media.index_platforms(index) == ["linux/amd64", "linux/arm64/v8"]
    assert media.select_platform(index, "linux/arm64").digest == D2
    with pytest.raises(NotFoundError) as info:
        media.select_platform(index, "linux/s390x")
    assert "linux/amd64, linux/arm64/v8" in str(info.value)


def test_parse_image_manifest_without_media_type_field():
    data = {"schemaVersion": 2, "config": {"mediaType": media.OCI_CONFIG, "digest": D1, "size": 2},
            "layers": [{"mediaType": media.OCI_LAYER_GZIP, "digest": D2, "size": 3}],
            "subject": {"mediaType": media.OCI_MANIFEST, "digest": D3, "size": 4}}
    manifest = media.parse_manifest(json.dumps(data).encode())
    assert manifest.media_type == media.OCI_MANIFEST and not manifest.is_index
    assert [b.digest for b in manifest.blobs()] == [D1, D2]
    assert manifest.subject.digest == D3


def test_docker_types_win_over_body_when_header_is_specific():
    data = {"schemaVersion": 2, "mediaType": media.DOCKER_MANIFEST,
            "config": {"mediaType": media.DOCKER_CONFIG, "digest": D1, "size": 2}, "layers": []}
    assert media.parse_manifest(json.dumps(data), media.DOCKER_MANIFEST + "; charset=utf-8").media_type == \
        media.DOCKER_MANIFEST


def test_schema1_is_readable():
    data = {"schemaVersion": 1, "name": "x", "tag": "1", "architecture": "amd64",
            "fsLayers": [{"blobSum": D2}, {"blobSum": D1}], "signatures": [{}]}
    manifest = media.parse_manifest(json.dumps(data).encode())
    assert manifest.media_type == media.DOCKER_SCHEMA1_SIGNED
    assert [layer.digest for layer in manifest.layers] == [D1, D2]


def test_descriptor_roundtrip_keeps_unknown_fields():
    data = {"mediaType": media.OCI_MANIFEST, "digest": D1, "size": 5, "platform": {"os": "linux",
            "architecture": "arm", "variant": "v7"}, "annotations": {"a": "b"}, "artifactType": "x/y",
            "data": "e30="}
    descriptor = media.Descriptor.from_dict(data)
    assert descriptor.platform == Platform("linux", "arm", "v7")
    assert descriptor.to_dict() == data


def test_manifest_accept_lists_modern_types():
    for mtype in (media.OCI_INDEX, media.OCI_MANIFEST, media.DOCKER_LIST, media.DOCKER_MANIFEST):
        assert mtype in media.MANIFEST_ACCEPT
    assert media.sha256_digest(media.OCI_EMPTY_DATA) == media.OCI_EMPTY_DIGEST


def _response(status, body=b"", headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.headers.update(headers or {})
    response.url = "https://reg.example/v2/team/app/manifests/1.0"
    return response


def test_error_from_response_is_typed_and_one_line():
    err = error_from_response(_response(404, {"errors": [{"code": "MANIFEST_UNKNOWN",
                                                          "message": "manifest unknown", "detail": {"Tag": "1.0"}}]}),
                              registry="reg.example", repository="team/app", reference="1.0", action="get manifest")
    assert isinstance(err, NotFoundError)
    assert err.code == "MANIFEST_UNKNOWN" and err.status == 404
    text = str(err)
    assert "\n" not in text
    assert text.startswith("get manifest failed for reg.example/team/app:1.0: HTTP 404 MANIFEST_UNKNOWN")
    assert "Hint:" in text


@pytest.mark.parametrize("status, body, cls", [
    (401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}, AuthenticationError),
    (403, b"", PermissionDeniedError),
    (401, {"errors": [{"code": "DENIED", "message": "no"}]}, AuthenticationError),
    (405, {"errors": [{"code": "UNSUPPORTED", "message": "The operation is unsupported."}]}, UnsupportedError),
    (400, {"errors": [{"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown", "detail": D1}]},
     ManifestInvalidError),
    (429, b"", RateLimitError),
    (500, b"boom", RegistryError),
])
def test_error_classes(status, body, cls):
    err = error_from_response(_response(status, body, {"WWW-Authenticate": 'Bearer realm="https://a/token"'}))
    assert err.__class__ is cls
    if cls is AuthenticationError:
        assert err.challenge.realm == "https://a/token"
    if cls is ManifestInvalidError:
        assert err.missing_blobs == [D1]


def test_error_never_shows_secrets_or_cookies():
    body = {"errors": [{"code": "DENIED", "message": "bad token Bearer abcdef123456 password=hunter2",
                        "detail": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig"}]}
    err = error_from_response(_response(403, body, {"Set-Cookie": "session=zzz", "Docker-Content-Digest": D1}))
    text = str(err)
    for secret in ("abcdef123456", "hunter2", "eyJhbGciOiJSUzI1NiJ9", "zzz"):
        assert secret not in text
    assert "Set-Cookie" not in err.headers and err.headers["Docker-Content-Digest"] == D1
    assert "<redacted>" in scrub("Basic dXNlcjpwYXNzd29yZA==")


def test_error_codes_of_any_json_type_are_tolerated():
    err = error_from_response(_response(400, {"errors": [{"code": ["X"], "message": {"a": 1}}, "junk"]}))
    assert err.code == '["X"]' and "\n" not in str(err)
