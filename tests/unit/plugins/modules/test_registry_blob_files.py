# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_blob's local files against the real plain registry: relative paths, local write errors."""

from __future__ import annotations

import errno
import hashlib
import os
import resource
import signal

import pytest

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import RegistryError
from ansible_collections.oci.registry.plugins.modules import registry_blob
from ansible_collections.oci.registry.tests.registries.images import deterministic_bytes
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run


@pytest.fixture
def blob(registries, unique_repo):
    data = deterministic_bytes(unique_repo, 200 * 1024)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with RegistryClient(registries["registries"]["plain"]["url"]) as client:
        client.uploads.monolithic_upload(unique_repo, digest, data)
    return registries["registries"]["plain"]["url"], unique_repo, digest, data


def test_bare_relative_dest_downloads_and_rerun_is_ok(blob, tmp_path, monkeypatch, capsys):
    url, repository, digest, data = blob
    monkeypatch.chdir(tmp_path)

    first = run(registry_blob, capsys, registry_url=url, repository=repository, digest=digest, dest="out.bin")

    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True
    assert (tmp_path / "out.bin").read_bytes() == data
    before = os.stat(tmp_path / "out.bin")
    again = run(registry_blob, capsys, registry_url=url, repository=repository, digest=digest, dest="out.bin")
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False
    after = os.stat(tmp_path / "out.bin")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]


def test_relative_dest_in_subdirectory(blob, tmp_path, monkeypatch, capsys):
    url, repository, digest, data = blob
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    result = run(registry_blob, capsys, registry_url=url, repository=repository, digest=digest, dest="sub/out.bin")
    assert not result.get("failed"), result.get("msg")
    assert (tmp_path / "sub" / "out.bin").read_bytes() == data


class FullAfter(object):
    """A file object whose disk fills once after ``limit`` bytes: the condition no server can produce."""

    def __init__(self, limit):
        self.limit = limit
        self.data = bytearray()
        self.failed = 0

    def write(self, chunk):
        if not self.failed and len(self.data) + len(chunk) > self.limit:
            self.failed += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.data += chunk
        return len(chunk)


def test_download_write_error_is_raised_at_once_not_retried_as_network_fault(blob):
    url, repository, digest, data = blob
    out = FullAfter(64 * 1024)
    with RegistryClient(url, trace=True, retries=3) as client:
        with pytest.raises(OSError) as caught:
            client.blobs.download_blob(repository, digest, out)
        gets = [r for r in client.trace_records if r["method"] == "GET" and "/blobs/" in r["path"]]
    assert caught.value.errno == errno.ENOSPC
    assert not isinstance(caught.value, RegistryError)
    assert len(gets) == 1  # no retry, no Range resume


def test_download_hash_covers_exactly_the_bytes_written(blob):
    # The caller retries after freeing space: the second download must verify, not mismatch.
    url, repository, digest, data = blob
    out = FullAfter(64 * 1024)
    with RegistryClient(url) as client:
        with pytest.raises(OSError):
            client.blobs.download_blob(repository, digest, out)
        out.data = bytearray()
        assert client.blobs.download_blob(repository, digest, out) == len(data)
    assert bytes(out.data) == data


@pytest.fixture
def file_size_limit():
    """A real local write error: writes past RLIMIT_FSIZE fail with EFBIG (SIGXFSZ ignored)."""
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    previous = resource.getrlimit(resource.RLIMIT_FSIZE)

    def limit(size):
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, previous[1]))
    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous)
        signal.signal(signal.SIGXFSZ, previous_handler)


def test_registry_blob_write_error_fails_with_its_own_message(blob, tmp_path, capsys, file_size_limit):
    url, repository, digest, data = blob
    dest = tmp_path / "layer.bin"
    file_size_limit(150 * 1024)
    result = run(registry_blob, capsys, registry_url=url, repository=repository, digest=digest, dest=str(dest),
                 verbosity=3)
    file_size_limit(resource.RLIM_INFINITY)
    assert result["failed"] is True
    assert "cannot write the blob to %s" % dest in result["msg"], result["msg"]
    assert "connection broke" not in result["msg"] and "registry_url" not in result["msg"]
    assert "\n" not in result["msg"]
    gets = [r for r in result.get("trace", []) if r["method"] == "GET" and "/blobs/" in r["path"]]
    assert len(gets) == 1
    assert os.listdir(tmp_path) == []
