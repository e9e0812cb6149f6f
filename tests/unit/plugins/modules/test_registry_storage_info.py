# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_storage_info on a private registry's storage: documented result types, check mode, failures."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.oci.registry.plugins.modules import registry_storage_info
from ansible_collections.oci.registry.tests.registries import images, standalone
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run
from ansible_collections.oci.registry.tests.unit.plugins.modules.test_return_samples import check_result, check_samples


@pytest.fixture
def storage(tmp_path):
    directory = str(tmp_path / "registry")
    info = standalone.init(directory)
    assert standalone.start(directory) == 0
    os.makedirs(tmp_path / "auth")
    (tmp_path / "auth" / "anonymous.json").write_text(json.dumps({"auths": {}}))
    env = {"state_dir": str(tmp_path), "ca_path": "", "cert_dir": "",
           "registries": {"plain_gc": {"url": info["url"], "host": info["host"]}}}
    try:
        index = images.push_index(env, "plain_gc", "team/multi", "m", seed="storage-info", user=None, attestation=False)
        yield info["data"], index
    finally:
        standalone.stop(directory)


def test_samples_have_the_documented_types():
    problems = []
    check_samples("RETURN", __import__("yaml").safe_load(registry_storage_info.RETURN), problems)
    assert problems == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_result_of_a_storage_with_an_index(storage, capsys, check_mode):
    root, index = storage
    result = check_result(registry_storage_info, run(registry_storage_info, capsys, check_mode=check_mode, path=root))
    assert result["changed"] is False
    assert result["check_mode"] is check_mode
    assert result["repositories"] == 1 and result["manifests"] == 3  # the index and its two images
    assert result["delete_untagged_blockers"] == [{"repository": "team/multi", "digest": index.digest, "reason": "index"}]
    assert result["bytes"] == sum(os.lstat(os.path.join(d, n)).st_size for d, _s, names in os.walk(root) for n in names)


def test_a_missing_root_fails_with_one_line(tmp_path, capsys):
    result = run(registry_storage_info, capsys, path=str(tmp_path / "nope"))
    assert result["failed"] is True
    assert result["msg"] == "the registry storage root %s is not a directory; set the storage root of the registry configuration" % (
        tmp_path / "nope")
