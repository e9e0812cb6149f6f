# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Blob uploads (monolithic and chunked) through the fault proxy.

Transient faults within ``retries`` are survived and the registry holds the right bytes;
a persistent fault fails with one clear line, the blob is absent and no upload session is
left in the registry's storage (``_uploads`` of the repository is empty: the client
cancelled it)."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.oci.registry.plugins.module_utils import _transport as transport_module
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import RegistryError
from ansible_collections.oci.registry.plugins.modules import registry_blob
from ansible_collections.oci.registry.tests.registries.images import deterministic_bytes
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run
from ansible_collections.oci.registry.tests.unit.reliability.reliability_helpers import (
    assert_one_line,
    blob_status,
    leftover_uploads,
)

SIZE = 300 * 1024
CHUNK = 64 * 1024
UPLOADS = r"/blobs/uploads/"
SESSION = r"/blobs/uploads/[0-9a-f-]{36}"


# distribution 2.8 signs the upload offset into the Location's _state. Once part of a broken
# body has landed, the client's last _state no longer matches: DELETE (cancel) answers 404
# and the session stays on disk until upload purging (on by default, every 24 h for
# sessions older than a week; off in the test registries).
STALE_STATE = ("after a request body broken mid-way, distribution 2.8 refuses the session's previous _state "
               "(DELETE answers 404), so cancel_upload cannot remove it: the session is left to the registry's "
               "upload purging")


def payload(repo):
    data = deterministic_bytes(repo, SIZE)
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def client_for(url, retries=3, timeout=2):
    return RegistryClient(url, retries=retries, timeout=timeout, sleep=lambda seconds: None)


def stored(registries, repository, digest):
    with RegistryClient(registries["registries"]["plain"]["url"]) as direct:
        with direct.blobs.get_blob(repository, digest) as stream:
            return stream.read_all()


MONOLITHIC_TRANSIENT = [
    pytest.param("POST", dict(action="respond", status=503, times=2), id="POST-503x2"),
    pytest.param("PUT", dict(action="respond", status=503, times=2), id="PUT-503x2"),
    pytest.param("PUT", dict(action="respond", status=429, headers={"Retry-After": "0"}, times=1), id="PUT-429"),
    pytest.param("PUT", dict(action="drop", times=1), id="PUT-reset-before-body"),
    # The registry commits the blob, the answer is lost: the client finds the blob there.
    pytest.param("PUT", dict(action="stall", seconds=2.0, times=1), id="PUT-stall"),
    pytest.param("HEAD", dict(action="respond", status=502, times=1), id="HEAD-502"),
]


@pytest.mark.parametrize("method, fault", MONOLITHIC_TRANSIENT)
def test_monolithic_upload_survives_transient_fault(faults, registries, unique_repo, method, fault):
    faults.expect("survive")
    data, digest = payload(unique_repo)
    proxy = faults.proxy()
    fault = dict(fault)
    proxy.add(fault.pop("action"), method=method, path=r"/blobs/", **fault)
    with client_for(proxy.url, timeout=1) as client:
        result = client.uploads.upload_blob(unique_repo, data)
    assert result.digest == digest and not result.existed
    assert proxy.injected >= 1
    assert stored(registries, unique_repo, digest) == data
    assert leftover_uploads(registries, "plain", unique_repo) == []


def test_monolithic_upload_survives_reset_mid_body(faults, registries, unique_repo):
    faults.expect("survive")
    data, digest = payload(unique_repo)
    proxy = faults.proxy()
    proxy.add("reset_request", method="PUT", path=SESSION, after_bytes=64 * 1024, times=1)
    with client_for(proxy.url) as client:
        result = client.uploads.upload_blob(unique_repo, data)
    assert result.digest == digest
    assert stored(registries, unique_repo, digest) == data


CHUNKED_TRANSIENT = [
    pytest.param("PATCH", dict(action="reset_request", after_bytes=10 * 1024, times=1), id="PATCH-reset-mid-body",
                 marks=pytest.mark.xfail(strict=True, reason=STALE_STATE)),
    pytest.param("PATCH", dict(action="drop", times=1), id="PATCH-reset-before-answer"),
    pytest.param("PATCH", dict(action="stall", seconds=2.0, times=1), id="PATCH-stall",
                 marks=pytest.mark.xfail(strict=True, reason=STALE_STATE)),
    pytest.param("PUT", dict(action="respond", status=503, times=2), id="final-PUT-503x2"),
    pytest.param("POST", dict(action="respond", status=502, times=1), id="POST-502"),
]


