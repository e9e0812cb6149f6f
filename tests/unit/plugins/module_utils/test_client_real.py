"""RegistryClient against the real registries of tests/registries (distribution 2.8, our token service).

Variants: plain (HTTP), tls (generated CA), basic (htpasswd over TLS), token (token service over TLS).
skopeo is the independent client that cross-checks digests and tags.
"""

import hashlib
import io
import json
import os
import sys

import pytest
import requests

from ansible_collections.oci.registry.plugins.module_utils import _media as media
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    InsufficientScopeError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    TLSError,
    UnsupportedError,
)
from ansible_collections.oci.registry.tests.registries import images

sys.path.insert(0, os.path.dirname(__file__))
from client_test_servers import (  # noqa: E402  pylint: disable=wrong-import-position
    BlobStorage,
    BreakingProxy,
    FlakyBlobServer,
    HubApi,
    RedirectingRegistry,
    hub_tag,
)

VARIANTS = ("plain", "tls", "basic", "token")


def _user(env, variant, user):
    users = env["registries"][variant].get("users") or {}
    if user == "default":
        user = "admin" if users else None
    return (user, users[user]) if user else (None, None)


@pytest.fixture
def connect(registries):
    clients = []

    def make(variant, user="default", **options):
        username, password = _user(registries, variant, user)
        options.setdefault("ca_path", registries["ca_path"])
        options.setdefault("trace", True)
        client = RegistryClient(registries["registries"][variant]["url"], username=username, password=password,
                                auth_type=options.pop("auth_type", "auto"), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _token_stats(env):
    response = requests.get(env["registries"]["token"]["stats_url"], verify=env["ca_path"], timeout=10)
    response.raise_for_status()
    return response.json()


def _tokens_issued_to(env, client):
    """Tokens the service issued to this client: counted by a client_id no other test uses (xdist-safe)."""
    return _token_stats(env)["by_client_id"].get(client.auth.client_id, 0)


def _own_client_id(client):
    client.auth.client_id = "oci.registry-test-" + os.urandom(6).hex()
    return client


def _push_image(client, repository, tag, seed, layer_size=3000):
    """Config + one layer + OCI manifest through our client; returns (manifest bytes, digest, layer)."""
    layer = hashlib.sha256(seed.encode()).digest() * (layer_size // 32 + 1)
    layer = layer[:layer_size]
    config = media.dumps_canonical({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                                    "rootfs": {"type": "layers", "diff_ids": [media.sha256_digest(layer)]},
                                    "config": {"Labels": {"seed": seed}}})
    for blob in (config, layer):
        client.uploads.upload_blob(repository, blob)
    manifest = media.dumps_canonical({
        "schemaVersion": 2, "mediaType": media.OCI_MANIFEST,
        "config": {"mediaType": media.OCI_CONFIG, "digest": media.sha256_digest(config), "size": len(config)},
        "layers": [{"mediaType": media.OCI_LAYER, "digest": media.sha256_digest(layer), "size": len(layer)}]})
    put = client.manifests.put_manifest(repository, tag, manifest, media.OCI_MANIFEST)
    return manifest, put.digest, layer


# ----------------------------------------------------------------------------- every operation, every variant

@pytest.mark.parametrize("variant", VARIANTS)
def test_ping(connect, variant):
    info = connect(variant).system.ping()
    assert info["api_version"] == "registry/2.0" and info["status"] == 200
    if variant == "basic":
        assert info["auth"]["scheme"] == "basic" and info["authenticated"] is True
    elif variant == "token":
        assert info["auth"]["scheme"] == "bearer" and info["auth"]["service"] == "oci-registry-test"
        assert info["authenticated"] is True
    else:
        assert info["auth"] is None and info["authenticated"] is False


@pytest.mark.parametrize("variant", VARIANTS)
def test_manifest_blob_tag_operations(connect, skopeo, unique_repo, variant):
    client = connect(variant)
    raw, digest, layer = _push_image(client, unique_repo, "1.0", variant)
    layer_digest = media.sha256_digest(layer)
    client.manifests.put_manifest(unique_repo, "1.1", raw, media.OCI_MANIFEST)

    user = _user(skopeo.env, variant, "default")[0]
    assert skopeo.inspect_digest(variant, unique_repo, "1.0", user=user) == digest
    result = client.manifests.get_manifest(unique_repo, "1.0")
    assert (result.digest, result.media_type, result.raw) == (digest, media.OCI_MANIFEST, raw)
    assert result.manifest.layers[0].digest == layer_digest
    assert client.manifests.get_manifest_raw(unique_repo, digest).raw == raw
    head = client.manifests.head_manifest(unique_repo, "1.0")
    assert (head.digest, head.size) == (digest, len(raw))
    assert client.manifests.get_digest(unique_repo, "1.1") == digest

    assert sorted(client.tags.list_tags(unique_repo).tags) == ["1.0", "1.1"]
    assert sorted(client.tags.iter_tags(unique_repo, page_size=1)) == ["1.0", "1.1"]
    assert client.tags.list_tags_by_digests(unique_repo) == [
        {"digest": digest, "media_type": media.OCI_MANIFEST, "size": len(raw), "tags": ["1.0", "1.1"]}]

    assert client.blobs.blob_exists(unique_repo, layer_digest) == len(layer)
    with client.blobs.get_blob(unique_repo, layer_digest, expected_size=len(layer)) as stream:
        assert stream.read_all() == layer
    out = io.BytesIO()
    assert client.blobs.download_blob(unique_repo, layer_digest, out) == len(layer) and out.getvalue() == layer

    assert client.manifests.delete_tag(unique_repo, "1.1") == "placeholder"
    assert client.tags.list_tags(unique_repo).tags == ["1.0"]
    assert client.manifests.delete_manifest(unique_repo, digest)
    assert client.manifests.head_manifest(unique_repo, "1.0") is None
    assert client.blobs.delete_blob(unique_repo, layer_digest)
    assert client.blobs.blob_exists(unique_repo, layer_digest) is None


@pytest.mark.parametrize("variant", VARIANTS)
def test_upload_operations_and_mount(connect, unique_repo, variant):
    client = connect(variant)
    data = os.urandom(20000)
    digest = media.sha256_digest(data)

    session = client.uploads.start_upload(unique_repo)
    client.uploads.upload_chunk(session, data[:7000])
    assert client.uploads.get_upload_status(session) == 7000
    client.uploads.upload_chunk(session, data[7000:], start=7000)
    assert client.uploads.complete_upload(session, digest) == digest
    assert client.blobs.blob_exists(unique_repo, digest) == len(data)

    abandoned = client.uploads.start_upload(unique_repo)
    client.uploads.cancel_upload(abandoned)
    with pytest.raises(NotFoundError):
        client.uploads.get_upload_status(abandoned)

    small = b"monolithic " + variant.encode()
    assert client.uploads.monolithic_upload(unique_repo, media.sha256_digest(small), io.BytesIO(small)) == \
        media.sha256_digest(small)
    streamed = os.urandom(5000)
    chunks = [streamed[i:i + 1000] for i in range(0, 5000, 1000)]
    assert client.uploads.upload_stream(unique_repo, media.sha256_digest(streamed), 5000, iter(chunks)) == \
        media.sha256_digest(streamed)
    again = client.uploads.upload_blob(unique_repo, streamed)
    assert again.existed and again.chunks == 0

    target = unique_repo + "-mounted"
    assert client.uploads.mount_blob(target, digest, unique_repo) is True
    assert client.blobs.blob_exists(target, digest) == len(data)
    # A blob the source does not have cannot be mounted: the registry starts an upload, which we cancel.
    assert client.uploads.mount_blob(target, "sha256:" + "0" * 64, unique_repo) is False


# ----------------------------------------------------------------------------- independent cross-checks

def test_digests_equal_what_skopeo_reports(registries, connect, skopeo, unique_repo):
    index = images.push_index(registries, "plain", unique_repo, "multi")
    docker_image = images.push_docker_image(registries, "plain", unique_repo, "docker")
    client = connect("plain")
    for tag in ("multi", "docker"):
        assert client.manifests.get_digest(unique_repo, tag) == skopeo.inspect_digest("plain", unique_repo, tag)
    result = client.manifests.get_manifest(unique_repo, "multi")
    assert result.digest == index.digest and result.manifest.is_index
    assert result.raw == skopeo.inspect_raw("plain", unique_repo, "multi")
    assert media.index_platforms(result.manifest) == ["linux/amd64", "linux/arm64/v8"]
    assert len(result.manifest.attestations()) == 2
    arm = media.select_platform(result.manifest, "linux/arm64")
    assert client.manifests.get_manifest(unique_repo, arm.digest).digest == arm.digest
    docker = client.manifests.get_manifest(unique_repo, "docker")
    assert docker.media_type == media.DOCKER_MANIFEST and docker.digest == docker_image.digest


def test_referrers_fall_back_to_tag_schema_on_distribution(registries, connect, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "signed")
    artifact = images.push_artifact(registries, "plain", unique_repo, image)
    client = connect("plain")
    result = client.referrers.list_referrers(unique_repo, image.digest)
    assert result.via == "tag"
    assert [d.digest for d in result.descriptors] == [artifact.digest]
    assert client.referrers.list_referrers(unique_repo, image.digest, artifact_type="no/such").descriptors == []
    assert client.referrers.list_referrers(unique_repo, artifact.digest).via == "none"


def test_delete_tag_keeps_sibling_tags(registries, connect, skopeo, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "keep")
    images.tag_manifest(registries, "plain", unique_repo, image, ["remove", "also-keep"])
    client = connect("plain")
    assert client.manifests.delete_tag(unique_repo, "remove") == "placeholder"
    assert sorted(skopeo.list_tags("plain", unique_repo)) == ["also-keep", "keep"]
    for tag in ("keep", "also-keep"):
        assert skopeo.inspect_digest("plain", unique_repo, tag) == image.digest
    assert client.manifests.get_manifest(unique_repo, image.digest).digest == image.digest
    with pytest.raises(NotFoundError, match="tag does not exist"):
        client.manifests.delete_tag(unique_repo, "remove")


# ----------------------------------------------------------------------------- pagination

def _path_order(name):
    return name.split("/")


def test_catalog_and_tags_span_three_pages(registries, connect, skopeo, unique_repo):
    prefix = unique_repo.replace("test/", "pages/") + "-"
    repos = [image.repository for image in images.seed_many_repositories(registries, "plain", 4, prefix=prefix)]
    images.seed_many_tags(registries, "plain", unique_repo, count=7)
    client = connect("plain")

    catalog = list(client.catalog.iter_catalog(page_size=2))
    # distribution orders by path component ("a/x" before "a-b/x"), not by the whole string.
    assert catalog == sorted(set(catalog), key=_path_order) and set(repos) <= set(catalog)
    page = client.catalog.get_catalog(n=2)
    assert len(page.repositories) == 2 and page.next_last == page.repositories[-1]
    following = client.catalog.get_catalog(n=2, last=page.next_last).repositories[0]
    assert _path_order(following) > _path_order(page.next_last)
    catalog_calls = [r for r in client.trace_records if r["path"] == "/v2/_catalog"]
    assert len(catalog_calls) >= 3

    # distribution 2.8 ignores n/last on tags/list and answers the whole, unsorted list (paging
    # arrived in 3.0); the client must still yield each tag once and stop. Link paging of tags is
    # covered by the responses tests.
    before = client.request_count
    tags = list(client.tags.iter_tags(unique_repo, page_size=3))
    assert sorted(tags) == sorted(skopeo.list_tags("plain", unique_repo))
    assert len(tags) == 7 and client.request_count - before == 1
    tags = sorted(tags)
    groups = client.tags.list_tags_by_digests(unique_repo, concurrency=3)
    assert len(groups) == 1 and groups[0]["tags"] == tags


# ----------------------------------------------------------------------------- token service

def test_token_cached_per_scope_set_and_refresh_token_reused(registries, connect, unique_repo):
    client = connect("token")
    _push_image(client, unique_repo, "v1", "cache")
    pull_client = _own_client_id(connect("token"))
    grants = []
    post_token = pull_client.auth._post_token
    pull_client.auth._post_token = lambda realm, service, scopes, fields: (
        grants.append(fields["grant_type"]) or post_token(realm, service, scopes, fields))
    for _attempt in range(4):
        pull_client.manifests.get_manifest(unique_repo, "v1")
        pull_client.tags.list_tags(unique_repo)
    assert _tokens_issued_to(registries, pull_client) == 1 and pull_client.token_requests == 1

    pull_client.uploads.start_upload(unique_repo + "-other")  # a new scope set: one more token
    assert _tokens_issued_to(registries, pull_client) == 2
    assert grants == ["password", "refresh_token"]

    # Trace records say what was called, never with which secret.
    trace = json.dumps(pull_client.trace_records)
    assert '"name": "token"' in trace and "/token" in trace
    assert registries["registries"]["token"]["users"]["admin"] not in trace
    assert "Bearer" not in trace and "Basic" not in trace and "eyJ" not in trace


def test_concurrent_requests_share_one_token(registries, connect, unique_repo):
    """The token cache is shared by worker threads: 8 parallel HEADs for one scope set, one token."""
    from concurrent.futures import ThreadPoolExecutor

    _push_image(connect("token"), unique_repo, "v1", "threads")
    client = connect("token")
    _own_client_id(client)
    client.system.ping()  # learn the challenge, so every worker goes straight for a token
    before = _tokens_issued_to(registries, client)
    with ThreadPoolExecutor(max_workers=8) as pool:
        digests = set(pool.map(lambda _index: client.manifests.get_digest(unique_repo, "v1"), range(16)))
    assert len(digests) == 1
    assert _tokens_issued_to(registries, client) - before == 1


def test_expired_token_is_fetched_again(registries, connect, unique_repo):
    client = connect("token")
    _push_image(client, unique_repo, "v1", "expiry")
    now = [1000.0]
    client.auth.cache._clock = lambda: now[0]
    client.auth.cache.clear()
    client.tags.list_tags(unique_repo)
    first = client.token_requests
    client.tags.list_tags(unique_repo)
    assert client.token_requests == first
    now[0] += 3600
    client.tags.list_tags(unique_repo)
    assert client.token_requests == first + 1


def test_mount_asks_for_source_pull_scope(registries, connect, unique_repo):
    _raw, _digest, layer = _push_image(connect("token"), unique_repo, "v1", "mount")
    fresh = _own_client_id(connect("token"))
    requested = []
    post_token = fresh.auth._post_token
    fresh.auth._post_token = lambda realm, service, scopes, fields: (
        requested.append(scopes) or post_token(realm, service, scopes, fields))
    # distribution mounts only when the token also grants pull on the source; otherwise it answers
    # 202 and starts an upload, so True proves the one token carried both scopes.
    assert fresh.uploads.mount_blob(unique_repo + "-dst", media.sha256_digest(layer), unique_repo) is True
    assert [set(scopes) for scopes in requested] == [
        {"repository:%s-dst:pull,push" % unique_repo, "repository:%s:pull" % unique_repo}]
    assert _tokens_issued_to(registries, fresh) == 1


def test_pull_only_user_denied_push_with_clear_error(registries, connect, unique_repo):
    _push_image(connect("token"), unique_repo, "v1", "denied")
    puller = connect("token", user="puller")
    assert puller.manifests.get_digest(unique_repo, "v1")
    with pytest.raises(PermissionDeniedError) as info:
        puller.uploads.upload_blob(unique_repo, b"not allowed")
    err = info.value
    assert isinstance(err, InsufficientScopeError) and err.status == 401
    text = str(err)
    assert unique_repo in text and "permission" in text
    assert registries["registries"]["token"]["users"]["puller"] not in text


def test_get_config_reads_the_verified_configuration(registries, connect, unique_repo):
    index = images.push_index(registries, "plain", unique_repo, "1", attestation=False)
    arm = index.image_for("linux/arm64")
    client = connect("plain")
    manifest = client.manifests.get_manifest(unique_repo, arm.digest).manifest
    config = client.blobs.get_config(unique_repo, manifest)
    # The builder wrote the configuration as canonical JSON: re-encoding what we read must give its digest.
    assert "sha256:" + hashlib.sha256(images.canonical_json(config)).hexdigest() == arm.config["digest"]
    assert str(media.config_platform(config)) == "linux/arm64/v8"
    with pytest.raises(ProtocolError):
        client.blobs.get_config(unique_repo, manifest, max_size=8)
    index_manifest = client.manifests.get_manifest(unique_repo, "1").manifest
    assert client.blobs.get_config(unique_repo, index_manifest) is None


def test_catalog_denied_hint_speaks_of_the_catalog(connect):
    puller = connect("token", user="puller")
    with pytest.raises(PermissionDeniedError) as info:
        puller.catalog.get_catalog()
    assert "registry:catalog" in info.value.hint and "catalog access" in info.value.hint
    assert "push/delete" not in info.value.hint


def test_wrong_password_and_missing_credentials(registries, connect):
    url = registries["registries"]["token"]["url"]
    with RegistryClient(url, username="admin", password="wrong-pw", ca_path=registries["ca_path"]) as client:
        with pytest.raises(AuthenticationError) as info:
            client.catalog.get_catalog()
    assert "wrong-pw" not in str(info.value) and "check username and password" in str(info.value)
    anonymous = connect("basic", user=None)
    with pytest.raises(AuthenticationError, match="needs credentials"):
        anonymous.catalog.get_catalog()


def test_anonymous_token_reads_public_repositories(registries, connect):
    images.push_oci_image(registries, "token", "public/hello", "latest")
    anonymous = connect("token", user=None, auth_type="anonymous")
    assert anonymous.manifests.get_digest("public/hello", "latest").startswith("sha256:")
    with pytest.raises(AuthenticationError):
        anonymous.uploads.start_upload("private/x")


# ----------------------------------------------------------------------------- TLS

def test_ca_path_wins_over_requests_ca_bundle(registries, connect, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca-bundle.pem")
    assert connect("tls").system.ping()["status"] == 200
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    with pytest.raises(TLSError) as info:
        connect("tls", ca_path=None).system.ping()
    assert "ca_path" in str(info.value)
    assert connect("tls", ca_path=None, validate_certs=False).system.ping()["status"] == 200


# ----------------------------------------------------------------------------- broken chunks

@pytest.mark.parametrize("cut, same_session", [(0, True), (3000, False)])
def test_chunked_upload_survives_a_broken_chunk(registries, connect, unique_repo, cut, same_session):
    """The connection dies inside the 2nd PATCH. With no body byte delivered, the registry's upload status
    says where to resume; after a partial write distribution 2.8 drops the upload and the client starts over."""
    host, port = registries["registries"]["plain"]["host"].split(":")
    proxy = BreakingProxy(host, int(port), method=b"PATCH", nth=2, cut=cut)
    try:
        client = RegistryClient(proxy.url, trace=True, sleep=lambda s: None)
        data = os.urandom(25000)
        result = client.uploads.upload_blob(unique_repo, data, chunk_size=8192)
    finally:
        proxy.close()
    assert proxy.broken == 1
    assert result.digest == media.sha256_digest(data) and result.size == len(data)
    records = client.trace_records
    assert any(r["method"] == "PATCH" and r.get("error") for r in records)
    starts = [r for r in records if r["method"] == "POST"]
    status_checks = [r for r in records if r["method"] == "GET" and "/blobs/uploads/" in r["path"]]
    if same_session:
        assert len(starts) == 1 and [r["status"] for r in status_checks] == [204]
    else:
        # Usually the registry invalidates the upload and the client starts over; if the partial
        # write was not yet visible it may still accept a resume at the offset it reports.
        assert len(starts) == 2 or [r["status"] for r in status_checks] == [204]
    with connect("plain").blobs.get_blob(unique_repo, result.digest) as stream:
        assert stream.read_all() == data


# ----------------------------------------------------------------------------- local stand-ins

def test_redirect_to_storage_does_not_forward_authorization():
    blob = b"blob behind a redirect"
    digest = media.sha256_digest(blob)
    storage = BlobStorage({"/storage/" + digest: blob})
    registry = RedirectingRegistry(storage.url, token="registry-secret")
    try:
        with RegistryClient(registry.url, bearer_token="registry-secret") as client:
            with client.blobs.get_blob("team/app", digest) as stream:
                assert stream.read_all() == blob
    finally:
        storage.close()
        registry.close()
    assert registry.requests[0]["headers"]["Authorization"] == "Bearer registry-secret"
    assert len(storage.requests) == 1
    assert "Authorization" not in storage.requests[0]["headers"]
    assert "registry-secret" not in json.dumps(storage.requests[0]["headers"])


def test_docker_hub_tag_api_every_page_with_documented_fields():
    tags = [hub_tag("v%d" % i, "sha256:%064x" % i) for i in range(7)]
    hub = HubApi("library", "alpine", tags, username="hubuser", password="hub-pw")
    try:
        with RegistryClient(hub.url, username="hubuser", password="hub-pw") as client:
            results = client.hub.list_repository_tags("library", "alpine", page_size=3)
    finally:
        hub.close()
    assert [t["name"] for t in results] == ["v%d" % i for i in range(7)]
    first = results[0]
    for field in ("name", "full_size", "last_updated", "tag_status", "digest", "media_type", "content_type",
                  "images"):
        assert field in first
    assert {"architecture", "os", "variant", "digest", "size", "status", "last_pushed"} <= set(first["images"][0])
    tag_requests = [r for r in hub.requests if "/tags" in r["path"]]
    assert len(tag_requests) == 3
    assert all(r["headers"]["Authorization"] == "Bearer hub-jwt-for-tests" for r in tag_requests)
    login = [r for r in hub.requests if r["path"] == "/v2/users/login"]
    assert len(login) == 1 and json.loads(login[0]["body"]) == {"username": "hubuser", "password": "hub-pw"}


def test_download_resumes_with_range_after_a_broken_body():
    blob = os.urandom(300000)
    digest = media.sha256_digest(blob)
    server = FlakyBlobServer(blob, cut=100000)
    try:
        with RegistryClient(server.url, sleep=lambda s: None) as client:
            out = io.BytesIO()
            assert client.blobs.download_blob("team/app", digest, out) == len(blob)
    finally:
        server.close()
    assert out.getvalue() == blob
    ranges = [r["headers"].get("Range") for r in server.requests]
    assert ranges[0] is None and ranges[1].startswith("bytes=") and int(ranges[1][6:-1]) > 0


# ----------------------------------------------------------------------------- deletes disabled

def test_untag_where_deletes_are_disabled_refuses_before_writing(registries, connect, skopeo, unique_repo):
    image = images.push_oci_image(registries, "plain_nodelete", unique_repo, "keep")
    images.tag_manifest(registries, "plain_nodelete", unique_repo, image, ["remove"])
    client = connect("plain_nodelete")

    with pytest.raises(UnsupportedError) as caught:
        client.manifests.delete_tag(unique_repo, "remove")

    assert "REGISTRY_STORAGE_DELETE_ENABLED=true" in str(caught.value)
    assert caught.value.reference == "remove"
    # No placeholder manifest was pushed, so none stays behind; the tags are as they were.
    assert [r for r in client.trace_records if r["method"] in ("PUT", "POST", "PATCH")] == []
    assert sorted(skopeo.list_tags("plain_nodelete", unique_repo)) == ["keep", "remove"]
    assert skopeo.inspect_digest("plain_nodelete", unique_repo, "remove") == image.digest


def test_untag_after_a_refused_delete_in_the_run_sends_no_probe(registries, connect, unique_repo):
    image = images.push_oci_image(registries, "plain_nodelete", unique_repo, "keep")
    images.tag_manifest(registries, "plain_nodelete", unique_repo, image, ["remove"])
    client = connect("plain_nodelete")
    with pytest.raises(UnsupportedError):
        client.manifests.delete_manifest(unique_repo, image.digest)
    sent = len(client.trace_records)
    with pytest.raises(UnsupportedError):
        client.manifests.delete_tag(unique_repo, "remove")
    later = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in client.trace_records[sent:]]
    assert later == [("HEAD", "remove"), ("DELETE", "remove")]


def test_untag_where_deletes_work_probes_once_per_repository(registries, connect, skopeo, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "keep")
    images.tag_manifest(registries, "plain", unique_repo, image, ["a", "b"])
    client = connect("plain")
    assert client.manifests.delete_tag(unique_repo, "a") == "placeholder"
    assert client.manifests.delete_tag(unique_repo, "b") == "placeholder"
    assert sorted(skopeo.list_tags("plain", unique_repo)) == ["keep"]
    probes = [r for r in client.trace_records if r["method"] == "DELETE" and "/manifests/sha256:" in r["path"]]
    assert len(probes) == 3  # one probe, two placeholders
