"""client.py against registry behaviours no local registry produces (mocked with `responses`)."""

import hashlib
import io
import json
import re
import threading
import time

import pytest
import responses

from ansible_collections.oci.registry.plugins.module_utils import _media as media
from ansible_collections.oci.registry.plugins.module_utils._client import (
    RegistryClient,
    UploadSession,
    parse_link_next,
    parse_range_end,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    DigestMismatchError,
    ManifestTooLargeError,
    NotFoundError,
    ProtocolError,
    UnsupportedError,
)

REG = "https://reg.example"
MANIFEST = media.dumps_canonical({"schemaVersion": 2, "mediaType": media.OCI_MANIFEST,
                                  "config": {"mediaType": media.OCI_EMPTY, "digest": media.OCI_EMPTY_DIGEST,
                                             "size": 2}, "layers": []})
MANIFEST_DIGEST = media.sha256_digest(MANIFEST)


@pytest.fixture
def client():
    with RegistryClient(REG, auth_type="none", retries=2, sleep=lambda s: None, trace=True) as c:
        yield c


# ----------------------------------------------------------------------------- manifests

@responses.activate
def test_digest_hashed_when_header_missing(client):
    """ECR omits Docker-Content-Digest on GET; HEAD without it falls back to GET."""
    url = REG + "/v2/team/app/manifests/1.0"
    responses.add(responses.HEAD, url, headers={"Content-Type": media.OCI_MANIFEST})
    responses.add(responses.GET, url, body=MANIFEST, headers={"Content-Type": media.OCI_MANIFEST})
    assert client.manifests.get_digest("team/app", "1.0") == MANIFEST_DIGEST
    assert [c.request.method for c in responses.calls] == ["HEAD", "GET"]
    accept = responses.calls[1].request.headers["Accept"]
    for mtype in (media.OCI_INDEX, media.OCI_MANIFEST, media.DOCKER_LIST, media.DOCKER_MANIFEST):
        assert mtype in accept


@responses.activate
def test_head_with_digest_header_needs_no_get(client):
    url = REG + "/v2/team/app/manifests/1.0"
    responses.add(responses.HEAD, url, headers={"Content-Type": media.DOCKER_LIST, "Content-Length": "321",
                                                "Docker-Content-Digest": MANIFEST_DIGEST})
    descriptor = client.manifests.head_manifest("team/app", "1.0")
    assert (descriptor.digest, descriptor.media_type, descriptor.size) == (MANIFEST_DIGEST, media.DOCKER_LIST, 321)
    assert len(responses.calls) == 1


@responses.activate
def test_head_404_is_none_and_get_digest_raises(client):
    responses.add(responses.HEAD, REG + "/v2/team/app/manifests/gone", status=404)
    assert client.manifests.head_manifest("team/app", "gone") is None
    with pytest.raises(NotFoundError, match="team/app:gone"):
        client.manifests.get_digest("team/app", "gone")


@responses.activate
def test_body_fetched_by_digest_is_verified(client):
    responses.add(responses.GET, REG + "/v2/team/app/manifests/" + MANIFEST_DIGEST, body=MANIFEST + b" ",
                  headers={"Content-Type": media.OCI_MANIFEST, "Docker-Content-Digest": MANIFEST_DIGEST})
    with pytest.raises(DigestMismatchError) as info:
        client.manifests.get_manifest("team/app", MANIFEST_DIGEST)
    assert "team/app@" + MANIFEST_DIGEST in str(info.value)


@responses.activate
def test_manifest_media_type_from_body_when_header_generic(client):
    responses.add(responses.GET, REG + "/v2/team/app/manifests/1.0", body=MANIFEST,
                  headers={"Content-Type": "application/json"})
    result = client.manifests.get_manifest("team/app", "1.0")
    assert result.media_type == media.OCI_MANIFEST and result.digest == MANIFEST_DIGEST
    assert result.manifest.config.digest == media.OCI_EMPTY_DIGEST


