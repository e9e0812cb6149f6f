# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_blob's local files against the real plain registry: relative paths, local write errors."""

from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.oci.registry.plugins.module_utils.client import RegistryClient
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
