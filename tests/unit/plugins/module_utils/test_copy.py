"""Copy engine against the real test registries (tests/registries), cross-checked with skopeo."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ansible_collections.oci.registry.plugins.module_utils._blob_writer import StreamBody
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._copy import CopyEngine, CopyError
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    DigestMismatchError,
    NotFoundError,
    PermissionDeniedError,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import fallback_tag
from ansible_collections.oci.registry.tests.registries import images

MIB = 1024 * 1024


def client(env, variant, user=None, **kwargs):
    registry = env["registries"][variant]
    password = registry["users"][user] if user else None
    return RegistryClient(registry["url"], username=user, password=password, ca_path=env["ca_path"], **kwargs)


def ref(env, variant, repository, tag=None):
    registry = env["registries"][variant]
    text = "%s/%s" % (registry["url"], repository)
    return text + ":" + tag if tag else text


def engine(env, src_variant="plain", dest_variant="plain2", src_user=None, dest_user=None, **kwargs):
    src = client(env, src_variant, src_user)
    dest = src if (src_variant, src_user) == (dest_variant, dest_user) else client(env, dest_variant, dest_user)
    return CopyEngine(src, dest, **kwargs)


def dest_digest(env, variant, repository, reference, user=None):
    with client(env, variant, user) as c:
        head = c.manifests.head_manifest(repository, reference)
        return head.digest if head is not None else None


def methods_sent(c):
    return [record["method"] for record in c.trace_records]


# ---------------------------------------------------------------------------------- pure parts


def test_stream_body_sends_announced_length_and_all_bytes():
    body = StreamBody(iter([b"ab", b"cd", b"e"]), 5, "sha256:x")
    assert len(body) == 5
    assert b"".join(body) == b"abcde"


def test_stream_body_holds_last_chunk_until_source_verified():
    def verified_source():
        yield b"first"
        yield b"last"
        raise DigestMismatchError("digest mismatch", action="get blob")

    sent = []
    with pytest.raises(DigestMismatchError):
        for chunk in StreamBody(verified_source(), 9, "sha256:x"):
            sent.append(chunk)
    # The registry never gets the complete body, so it cannot commit the blob.
    assert sent == [b"first"]


@pytest.mark.parametrize("chunks", [[b"abc"], [b"abcdef", b"g"]], ids=["short", "long"])
def test_stream_body_refuses_size_other_than_descriptor(chunks):
    with pytest.raises(DigestMismatchError):
        list(StreamBody(iter(chunks), 6, "sha256:x"))


def test_fallback_tag_follows_referrers_tag_schema():
    assert fallback_tag("sha256:" + "a" * 64) == "sha256-" + "a" * 64


# ------------------------------------------------------------------------ against registries


def test_index_is_copied_byte_exact_and_second_run_only_heads(registries, skopeo, unique_repo):
    index = images.push_index(registries, "plain", unique_repo, "1.0")
    copier = engine(registries)

    result = copier.copy(ref(registries, "plain", unique_repo, "1.0"), ref(registries, "plain2", unique_repo, "1.0"))

    assert result["changed"] is True
    assert result["src_digest"] == result["dest_digest"] == index.digest
    assert skopeo.inspect_raw("plain2", unique_repo, "1.0") == index.raw
    for child in index.images + index.attestations:
        assert skopeo.inspect_raw("plain2", unique_repo, child.digest) == child.raw
    unique_blobs = {d for image in index.images + index.attestations for d in image.blob_digests}
    assert result["blobs"]["copied"] == len(unique_blobs)
    assert result["manifests"] == 1 + len(index.images) + len(index.attestations)

    rerun_src, rerun_dest = client(registries, "plain", trace=True), client(registries, "plain2", trace=True)
    again = CopyEngine(rerun_src, rerun_dest).copy(ref(registries, "plain", unique_repo, "1.0"),
                                                   ref(registries, "plain2", unique_repo, "1.0"))
    assert again["changed"] is False
    assert again["blobs"] == {"copied": 0, "mounted": 0, "skipped": 0, "bytes": 0}
    assert set(methods_sent(rerun_src) + methods_sent(rerun_dest)) == {"HEAD"}


def test_nested_index_copied_children_first(registries, skopeo, unique_repo):
    inner = images.push_index(registries, "plain", unique_repo, "inner", attestation=False)
    outer = {"schemaVersion": 2, "mediaType": images.OCI_INDEX,
             "manifests": [inner.descriptor(annotations={"purpose": "nested"})]}
    raw = images.canonical_json(outer)
    with images.RawRegistry(registries, "plain") as raw_registry:
        raw_registry.put_manifest(unique_repo, "outer", raw, images.OCI_INDEX)

    result = engine(registries).copy(ref(registries, "plain", unique_repo, "outer"),
                                     ref(registries, "plain2", unique_repo, "outer"))

    assert result["dest_digest"] == images.sha256_digest(raw)
    assert skopeo.inspect_raw("plain2", unique_repo, "outer") == raw
    assert skopeo.inspect_raw("plain2", unique_repo, inner.digest) == inner.raw


def test_one_platform_pushes_that_manifest_only(registries, skopeo, unique_repo):
    index = images.push_index(registries, "plain", unique_repo, "multi")
    arm = index.image_for("linux/arm64")

    result = engine(registries).copy(
        ref(registries, "plain", unique_repo, "multi"), ref(registries, "plain2", unique_repo, "arm"),
        platforms=["linux/arm64"])

    assert result["digest_changed"] is True
    assert result["src_digest"] == index.digest
    assert result["dest_digest"] == arm.digest
    assert skopeo.inspect_raw("plain2", unique_repo, "arm") == arm.raw
    amd = index.image_for("linux/amd64")
    assert skopeo.inspect_raw("plain2", unique_repo, amd.digest, check=False).returncode != 0


def test_several_platforms_make_new_index_with_their_attestations(registries, skopeo, unique_repo):
    index = images.push_index(registries, "plain", unique_repo, "multi",
                              platforms=("linux/amd64", "linux/arm64/v8", "linux/s390x"))
    kept = [index.image_for("linux/amd64"), index.image_for("linux/s390x")]
    src, dest = ref(registries, "plain", unique_repo, "multi"), ref(registries, "plain2", unique_repo, "two")

    result = engine(registries).copy(src, dest, platforms=["linux/amd64", "linux/s390x"])

    pushed = json.loads(skopeo.inspect_raw("plain2", unique_repo, "two"))
    assert result["digest_changed"] is True and result["dest_digest"] != index.digest
    images_kept = [m["digest"] for m in pushed["manifests"] if m["platform"]["os"] != "unknown"]
    attested = [m["annotations"]["vnd.docker.reference.digest"] for m in pushed["manifests"]
                if m["platform"]["os"] == "unknown"]
    assert images_kept == [image.digest for image in kept]
    assert sorted(attested) == sorted(image.digest for image in kept)
    again = engine(registries).copy(src, dest, platforms=["linux/amd64", "linux/s390x"])
    assert again["changed"] is False and again["dest_digest"] == result["dest_digest"]


def test_unknown_platform_fails_before_writing(registries, unique_repo):
    images.push_index(registries, "plain", unique_repo, "multi")
    with pytest.raises(NotFoundError, match="linux/riscv64"):
        engine(registries).copy(ref(registries, "plain", unique_repo, "multi"),
                                ref(registries, "plain2", unique_repo, "multi"), platforms=["linux/riscv64"])
    assert dest_digest(registries, "plain2", unique_repo, "multi") is None


def test_single_platform_source_checked_against_its_configuration(registries, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "arm", platform="linux/arm64/v8")
    src = ref(registries, "plain", unique_repo, "arm")
    with pytest.raises(NotFoundError, match="single-platform image for linux/arm64/v8"):
        engine(registries).copy(src, ref(registries, "plain2", unique_repo, "amd"), platforms=["linux/amd64"])
    assert dest_digest(registries, "plain2", unique_repo, "amd") is None
    result = engine(registries).copy(src, ref(registries, "plain2", unique_repo, "arm"), platforms=["linux/arm64"])
    assert result["dest_digest"] == image.digest


def test_tag_pattern_sends_shared_blobs_once(registries, skopeo, unique_repo):
    shared = images.deterministic_bytes("shared-base", 64 * 1024)
    pushed = []
    for number in range(3):
        own = images.deterministic_bytes("own-%d" % number, 1024)
        pushed.append(images.push_oci_image(registries, "plain", unique_repo, "v%d" % number,
                                            layer_contents=[shared, own], seed="tag-%d" % number))
    images.push_oci_image(registries, "plain", unique_repo, "other", seed="not-matched")

    result = engine(registries).copy(ref(registries, "plain", unique_repo), ref(registries, "plain2", unique_repo),
                                     tag_pattern=r"^v\d$")

    unique = {digest for image in pushed for digest in image.blob_digests}
    assert [item["dest"].rsplit(":", 1)[1] for item in result["tags"]] == ["v0", "v1", "v2"]
    assert result["blobs"]["copied"] == len(unique)
    assert result["blobs"]["bytes"] == sum({d: s for image in pushed
                                            for d, s in [(image.config["digest"], image.config["size"])]
                                            + [(layer["digest"], layer["size"]) for layer in image.layers]}.values())
    assert sorted(skopeo.list_tags("plain2", unique_repo)) == ["v0", "v1", "v2"]


def test_tags_need_repository_without_tag(registries, unique_repo):
    with pytest.raises(ValueError, match="without tag"):
        engine(registries).copy(ref(registries, "plain", unique_repo, "x"), ref(registries, "plain2", unique_repo),
                                tags=["a"])


def test_mount_within_one_registry(registries, skopeo, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "1", layers=(4096, 2048))
    result = engine(registries, dest_variant="plain").copy(ref(registries, "plain", unique_repo, "1"),
                                                           ref(registries, "plain", unique_repo + "-mounted", "1"))
    assert result["blobs"]["mounted"] == len(image.blob_digests)
    assert result["blobs"]["copied"] == 0
    assert skopeo.inspect_raw("plain", unique_repo + "-mounted", "1") == image.raw


def test_mount_refused_falls_back_to_copy(registries, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "1")
    same = client(registries, "plain")
    refused = []

    def refusing_mount(repository, digest, from_repository):
        # What mount_blob reports when the registry answers 202 (upload opened) instead of 201.
        refused.append(digest)
        return False

    same.uploads.mount_blob = refusing_mount
    result = CopyEngine(same, same).copy(ref(registries, "plain", unique_repo, "1"),
                                         ref(registries, "plain", unique_repo + "-b", "1"))
    assert sorted(refused) == sorted(image.blob_digests)
    assert result["blobs"]["copied"] == len(image.blob_digests)
    assert dest_digest(registries, "plain", unique_repo + "-b", "1") == image.digest


def test_token_auth_both_sides(registries, skopeo, unique_repo):
    image = images.push_oci_image(registries, "token", unique_repo, "1")
    result = engine(registries, "token", "basic", src_user="puller", dest_user="admin").copy(
        ref(registries, "token", unique_repo, "1"), ref(registries, "basic", unique_repo, "1"))
    assert result["dest_digest"] == image.digest
    back = engine(registries, "basic", "token", src_user="alice", dest_user="admin").copy(
        ref(registries, "basic", unique_repo, "1"), ref(registries, "token", unique_repo + "-back", "1"))
    assert back["dest_digest"] == image.digest


def test_pull_only_destination_is_denied_and_nothing_tagged(registries, unique_repo):
    images.push_oci_image(registries, "plain", unique_repo, "1")
    with pytest.raises((PermissionDeniedError, AuthenticationError)):
        engine(registries, "plain", "token", dest_user="puller").copy(
            ref(registries, "plain", unique_repo, "1"), ref(registries, "token", unique_repo, "1"))
    assert dest_digest(registries, "token", unique_repo, "1", user="admin") is None


def test_overwrite_false_fails_without_writing(registries, unique_repo):
    first = images.push_oci_image(registries, "plain", unique_repo, "a", seed="first")
    images.push_oci_image(registries, "plain", unique_repo, "b", seed="second")
    engine(registries).copy(ref(registries, "plain", unique_repo, "a"), ref(registries, "plain2", unique_repo, "t"))
    dest = client(registries, "plain2", trace=True)

    with pytest.raises(CopyError, match="overwrite is false"):
        CopyEngine(client(registries, "plain"), dest).copy(
            ref(registries, "plain", unique_repo, "b"), ref(registries, "plain2", unique_repo, "t"), overwrite=False)

    assert set(methods_sent(dest)) <= {"HEAD", "GET"}
    assert dest_digest(registries, "plain2", unique_repo, "t") == first.digest


def test_overwrite_false_accepts_same_digest(registries, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "a")
    engine(registries).copy(ref(registries, "plain", unique_repo, "a"), ref(registries, "plain2", unique_repo, "a"))
    result = engine(registries).copy(ref(registries, "plain", unique_repo, "a"),
                                     ref(registries, "plain2", unique_repo, "a"), overwrite=False)
    assert result["changed"] is False and result["dest_digest"] == image.digest


def test_check_mode_predicts_and_writes_nothing(registries, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "1", layers=(3000, 5000))
    dest = client(registries, "plain2", trace=True)

    result = CopyEngine(client(registries, "plain"), dest, check_mode=True).copy(
        ref(registries, "plain", unique_repo, "1"), ref(registries, "plain2", unique_repo, "1"))

    assert result["changed"] is True
    assert result["dest_digest"] == image.digest
    assert result["blobs"]["copied"] == len(image.blob_digests)
    assert result["blobs"]["bytes"] == image.config["size"] + sum(layer["size"] for layer in image.layers)
    assert set(methods_sent(dest)) <= {"HEAD", "GET"}
    assert dest_digest(registries, "plain2", unique_repo, "1") is None


def test_chunked_upload_is_byte_exact(registries, skopeo, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "1", layers=(300 * 1024,))
    result = engine(registries, chunk_size=64 * 1024).copy(ref(registries, "plain", unique_repo, "1"),
                                                           ref(registries, "plain2", unique_repo, "1"))
    assert result["blobs"]["copied"] == len(image.blob_digests)
    assert skopeo.inspect_raw("plain2", unique_repo, "1") == image.raw
    with client(registries, "plain2") as c, c.blobs.get_blob(unique_repo, image.layers[0]["digest"]) as stream:
        assert images.sha256_digest(stream.read_all()) == image.layers[0]["digest"]


def test_referrers_copied_with_fallback_index_merged(registries, skopeo, unique_repo):
    index = images.push_index(registries, "plain", unique_repo, "1")
    signature = images.push_artifact(registries, "plain", unique_repo, index)
    sbom = images.push_artifact(registries, "plain", unique_repo, index, artifact_type="application/spdx+json",
                                payload=b'{"spdx": true}', existing_referrers=[signature])
    # An entry the destination already lists for the same subject must survive the merge.
    existing = images.push_artifact(registries, "plain2", unique_repo, index, artifact_type="application/x-existing",
                                    payload=b"already there")

    result = engine(registries).copy(ref(registries, "plain", unique_repo, "1"),
                                     ref(registries, "plain2", unique_repo, "1"), referrers=True)

    assert sorted(result["referrers"]) == sorted([signature.digest, sbom.digest])
    listed = json.loads(skopeo.inspect_raw("plain2", unique_repo, fallback_tag(index.digest)))
    listed_digests = [entry["digest"] for entry in listed["manifests"]]
    assert sorted(listed_digests) == sorted([existing.digest, signature.digest, sbom.digest])
    assert skopeo.inspect_raw("plain2", unique_repo, sbom.digest) == sbom.raw
    again = engine(registries).copy(ref(registries, "plain", unique_repo, "1"),
                                    ref(registries, "plain2", unique_repo, "1"), referrers=True)
    assert again["changed"] is False and again["referrers"] == []


def test_referrer_already_at_destination_gets_its_fallback_tag_back(registries, skopeo, unique_repo):
    """A signature present (untagged) at the destination while its sha256-<hex> tag is gone is listed again."""
    index = images.push_index(registries, "plain", unique_repo, "1", attestation=False)
    signature = images.push_artifact(registries, "plain", unique_repo, index)
    src, dest = ref(registries, "plain", unique_repo, "1"), ref(registries, "plain2", unique_repo, "1")
    engine(registries).copy(src, dest, referrers=True)
    with client(registries, "plain2") as c:
        c.manifests.delete_manifest(unique_repo, c.manifests.get_digest(unique_repo, fallback_tag(index.digest)))
        assert c.manifests.head_manifest(unique_repo, signature.digest) is not None

    again = engine(registries).copy(src, dest, referrers=True)

    assert again["changed"] is True
    listed = json.loads(skopeo.inspect_raw("plain2", unique_repo, fallback_tag(index.digest)))
    assert [entry["digest"] for entry in listed["manifests"]] == [signature.digest]
    assert listed["manifests"][0]["artifactType"] == signature.artifact_type
    assert engine(registries).copy(src, dest, referrers=True)["changed"] is False


def test_referrers_of_platform_manifest_follow_it(registries, unique_repo):
    index = images.push_index(registries, "plain", unique_repo, "1", attestation=False)
    arm = index.image_for("linux/arm64")
    signature = images.push_artifact(registries, "plain", unique_repo, arm)
    result = engine(registries).copy(ref(registries, "plain", unique_repo, "1"),
                                     ref(registries, "plain2", unique_repo, "arm"),
                                     platforms=["linux/arm64"], referrers=True)
    assert result["referrers"] == [signature.digest]
    with client(registries, "plain2") as c:
        listing = c.referrers.list_referrers(unique_repo, arm.digest)
    assert [d.digest for d in listing.descriptors] == [signature.digest]


# ----------------------------------------------------------------- digest mismatch via proxy


class _Proxy(ThreadingHTTPServer):
    """Relays to a real registry; can flip one byte of every blob body, or answer manifest PUTs with OCI-Subject."""

    daemon_threads = True

    def __init__(self, upstream, corrupt_blobs=False, announce_subject=False):
        self.upstream = upstream.rstrip("/")
        self.corrupt_blobs = corrupt_blobs
        self.announce_subject = announce_subject
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _relay(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = requests.request(self.command, self.server.upstream + self.path, headers=headers, data=body,
                                    allow_redirects=False, timeout=30)
        content = upstream.content
        if self.server.corrupt_blobs and self.command == "GET" and "/blobs/sha256:" in self.path and content:
            content = bytes([content[0] ^ 0xFF]) + content[1:]
        self.send_response(upstream.status_code)
        for key, value in upstream.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(key, value)
        if self.server.announce_subject and self.command == "PUT" and "/manifests/" in self.path and body:
            subject = json.loads(body).get("subject")
            if subject:
                self.send_header("OCI-Subject", subject["digest"])
        self.send_header("Content-Length", str(len(content) if self.command != "HEAD" else
                                               upstream.headers.get("Content-Length", 0)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _relay


def _serve(proxy):
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    return proxy


@pytest.fixture
def corrupting_proxy(registries):
    proxy = _serve(_Proxy(registries["registries"]["plain"]["url"], corrupt_blobs=True))
    yield proxy
    proxy.shutdown()
    proxy.server_close()


@pytest.fixture
def referrers_api_proxy(registries):
    proxy = _serve(_Proxy(registries["registries"]["plain2"]["url"], announce_subject=True))
    yield proxy
    proxy.shutdown()
    proxy.server_close()


def test_destination_with_referrers_api_gets_no_fallback_tag(registries, referrers_api_proxy, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "1")
    signature = images.push_artifact(registries, "plain", unique_repo, image)

    result = CopyEngine(client(registries, "plain"), RegistryClient(referrers_api_proxy.url)).copy(
        ref(registries, "plain", unique_repo, "1"), "%s/%s:1" % (referrers_api_proxy.url, unique_repo),
        referrers=True)

    assert result["referrers"] == [signature.digest]
    assert dest_digest(registries, "plain2", unique_repo, signature.digest) == signature.digest
    # The registry said it indexes the subject itself (OCI-Subject), so no tag schema index is written.
    assert dest_digest(registries, "plain2", unique_repo, fallback_tag(image.digest)) is None


def test_altered_blob_fails_and_nothing_is_tagged(registries, corrupting_proxy, unique_repo):
    image = images.push_oci_image(registries, "plain", unique_repo, "1", layers=(MIB + 17,))
    copier = CopyEngine(RegistryClient(corrupting_proxy.url, retries=0), client(registries, "plain2"))

    with pytest.raises(DigestMismatchError):
        copier.copy("%s/%s:1" % (corrupting_proxy.url, unique_repo), ref(registries, "plain2", unique_repo, "1"))

    assert dest_digest(registries, "plain2", unique_repo, "1") is None
    with client(registries, "plain2") as c:
        assert c.blobs.blob_exists(unique_repo, image.layers[0]["digest"]) is None


@pytest.mark.parametrize("referrers", [False, True], ids=["plain", "with-referrers"])
def test_check_mode_manifest_count_is_exact_when_tags_share_a_digest(registries, unique_repo, referrers):
    # Three tags on one index, two on one image, one alone: the real run PUTs every tag
    # (and the index children once), so check mode must count the same writes.
    index = images.push_index(registries, "plain", unique_repo, "i1")
    images.tag_manifest(registries, "plain", unique_repo, index, ["i2", "i3"])
    image = images.push_oci_image(registries, "plain", unique_repo, "s1", seed="shared")
    images.tag_manifest(registries, "plain", unique_repo, image, ["s2"])
    images.push_oci_image(registries, "plain", unique_repo, "alone", seed="alone")
    if referrers:
        images.push_artifact(registries, "plain", unique_repo, image)
    tags = ["i1", "i2", "i3", "s1", "s2", "alone"]
    src, dest = ref(registries, "plain", unique_repo), ref(registries, "plain2", unique_repo)

    predicted = engine(registries, check_mode=True).copy(src, dest, tags=tags, referrers=referrers)
    real = engine(registries).copy(src, dest, tags=tags, referrers=referrers)

    assert real["manifests"] == predicted["manifests"]
    assert predicted["blobs"] == real["blobs"]
    assert engine(registries, check_mode=True).copy(src, dest, tags=tags, referrers=referrers)["manifests"] == 0