@responses.activate
def test_manifest_over_4_mib_rejected_with_and_without_content_length(client):
    big = b"{" + b" " * (media.MAX_MANIFEST_SIZE + 10) + b"}"
    responses.add(responses.GET, REG + "/v2/a/manifests/big", body=big, headers={"Content-Length": str(len(big))})
    with pytest.raises(ManifestTooLargeError):
        client.manifests.get_manifest("a", "big")

    responses.add(responses.GET, REG + "/v2/a/manifests/streamed", body=io.BufferedReader(io.BytesIO(big)))
    with pytest.raises(ManifestTooLargeError):
        client.manifests.get_manifest("a", "streamed")
    with pytest.raises(ManifestTooLargeError):
        client.manifests.put_manifest("a", "big", big, media.OCI_MANIFEST)


@responses.activate
def test_put_manifest_without_digest_header_returns_hash_and_subject(client):
    responses.add(responses.PUT, REG + "/v2/a/manifests/1.0", status=201,
                  headers={"Location": "/v2/a/manifests/" + MANIFEST_DIGEST, "OCI-Subject": "sha256:" + "e" * 64})
    result = client.manifests.put_manifest("a", "1.0", MANIFEST, media.OCI_MANIFEST)
    assert result.digest == MANIFEST_DIGEST
    assert result.subject_digest == "sha256:" + "e" * 64
    assert result.location == REG + "/v2/a/manifests/" + MANIFEST_DIGEST
    assert responses.calls[0].request.headers["Content-Type"] == media.OCI_MANIFEST


# ----------------------------------------------------------------------------- delete_tag

@responses.activate
def test_delete_tag_uses_tag_delete_when_supported(client):
    responses.add(responses.HEAD, REG + "/v2/a/manifests/old", headers={
        "Docker-Content-Digest": MANIFEST_DIGEST, "Content-Type": media.OCI_MANIFEST, "Content-Length": "10"})
    responses.add(responses.DELETE, REG + "/v2/a/manifests/old", status=202)
    assert client.manifests.delete_tag("a", "old") == "tag"
    assert not any(MANIFEST_DIGEST in c.request.url for c in responses.calls)


