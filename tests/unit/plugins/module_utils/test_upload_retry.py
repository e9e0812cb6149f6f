"""One wait rule for every retry: an upload step never retries sooner than the registry's Retry-After asks.

The transport does not wait for a Retry-After longer than ``max_retry_after`` and raises the 429
(RateLimitError). Upload steps retried by the uploads group and the blob writer follow the same
rule (``Transport.retry_wait``): before, they retried such a 429 after their own backoff. Real
registry behind the fault proxy; sleeps are recorded, not slept.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import RateLimitError
from ansible_collections.oci.registry.plugins.module_utils._media import sha256_digest
from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy

UPLOADS = r"/blobs/uploads/"
TOO_LONG = {"Retry-After": "86400"}


@pytest.fixture
def proxy(registries):
    with FaultProxy(registries["registries"]["plain"]["url"]) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def repository(unique_repo):
    return unique_repo.replace("test/", "hcs/")


def _client(url, sleeps):
    return RegistryClient(url, retries=3, sleep=sleeps.append)


def test_monolithic_put_answered_429_with_a_long_retry_after_is_not_retried(proxy, repository):
    data = os.urandom(2048)
    sleeps = []
    proxy.add("respond", method="PUT", path=UPLOADS, status=429, headers=TOO_LONG, times=1)
    with _client(proxy.url, sleeps) as client:
        with pytest.raises(RateLimitError):
            client.uploads.upload_blob(repository, data)
        assert client.blobs.blob_exists(repository, sha256_digest(data)) is None
    assert proxy.count("PUT", UPLOADS) == 1 and sleeps == []


def test_chunk_answered_429_with_a_long_retry_after_is_not_retried(proxy, repository):
    data = os.urandom(3000)
    sleeps = []
    proxy.add("respond", method="PATCH", path=UPLOADS, status=429, headers=TOO_LONG, times=1)
    with _client(proxy.url, sleeps) as client:
        with pytest.raises(RateLimitError):
            client.uploads.upload_blob(repository, data, chunk_size=1024)
    assert proxy.count("PATCH", UPLOADS) == 1 and sleeps == []


def test_short_retry_after_is_waited_for_and_the_upload_completes(proxy, repository):
    data = os.urandom(3000)
    sleeps = []
    proxy.add("respond", method="PATCH", path=UPLOADS, status=429, headers={"Retry-After": "2"}, times=1)
    with _client(proxy.url, sleeps) as client:
        result = client.uploads.upload_blob(repository, data, chunk_size=1024)
        assert client.blobs.blob_exists(repository, result.digest) == len(data)
    assert result.digest == sha256_digest(data)
    assert sleeps == [2.0]  # the registry's wait, not the backoff