@pytest.mark.parametrize("method, fault", CHUNKED_TRANSIENT)
def test_chunked_upload_survives_transient_fault(faults, registries, unique_repo, method, fault):
    faults.expect("survive")
    data, digest = payload(unique_repo)
    proxy = faults.proxy()
    fault = dict(fault)
    proxy.add(fault.pop("action"), method=method, path=UPLOADS, **fault)
    with client_for(proxy.url, timeout=1) as client:
        result = client.uploads.upload_blob(unique_repo, data, chunk_size=CHUNK)
    assert result.digest == digest and result.size == SIZE
    assert proxy.injected >= 1
    assert stored(registries, unique_repo, digest) == data
    assert leftover_uploads(registries, "plain", unique_repo) == []


def test_chunked_upload_survives_503_on_a_chunk(faults, registries, unique_repo):
    faults.expect("survive")
    data, digest = payload(unique_repo)
    proxy = faults.proxy()
    proxy.add("respond", method="PATCH", path=UPLOADS, status=503, times=1)
    with client_for(proxy.url) as client:
        result = client.uploads.upload_blob(unique_repo, data, chunk_size=CHUNK)
    assert result.digest == digest
    assert stored(registries, unique_repo, digest) == data


PERSISTENT = [
    pytest.param(None, "PUT", dict(action="respond", status=503, times=None), "503", id="monolithic-PUT-503"),
    pytest.param(None, "PUT", dict(action="respond", status=500, times=None), "500", id="monolithic-PUT-500"),
    pytest.param(None, "PUT", dict(action="reset_request", after_bytes=1024, times=None), "cannot reach",
                 id="monolithic-PUT-reset"),
    pytest.param(CHUNK, "PATCH", dict(action="reset_request", after_bytes=1024, times=None), "cannot reach",
                 id="chunked-PATCH-reset"),
    pytest.param(CHUNK, "PATCH", dict(action="respond", status=500, times=None), "500", id="chunked-PATCH-500"),
    pytest.param(CHUNK, "PUT", dict(action="respond", status=503, times=None), "503", id="chunked-final-PUT-503"),
]


def _persistent(faults, registries, unique_repo, chunk_size, method, fault, expected):
    faults.expect("fail_clean")
    data, digest = payload(unique_repo)
    proxy = faults.proxy()
    fault = dict(fault)
    proxy.add(fault.pop("action"), method=method, path=UPLOADS, **fault)
    with client_for(proxy.url, retries=2) as client:
        with pytest.raises(RegistryError) as caught:
            client.uploads.upload_blob(unique_repo, data, chunk_size=chunk_size)
    text = assert_one_line(caught.value)
    assert expected in text, text
    assert blob_status(registries, "plain", unique_repo, digest) == 404
    return leftover_uploads(registries, "plain", unique_repo)


@pytest.mark.parametrize("chunk_size, method, fault, expected", PERSISTENT)
def test_upload_persistent_fault_fails_cleanly(faults, registries, unique_repo, chunk_size, method, fault, expected):
    """The error is one clear line and the blob is absent (the upload session is checked separately)."""
    _persistent(faults, registries, unique_repo, chunk_size, method, fault, expected)


@pytest.mark.parametrize("chunk_size, method, fault, expected", [
    param if "reset" not in param.id
    else pytest.param(*param.values, id=param.id, marks=pytest.mark.xfail(strict=True, reason=STALE_STATE))
    for param in PERSISTENT
])
def test_upload_persistent_fault_leaves_no_session(faults, registries, unique_repo, chunk_size, method, fault,
                                                   expected):
    assert _persistent(faults, registries, unique_repo, chunk_size, method, fault, expected) == []


# --------------------------------------------------------------------------- registry_blob src

@pytest.fixture
def fast_backoff(monkeypatch):
    monkeypatch.setattr(transport_module.Transport, "backoff", lambda self, attempt: 0.01)


@pytest.mark.parametrize("chunk_size", [None, CHUNK], ids=["monolithic", "chunked"])
def test_registry_blob_src_survives_transient_faults(faults, registries, unique_repo, tmp_path, capsys, fast_backoff,
                                                     chunk_size):
    faults.expect("survive")
    data, digest = payload(unique_repo)
    src = tmp_path / "layer.bin"
    src.write_bytes(data)
    proxy = faults.proxy()
    proxy.add("respond", method="POST", path=UPLOADS, status=503, times=1)
    proxy.add("drop", method="PATCH" if chunk_size else "PUT", path=UPLOADS, times=1)
    proxy.add("respond", method="PUT", path=UPLOADS, status=502, times=1)
    result = run(registry_blob, capsys, registry_url=proxy.url, repository=unique_repo, src=str(src),
                 chunk_size=chunk_size)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True and result["digest"] == digest
    assert proxy.injected == 3
    assert stored(registries, unique_repo, digest) == data