@responses.activate
def test_delete_tag_placeholder_restores_tag_when_deletes_disabled(client):
    unsupported = {"errors": [{"code": "UNSUPPORTED", "message": "The operation is unsupported."}]}
    responses.add(responses.HEAD, REG + "/v2/a/manifests/old", headers={
        "Docker-Content-Digest": MANIFEST_DIGEST, "Content-Type": media.OCI_MANIFEST, "Content-Length": "10"})
    responses.add(responses.DELETE, REG + "/v2/a/manifests/old", status=405, json=unsupported)
    responses.add(responses.HEAD, REG + "/v2/a/blobs/" + media.OCI_EMPTY_DIGEST, headers={"Content-Length": "2"})
    responses.add(responses.PUT, REG + "/v2/a/manifests/old", status=201)
    # The delete probe (a digest that cannot exist) says deletes work; then the placeholder's
    # delete is refused anyway (configuration changed, a proxy in between): the tag is restored.
    responses.add(responses.DELETE, re.compile(REG + "/v2/a/manifests/sha256:.*"), status=404,
                  json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
    responses.add(responses.DELETE, re.compile(REG + "/v2/a/manifests/sha256:.*"), status=405, json=unsupported)
    responses.add(responses.GET, REG + "/v2/a/manifests/" + MANIFEST_DIGEST, body=MANIFEST,
                  headers={"Content-Type": media.OCI_MANIFEST})
    with pytest.raises(UnsupportedError) as info:
        client.manifests.delete_tag("a", "old")
    assert "REGISTRY_STORAGE_DELETE_ENABLED=true" in str(info.value)
    puts = [c for c in responses.calls if c.request.method == "PUT"]
    assert len(puts) == 2 and puts[-1].request.body == MANIFEST  # the original is back on the tag
    deleted = [c.request.url for c in responses.calls if c.request.method == "DELETE"]
    assert REG + "/v2/a/manifests/" + MANIFEST_DIGEST not in deleted


# ----------------------------------------------------------------------------- pagination

@pytest.mark.parametrize("header, expected", [
    ('</v2/_catalog?last=b&n=2>; rel="next"', REG + "/v2/_catalog?last=b&n=2"),
    ("<https://reg.example/v2/_catalog?last=b&n=2>; rel=next", REG + "/v2/_catalog?last=b&n=2"),
    ('<v2/x>; rel="prev", </v2/_catalog?n=2&next_page=gAAA%3D>; rel="next"', REG + "/v2/_catalog?n=2&next_page=gAAA%3D"),
    ('</a>; rel="first last"', None),
    ("", None),
])
def test_parse_link_next(header, expected):
    assert parse_link_next(header, REG + "/v2/_catalog?n=2") == expected


@responses.activate
def test_quay_opaque_next_page(client):
    responses.add(responses.GET, REG + "/v2/_catalog", json={"repositories": ["a", "b"]},
                  headers={"Link": '</v2/_catalog?n=2&next_page=opaque1>; rel="next"'},
                  match=[responses.matchers.query_param_matcher({"n": "2"})])
    responses.add(responses.GET, REG + "/v2/_catalog", json={"repositories": ["c"]},
                  match=[responses.matchers.query_param_matcher({"n": "2", "next_page": "opaque1"})])
    page = client.catalog.get_catalog(n=2)
    assert page.repositories == ["a", "b"] and page.next_last is None
    assert page.next_url == REG + "/v2/_catalog?n=2&next_page=opaque1"
    assert list(client.catalog.iter_catalog(page_size=2)) == ["a", "b", "c"]


@responses.activate
def test_link_loop_guard(client):
    responses.add(responses.GET, REG + "/v2/a/tags/list", json={"name": "a", "tags": ["x"]},
                  headers={"Link": '<https://reg.example/v2/a/tags/list?n=1&last=x>; rel="next"'})
    assert list(client.tags.iter_tags("a", page_size=1)) == ["x"]
    assert len(responses.calls) == 2


@responses.activate
def test_registry_ignoring_n_and_last_yields_each_tag_once(client):
    """distribution 2.x answers tags/list with every tag whatever n and last say."""
    responses.add(responses.GET, REG + "/v2/a/tags/list", json={"name": "a", "tags": ["b", "a", "c"]})
    assert list(client.tags.iter_tags("a", page_size=3)) == ["b", "a", "c"]
    assert list(client.tags.iter_tags("a", page_size=2)) == ["b", "a", "c"]
    assert len(responses.calls) == 3  # one for the exact-page case (then a repeat), one for the oversized page


@responses.activate
def test_falls_back_to_last_without_link(client):
    pages = {None: ["a", "b"], "b": ["c", "d"], "d": []}

    def callback(request):
        last = re.search(r"last=([^&]*)", request.url)
        return 200, {}, json.dumps({"repositories": pages[last.group(1) if last else None]})

    responses.add_callback(responses.GET, REG + "/v2/_catalog", callback=callback)
    assert list(client.catalog.iter_catalog(page_size=2)) == ["a", "b", "c", "d"]
    assert len(responses.calls) == 3


@responses.activate
def test_docker_hub_tags_shifted_by_a_push_are_listed_once(client):
    """Docker Hub pages by position in update order: a tag pushed while listing moves v1 onto page 2 as well."""
    base = REG + "/v2/namespaces/library/repositories/app/tags"
    responses.add(responses.GET, base, json={"next": base + "?page=2&page_size=2", "results": [
        {"name": "v2", "digest": "sha256:2"}, {"name": "v1", "digest": "sha256:1"}]},
        match=[responses.matchers.query_param_matcher({"page_size": "2"})])
    responses.add(responses.GET, base, json={"next": base + "?page=2&page_size=2", "results": [
        {"name": "v1", "digest": "sha256:1"}, {"name": "v0", "digest": "sha256:0"}]},
        match=[responses.matchers.query_param_matcher({"page": "2", "page_size": "2"})])
    results = client.hub.list_repository_tags("library", "app", page_size=2)
    assert [entry["name"] for entry in results] == ["v2", "v1", "v0"]
    assert len(responses.calls) == 2  # the page linking to itself ends the listing


@responses.activate
def test_docker_hub_answer_that_is_not_an_object_is_a_protocol_error(client):
    responses.add(responses.GET, REG + "/v2/namespaces/library/repositories/app/tags", json=["v1"])
    with pytest.raises(ProtocolError, match="not a JSON object"):
        client.hub.list_repository_tags("library", "app")


@responses.activate
def test_link_to_another_host_not_followed(client):
    responses.add(responses.GET, REG + "/v2/_catalog", json={"repositories": ["a"]},
                  headers={"Link": '<https://evil.example/v2/_catalog?last=a>; rel="next"'})
    page = client.catalog.get_catalog()
    assert page.next_url is None and page.repositories == ["a"]


@responses.activate
def test_tags_by_digests_bounded_concurrency(client):
    tags = ["t%02d" % i for i in range(12)]
    responses.add(responses.GET, REG + "/v2/a/tags/list", json={"name": "a", "tags": tags})
    state = {"active": 0, "max": 0}
    lock = threading.Lock()

    def head(request):
        with lock:
            state["active"] += 1
            state["max"] = max(state["max"], state["active"])
        time.sleep(0.02)
        with lock:
            state["active"] -= 1
        tag = request.url.rsplit("/", 1)[1]
        digest = "sha256:" + ("1" if int(tag[1:]) % 2 else "2") * 64
        return 200, {"Docker-Content-Digest": digest, "Content-Type": media.OCI_MANIFEST,
                     "Content-Length": "100"}, b""

    responses.add_callback(responses.HEAD, re.compile(REG + "/v2/a/manifests/.*"), callback=head)
    groups = client.tags.list_tags_by_digests("a", concurrency=3)
    assert state["max"] <= 3
    assert [g["digest"] for g in groups] == ["sha256:" + "1" * 64, "sha256:" + "2" * 64]
    assert groups[0]["tags"] == ["t01", "t03", "t05", "t07", "t09", "t11"]
    assert groups[1]["media_type"] == media.OCI_MANIFEST and groups[1]["size"] == 100


# ----------------------------------------------------------------------------- uploads

@pytest.mark.parametrize("value, expected", [("0-0", 0), ("0-9", 10), ("bytes=0-99", 100), (None, None), ("x", None)])
def test_parse_range_end(value, expected):
    assert parse_range_end(value) == expected


def _upload_start(location="/v2/a/blobs/uploads/u1?_state=s0", extra=None):
    headers = {"Location": location, "Docker-Upload-UUID": "u1", "Range": "0-0"}
    headers.update(extra or {})
    responses.add(responses.POST, REG + "/v2/a/blobs/uploads/", status=202, headers=headers)


@responses.activate
def test_patch_answered_201_is_accepted_and_min_chunk_honoured(client):
    """ECR answers 201 to PATCH; OCI-Chunk-Min-Length raises the chunk size."""
    data = bytes(range(256)) * 40  # 10240 bytes
    digest = media.sha256_digest(data)
    responses.add(responses.HEAD, REG + "/v2/a/blobs/" + digest, status=404)
    _upload_start(extra={"OCI-Chunk-Min-Length": "4096"})
    ranges = []

    def patch(request):
        ranges.append(request.headers["Content-Range"])
        end = int(request.headers["Content-Range"].split("-")[1])
        return 201, {"Location": "/v2/a/blobs/uploads/u1?_state=s%d" % end, "Range": "0-%d" % end}, b""

    responses.add_callback(responses.PATCH, re.compile(REG + "/v2/a/blobs/uploads/u1.*"), callback=patch)
    responses.add(responses.PUT, re.compile(REG + "/v2/a/blobs/uploads/u1.*"), status=201,
                  headers={"Docker-Content-Digest": digest})
    result = client.uploads.upload_blob("a", data, chunk_size=1000)
    assert result.digest == digest and result.size == len(data) and result.chunks == 3
    assert ranges == ["0-4095", "4096-8191", "8192-10239"]
    put = responses.calls[-1].request
    assert "digest=" + digest.replace(":", "%3A") in put.url and "_state=s10239" in put.url


@responses.activate
def test_416_resumes_from_registry_offset(client):
    data = b"abcdefghij" * 3
    digest = media.sha256_digest(data)
    _upload_start()
    sent = []
    state = {"fail": True}

    def patch(request):
        start, end = map(int, request.headers["Content-Range"].split("-"))
        sent.append((start, request.body))
        if start == 10 and state["fail"]:
            state["fail"] = False
            return 416, {}, json.dumps({"errors": [{"code": "BLOB_UPLOAD_INVALID", "message": "range"}]})
        return 202, {"Location": "/v2/a/blobs/uploads/u1", "Range": "0-%d" % end}, b""

    responses.add_callback(responses.PATCH, re.compile(REG + "/v2/a/blobs/uploads/u1.*"), callback=patch)
    # The registry already got 5 bytes of the failed chunk.
    responses.add(responses.GET, re.compile(REG + "/v2/a/blobs/uploads/u1.*"), status=204,
                  headers={"Range": "0-14", "Location": "/v2/a/blobs/uploads/u1?_state=resumed"})
    responses.add(responses.PUT, re.compile(REG + "/v2/a/blobs/uploads/u1.*"), status=201)
    stream = io.BufferedReader(io.BytesIO(data))
    stream.seekable = lambda: False  # a pipe: only the current chunk can be resent
    result = client.uploads.upload_blob("a", stream, chunk_size=10)
    assert result.digest == digest
    assert [start for start, _body in sent] == [0, 10, 15, 20]
    assert sent[2][1] == data[15:20]


@responses.activate
def test_monolithic_upload_from_file_sends_content_length(client, tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"z" * 1000)
    digest = media.sha256_digest(b"z" * 1000)
    _upload_start(location=REG + "/v2/a/blobs/uploads/u1?_state=abc")
    responses.add(responses.PUT, re.compile(REG + "/v2/a/blobs/uploads/u1.*"), status=201)
    with open(str(path), "rb") as handle:
        assert client.uploads.monolithic_upload("a", digest, handle) == digest
    put = responses.calls[-1].request
    assert put.headers["Content-Length"] == "1000" and "Transfer-Encoding" not in put.headers
    assert "_state=abc" in put.url and "digest=sha256" in put.url


@responses.activate
def test_mount_refused_cancels_the_started_upload(client):
    responses.add(responses.POST, REG + "/v2/a/blobs/uploads/", status=202,
                  headers={"Location": "/v2/a/blobs/uploads/u9", "Range": "0-0"})
    responses.add(responses.DELETE, REG + "/v2/a/blobs/uploads/u9", status=204)
    assert client.uploads.mount_blob("a", MANIFEST_DIGEST, "b") is False
    assert "mount=" + MANIFEST_DIGEST.replace(":", "%3A") in responses.calls[0].request.url
    assert responses.calls[1].request.method == "DELETE"


def test_upload_chunk_content_range_is_inclusive_without_star(client):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, REG + "/v2/a/blobs/uploads/u1", status=202,
                 headers={"Location": "/v2/a/blobs/uploads/u1", "Range": "0-109"})
        session = client.uploads.upload_chunk(UploadSession("a", REG + "/v2/a/blobs/uploads/u1", offset=100),
                                              b"0123456789")
        assert rsps.calls[0].request.headers["Content-Range"] == "100-109"
        assert session.offset == 110


