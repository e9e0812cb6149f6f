# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Blob and manifest downloads through the fault proxy: transient faults within ``retries`` are
survived, persistent ones fail with one clear line, and registry_blob never leaves a partial
``dest`` (nor a temporary file) behind."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from ansible_collections.oci.registry.plugins.module_utils import _transport as transport_module
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    DigestMismatchError,
    RegistryError,
    TransportError,
)
from ansible_collections.oci.registry.plugins.modules import registry_blob
from ansible_collections.oci.registry.tests.registries.images import deterministic_bytes
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run
from ansible_collections.oci.registry.tests.unit.reliability.reliability_helpers import assert_one_line

BLOB_SIZE = 300 * 1024
BLOB_PATH = r"/blobs/sha256:"


class Sleeps(object):
    """Records the transport's waits instead of waiting (no test sleeps for backoff)."""

    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


def client_for(url, retries=3, timeout=2, sleeps=None):
    return RegistryClient(url, retries=retries, timeout=timeout, trace=True, sleep=sleeps or Sleeps())


@pytest.fixture
def blob(registries, unique_repo):
    """A 300 KiB blob in unique_repo on the plain registry: (repository, digest, data)."""
    data = deterministic_bytes(unique_repo, BLOB_SIZE)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with RegistryClient(registries["registries"]["plain"]["url"]) as client:
        client.uploads.monolithic_upload(unique_repo, digest, data)
    return unique_repo, digest, data


TRANSIENT = [
    pytest.param(dict(action="respond", status=503, times=2), id="503x2"),
    pytest.param(dict(action="respond", status=502, times=1), id="502x1"),
    pytest.param(dict(action="respond", status=429, headers={"Retry-After": "1"}, times=1), id="429-retry-after"),
    pytest.param(dict(action="drop", times=1), id="reset-before-answer"),
    pytest.param(dict(action="stall", seconds=2.0, times=1), id="stall-2s-timeout-1s"),
]

MID_BODY = [
    pytest.param(dict(action="reset_response", after_bytes=64 * 1024, times=1), id="reset-mid-body"),
    pytest.param(dict(action="truncate", after_bytes=100 * 1024, times=1), id="truncated-body"),
]


@pytest.mark.parametrize("fault", TRANSIENT)
def test_get_blob_survives_transient_fault(faults, blob, fault):
    faults.expect("survive")
    repository, digest, data = blob
    proxy = faults.proxy()
    fault = dict(fault)
    proxy.add(fault.pop("action"), method="GET", path=BLOB_PATH, **fault)
    sleeps = Sleeps()
    with client_for(proxy.url, timeout=1, sleeps=sleeps) as client:
        with client.blobs.get_blob(repository, digest) as stream:
            assert stream.read_all() == data
    assert proxy.injected >= 1
    if "headers" in fault:
        assert 1.0 in sleeps.calls  # Retry-After honoured, not the backoff


@pytest.mark.parametrize("fault", MID_BODY)
def test_get_blob_stream_breaks_cleanly_mid_body(faults, blob, fault):
    """A stream cannot be replayed by the client: the caller gets one clear TransportError."""
    faults.expect("fail_clean")
    repository, digest, _data = blob
    proxy = faults.proxy()
    fault = dict(fault)
    proxy.add(fault.pop("action"), method="GET", path=BLOB_PATH, **fault)
    with client_for(proxy.url) as client:
        with pytest.raises(TransportError) as caught:
            with client.blobs.get_blob(repository, digest) as stream:
                for _chunk in stream.iter_chunks(16 * 1024):
                    pass
    text = assert_one_line(caught.value)
    assert digest in text and "connection broke" in text


@pytest.mark.parametrize("fault", MID_BODY)
def test_download_blob_survives_mid_body_fault(faults, blob, fault):
    faults.expect("survive")
    repository, digest, data = blob
    proxy = faults.proxy()
    fault = dict(fault)
    proxy.add(fault.pop("action"), method="GET", path=BLOB_PATH, **fault)
    out = io.BytesIO()
    with client_for(proxy.url) as client:
        client.blobs.download_blob(repository, digest, out)
    assert out.getvalue() == data


PERSISTENT = [
    pytest.param(dict(action="respond", status=503, times=None), "503", id="503-always"),
    pytest.param(dict(action="respond", status=429, headers={"Retry-After": "1"}, times=None), "429", id="429-always"),
    pytest.param(dict(action="respond", status=429, headers={"Retry-After": "86400"}, times=1), "429",
                 id="429-retry-after-too-long"),
    pytest.param(dict(action="respond", status=500, times=1), "500", id="500-not-retried"),
    pytest.param(dict(action="drop", times=None), "cannot reach", id="reset-always"),
    pytest.param(dict(action="stall", seconds=2.0, times=None), "cannot reach", id="stall-always"),
    pytest.param(dict(action="corrupt", times=None), "hashes to", id="corrupt-byte"),
]


