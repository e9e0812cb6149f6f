# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One BlobWriter for registry_blob and the copy engine: the same strategy and the same retry rule,
shown through the fault proxy where the two used to disagree."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.oci.registry.plugins.module_utils._blob_writer import BlobWriter, validate_chunk_size
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._copy import CopyEngine
from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidReferenceError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils._options import MAX_CHUNK_SIZE
from ansible_collections.oci.registry.plugins.modules import registry_blob, registry_copy
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.images import deterministic_bytes
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

SIZE = 300 * 1024
CHUNK = 64 * 1024
UPLOADS = r"/blobs/uploads/"
BLOB_GET = r"/blobs/sha256:"


def client_for(url, retries=3):
    return RegistryClient(url, retries=retries, timeout=2, sleep=lambda seconds: None)


def count(proxy, method, pattern):
    return sum(1 for m, path, _action in proxy.requests if m == method and pattern in path)


def test_refused_mount_falls_back_to_a_chunked_copy_when_chunk_size_is_set(
        faults, registries, unique_repo, capsys):
    faults.expect("survive")
    data = deterministic_bytes(unique_repo, SIZE)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with RegistryClient(registries["registries"]["plain"]["url"]) as direct:
        direct.uploads.monolithic_upload(unique_repo + "-src", digest, data)
    proxy = faults.proxy()
    # A registry that refuses the mount answers 202 with a fresh upload session.
    proxy.add("respond", method="POST", path=r"mount=", status=202,
              headers={"Location": "/v2/%s/blobs/uploads/refused-mount" % unique_repo})

    result = run(registry_blob, capsys, registry_url=proxy.url, repository=unique_repo, digest=digest,
                 mount_from=unique_repo + "-src", chunk_size=CHUNK)

    assert not result.get("failed"), result.get("msg")
    assert result["method"] == "copied"
    assert count(proxy, "PATCH", "/blobs/uploads/") == SIZE // CHUNK + (1 if SIZE % CHUNK else 0)
    with RegistryClient(registries["registries"]["plain"]["url"]) as direct:
        with direct.blobs.get_blob(unique_repo, digest) as stream:
            assert stream.read_all() == data


@pytest.fixture(scope="module")
def source(registries):
    return images.push_oci_image(registries, "plain", "test/blob-writer-src-%s" % id(registries), "v1",
                                 layers=(96 * 1024,), seed="blob-writer")


def engine_copy(src_url, dest_url, source, repo, retries=3, chunk_size=None):
    with client_for(src_url, retries) as src, client_for(dest_url, retries) as dest:
        engine = CopyEngine(src, dest, concurrency=1, chunk_size=chunk_size)
        return engine.copy("%s/%s:v1" % (src_url, source.repository), "%s/%s:v1" % (dest_url, repo))


def test_copy_engine_resumes_a_chunk_after_429_like_every_upload(faults, registries, source, unique_repo):
    # The engine used to treat a 429 on a PATCH as fatal for the chunk and re-copy the whole blob.
    faults.expect("survive")
    src_proxy, dest_proxy = faults.proxy("plain"), faults.proxy("plain2")
    dest_proxy.add("respond", method="PATCH", path=UPLOADS, status=429, headers={"Retry-After": "0"}, times=1)
    result = engine_copy(src_proxy.url, dest_proxy.url, source, unique_repo, chunk_size=16 * 1024)
    assert result["dest_digest"] == source.digest
    assert dest_proxy.injected == 1
    assert count(src_proxy, "GET", "/blobs/sha256:") == len(source.blob_digests)  # no blob fetched twice


def test_copy_engine_honours_retries_zero(faults, registries, source, unique_repo):
    # The engine retried a blob three times whatever the client's retries said.
    faults.expect("fail_clean")
    src_proxy, dest_proxy = faults.proxy("plain"), faults.proxy("plain2")
    src_proxy.add("respond", method="GET", path=BLOB_GET, status=503, times=1)
    with pytest.raises(RegistryError) as caught:
        engine_copy(src_proxy.url, dest_proxy.url, source, unique_repo, retries=0)
    assert caught.value.status == 503
    assert count(src_proxy, "GET", "/blobs/sha256:") == 1


@pytest.mark.parametrize("value", [0, -1, MAX_CHUNK_SIZE + 1])
def test_chunk_size_out_of_range_is_refused_the_same_everywhere(value, capsys):
    with pytest.raises(InvalidReferenceError) as caught:
        validate_chunk_size(value)
    message = str(caught.value)
    with pytest.raises(InvalidReferenceError):
        BlobWriter(client_for("http://127.0.0.1:9"), value)
    blob = run(registry_blob, capsys, registry_url="http://127.0.0.1:9", repository="a/b",
               digest="sha256:" + "0" * 64, chunk_size=value)
    copy = run(registry_copy, capsys, src="http://127.0.0.1:9/a/b:1", dest="http://127.0.0.1:9/a/c:1",
               chunk_size=value)
    for result in (blob, copy):
        assert result["failed"] is True
        assert caught.value.message in result["msg"], (result["msg"], message)