# ----------------------------------------------------------------------------- blobs

@responses.activate
def test_blob_stream_verifies_digest_and_size(client):
    good = b"layer-bytes"
    digest = media.sha256_digest(good)
    responses.add(responses.GET, REG + "/v2/a/blobs/" + digest, body=b"layer-bytez")
    with pytest.raises(DigestMismatchError, match="hashes to"):
        with client.blobs.get_blob("a", digest) as stream:
            stream.read_all()
    responses.replace(responses.GET, REG + "/v2/a/blobs/" + digest, body=good,
                      headers={"Content-Length": str(len(good))})
    with pytest.raises(DigestMismatchError, match="expected 99"):
        client.blobs.get_blob("a", digest, expected_size=99)
    out = io.BytesIO()
    assert client.blobs.download_blob("a", digest, out) == len(good) and out.getvalue() == good


@responses.activate
def test_blob_download_ignores_content_encoding(client):
    """Object storage may label a gzip layer Content-Encoding: gzip; the digest is of the stored bytes."""
    import gzip
    stored = gzip.compress(b"tar content")
    digest = media.sha256_digest(stored)
    responses.add(responses.GET, REG + "/v2/a/blobs/" + digest, body=stored,
                  headers={"Content-Encoding": "gzip"})
    with client.blobs.get_blob("a", digest) as stream:
        assert stream.read_all() == stored