@pytest.mark.parametrize("fault, expected", PERSISTENT)
def test_get_blob_persistent_fault_fails_after_budget(faults, blob, fault, expected):
    faults.expect("fail_clean")
    repository, digest, _data = blob
    proxy = faults.proxy()
    fault = dict(fault)
    times = fault.get("times", 1)
    proxy.add(fault.pop("action"), method="GET", path=BLOB_PATH, **fault)
    retries = 2
    with client_for(proxy.url, retries=retries, timeout=1) as client:
        with pytest.raises(RegistryError) as caught:
            with client.blobs.get_blob(repository, digest) as stream:
                stream.read_all()
    text = assert_one_line(caught.value)
    assert expected in text, text
    gets = proxy.count("GET", BLOB_PATH)
    if times is None and expected in ("503", "429", "cannot reach"):
        assert gets == retries + 1  # the whole budget, not one more
    elif expected in ("500", "hashes to") or fault.get("headers", {}).get("Retry-After") == "86400":
        assert gets == 1  # not retryable, or not worth waiting for
    if expected == "hashes to":
        assert isinstance(caught.value, DigestMismatchError)


def test_get_manifest_survives_transient_faults(faults, blob, registries):
    """Manifest GETs: a reset, a 503 and a stall in a row, then the right bytes."""
    faults.expect("survive")
    repository, digest, data = blob
    with RegistryClient(registries["registries"]["plain"]["url"]) as direct:
        raw = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":' \
              b'{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[]}' % (
                  digest.encode(), len(data))
        direct.manifests.put_manifest(repository, "v1", raw, "application/vnd.oci.image.manifest.v1+json")
    proxy = faults.proxy()
    proxy.add("drop", method="GET", path=r"/manifests/v1", times=1)
    proxy.add("respond", method="GET", path=r"/manifests/v1", status=503, times=1)
    proxy.add("stall", method="GET", path=r"/manifests/v1", seconds=2.0, times=1)
    with client_for(proxy.url, retries=3, timeout=1) as client:
        result = client.manifests.get_manifest(repository, "v1")
    assert result.raw == raw
    assert proxy.injected == 3


# --------------------------------------------------------------------------- registry_blob dest

@pytest.fixture
def fast_backoff(monkeypatch):
    """Modules build their own client: keep its retry waits short (the waits are not under test)."""
    monkeypatch.setattr(transport_module.Transport, "backoff", lambda self, attempt: 0.01)


def _leftovers(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(".part"))


@pytest.mark.parametrize("fault", TRANSIENT[:2] + MID_BODY)
def test_registry_blob_dest_survives_transient_fault(faults, blob, fault, tmp_path, capsys, fast_backoff):
    faults.expect("survive")
    repository, digest, data = blob
    proxy = faults.proxy()
    fault = dict(fault)
    proxy.add(fault.pop("action"), method="GET", path=BLOB_PATH, **fault)
    dest = tmp_path / "layer.bin"
    result = run(registry_blob, capsys, registry_url=proxy.url, repository=repository, digest=digest,
                 dest=str(dest), timeout=2)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert dest.read_bytes() == data
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("fault, expected", [
    pytest.param(dict(action="corrupt", times=None), "hashes to", id="corrupt-byte"),
    pytest.param(dict(action="respond", status=503, times=None), "503", id="503-always"),
    pytest.param(dict(action="reset_response", after_bytes=64 * 1024, times=None), "connection broke",
                 id="reset-mid-body-always"),
    pytest.param(dict(action="truncate", after_bytes=100 * 1024, times=None), "connection broke",
                 id="truncated-always"),
])
@pytest.mark.parametrize("existing", [False, True], ids=["new-file", "existing-file"])
def test_registry_blob_dest_never_half_written(faults, blob, fault, expected, existing, tmp_path, capsys,
                                               fast_backoff):
    faults.expect("fail_clean")
    repository, digest, _data = blob
    proxy = faults.proxy()
    fault = dict(fault)
    proxy.add(fault.pop("action"), method="GET", path=BLOB_PATH, **fault)
    dest = tmp_path / "layer.bin"
    if existing:
        dest.write_bytes(b"previous content")
    result = run(registry_blob, capsys, registry_url=proxy.url, repository=repository, digest=digest,
                 dest=str(dest), retries=1, timeout=2)
    assert result["failed"] is True
    assert_one_line(result["msg"])
    assert expected in result["msg"], result["msg"]
    if existing:
        assert dest.read_bytes() == b"previous content"
    else:
        assert not dest.exists()
    assert _leftovers(tmp_path) == []