# ----------------------------------------------------------------------------- referrers, hub, ping

@responses.activate
def test_referrers_api_filters_client_side_when_registry_did_not(client):
    index = {"schemaVersion": 2, "mediaType": media.OCI_INDEX, "manifests": [
        {"mediaType": media.OCI_MANIFEST, "digest": "sha256:" + "1" * 64, "size": 1, "artifactType": "a/sig"},
        {"mediaType": media.OCI_MANIFEST, "digest": "sha256:" + "2" * 64, "size": 1, "artifactType": "a/sbom"}]}
    responses.add(responses.GET, REG + "/v2/a/referrers/" + MANIFEST_DIGEST, json=index,
                  headers={"Content-Type": media.OCI_INDEX})
    result = client.referrers.list_referrers("a", MANIFEST_DIGEST, artifact_type="a/sbom")
    assert result.via == "api" and [d.digest for d in result.descriptors] == ["sha256:" + "2" * 64]


@responses.activate
def test_referrers_fall_back_to_tag_schema(client):
    index = media.dumps_canonical({"schemaVersion": 2, "mediaType": media.OCI_INDEX, "manifests": [
        {"mediaType": media.OCI_MANIFEST, "digest": "sha256:" + "3" * 64, "size": 1, "artifactType": "a/sig"}]})
    responses.add(responses.GET, REG + "/v2/a/referrers/" + MANIFEST_DIGEST, status=404, body=b"404 page not found")
    responses.add(responses.GET, REG + "/v2/a/manifests/sha256-" + MANIFEST_DIGEST.split(":")[1], body=index,
                  headers={"Content-Type": media.OCI_INDEX})
    result = client.referrers.list_referrers("a", MANIFEST_DIGEST)
    assert result.via == "tag" and result.descriptors[0].artifact_type == "a/sig"


def test_hub_api_base_for_docker_hub_and_for_other_urls():
    assert RegistryClient("docker.io", auth_type="none").hub.base_url == "https://hub.docker.com"
    assert RegistryClient("http://127.0.0.1:9", auth_type="none").hub.base_url == "http://127.0.0.1:9"


@responses.activate
def test_ping_reports_challenge_and_rate_limit():
    responses.add(responses.GET, REG + "/v2/", status=401, headers={
        "WWW-Authenticate": 'Bearer realm="https://auth.example/token",service="reg.example"',
        "Docker-Distribution-API-Version": "registry/2.0"})
    responses.add(responses.GET, "https://auth.example/token", json={"token": "anon"})
    responses.add(responses.GET, REG + "/v2/", status=200, headers={"RateLimit-Limit": "100;w=21600",
                                                                    "RateLimit-Remaining": "99;w=21600",
                                                                    "Docker-RateLimit-Source": "1.2.3.4"})
    info = RegistryClient(REG, auth_type="anonymous").system.ping()
    assert info == {"api_version": "registry/2.0", "status": 200,
                    "auth": {"scheme": "bearer", "realm": "https://auth.example/token", "service": "reg.example"},
                    "authenticated": False, "rate_limit": {"limit": 100, "remaining": 99, "source": "1.2.3.4"}}


@responses.activate
def test_unexpected_json_is_protocol_error(client):
    responses.add(responses.GET, REG + "/v2/_catalog", body=b"<html>proxy login</html>")
    with pytest.raises(ProtocolError, match="not JSON"):
        client.catalog.get_catalog()


def test_sha512_digest_verification(client):
    body = MANIFEST
    digest = "sha512:" + hashlib.sha512(body).hexdigest()
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, REG + "/v2/a/manifests/" + digest, body=body, headers={"Content-Type": media.OCI_MANIFEST})
        assert client.manifests.get_manifest("a", digest).digest == digest


@responses.activate
def test_upload_invalidated_by_registry_restarts_from_scratch(client):
    """distribution 2.8 invalidates an upload that received part of a chunk; a seekable source starts over."""
    data = b"0123456789" * 3
    digest = media.sha256_digest(data)
    responses.add(responses.HEAD, REG + "/v2/a/blobs/" + digest, status=404)
    responses.add(responses.POST, REG + "/v2/a/blobs/uploads/", status=202,
                  headers={"Location": "/v2/a/blobs/uploads/first", "Range": "0-0"})
    responses.add(responses.POST, REG + "/v2/a/blobs/uploads/", status=202,
                  headers={"Location": "/v2/a/blobs/uploads/second", "Range": "0-0"})
    responses.add(responses.PATCH, REG + "/v2/a/blobs/uploads/first", status=202,
                  headers={"Location": "/v2/a/blobs/uploads/first", "Range": "0-9"})
    responses.add(responses.PATCH, REG + "/v2/a/blobs/uploads/first", status=404,
                  json={"errors": [{"code": "BLOB_UPLOAD_INVALID", "message": "blob upload invalid"}]})
    ranges = []

    def patch(request):
        ranges.append(request.headers["Content-Range"])
        end = int(request.headers["Content-Range"].split("-")[1])
        return 202, {"Location": "/v2/a/blobs/uploads/second", "Range": "0-%d" % end}, b""

    responses.add_callback(responses.PATCH, REG + "/v2/a/blobs/uploads/second", callback=patch)
    responses.add(responses.PUT, REG + "/v2/a/blobs/uploads/second", status=201)
    result = client.uploads.upload_blob("a", io.BytesIO(data), chunk_size=10)
    assert result.digest == digest and result.size == 30
    assert ranges == ["0-9", "10-19", "20-29"]
    assert "second" in responses.calls[-1].request.url


@responses.activate
def test_lost_answer_to_final_put_is_success_when_blob_exists(client):
    """The PUT committed the blob but its answer was lost; the retry finds the session gone."""
    digest = media.sha256_digest(b"abc")
    responses.add(responses.PUT, REG + "/v2/a/blobs/uploads/u1", status=404,
                  json={"errors": [{"code": "BLOB_UPLOAD_UNKNOWN", "message": "blob upload unknown"}]})
    responses.add(responses.HEAD, REG + "/v2/a/blobs/" + digest, headers={"Content-Length": "3"})
    session = UploadSession("a", REG + "/v2/a/blobs/uploads/u1")
    assert client.uploads.complete_upload(session, digest, data=b"abc") == digest


@responses.activate
def test_503_on_a_chunk_resumes_from_upload_status(client):
    data = b"x" * 20
    _upload_start()
    responses.add(responses.PATCH, REG + "/v2/a/blobs/uploads/u1", status=202,
                  headers={"Location": "/v2/a/blobs/uploads/u1", "Range": "0-9"})
    responses.add(responses.PATCH, REG + "/v2/a/blobs/uploads/u1", status=503)
    responses.add(responses.GET, REG + "/v2/a/blobs/uploads/u1", status=204, headers={"Range": "0-9"})
    responses.add(responses.PATCH, REG + "/v2/a/blobs/uploads/u1", status=202,
                  headers={"Location": "/v2/a/blobs/uploads/u1", "Range": "0-19"})
    responses.add(responses.PUT, REG + "/v2/a/blobs/uploads/u1", status=201)
    stream = io.BufferedReader(io.BytesIO(data))
    stream.seekable = lambda: False
    result = client.uploads.upload_blob("a", stream, chunk_size=10)
    assert result.digest == media.sha256_digest(data)
    patches = [c.request.headers["Content-Range"] for c in responses.calls if c.request.method == "PATCH"]
    assert patches == ["0-9", "10-19", "10-19"]


@responses.activate
def test_failed_stream_upload_cancels_its_session(client):
    _upload_start(location="/v2/a/blobs/uploads/u1")
    responses.add(responses.PUT, REG + "/v2/a/blobs/uploads/u1", status=500)
    responses.add(responses.DELETE, REG + "/v2/a/blobs/uploads/u1", status=204)
    with pytest.raises(Exception) as info:
        client.uploads.upload_stream("a", MANIFEST_DIGEST, 3, iter([b"abc"]))
    assert info.value.status == 500
    assert responses.calls[-1].request.method == "DELETE"


@responses.activate
def test_monolithic_upload_restarts_in_a_fresh_session_when_spoiled(client):
    digest = media.sha256_digest(b"payload")
    for name in ("u1", "u2"):
        responses.add(responses.POST, REG + "/v2/a/blobs/uploads/", status=202,
                      headers={"Location": "/v2/a/blobs/uploads/" + name, "Range": "0-0"})
    responses.add(responses.PUT, REG + "/v2/a/blobs/uploads/u1", status=400,
                  json={"errors": [{"code": "DIGEST_INVALID", "message": "provided digest did not match"}]})
    responses.add(responses.DELETE, REG + "/v2/a/blobs/uploads/u1", status=204)
    responses.add(responses.HEAD, REG + "/v2/a/blobs/" + digest, status=404)
    responses.add(responses.PUT, REG + "/v2/a/blobs/uploads/u2", status=201)
    assert client.uploads.monolithic_upload("a", digest, b"payload") == digest
    assert [c.request.method for c in responses.calls] == ["POST", "PUT", "DELETE", "HEAD", "POST", "PUT"]
