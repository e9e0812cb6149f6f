# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_registry_gc against a private distribution registry (tests/registries/standalone.py) and its real
`garbage-collect` output; the role's molecule scenario covers the read-only window and restores."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import yaml

from ansible_collections.oci.registry.plugins.module_utils import _registry_gc as gc
from ansible_collections.oci.registry.tests.registries import images, standalone
from ansible_collections.oci.registry.tests.registries.rawpush import RawRegistry

VARIANT = "plain_gc"  # "plain*" makes the harness's skopeo flags plain HTTP


@pytest.fixture
def registry(tmp_path):
    info = standalone.init(str(tmp_path / "registry"))
    assert standalone.start(info["config"].rsplit("/", 1)[0]) == 0
    os.makedirs(tmp_path / "auth")
    (tmp_path / "auth" / "anonymous.json").write_text(json.dumps({"auths": {}}))
    env = {"state_dir": str(tmp_path), "ca_path": "", "cert_dir": "",
           "registries": {VARIANT: {"url": info["url"], "host": info["host"]}}}
    try:
        yield info, env
    finally:
        standalone.stop(info["config"].rsplit("/", 1)[0])


def collect(config, *flags):
    run = subprocess.run(["docker-registry", "garbage-collect"] + list(flags) + [config], capture_output=True, text=True,
                         check=False)
    return {"rc": run.returncode, "stdout": run.stdout, "stderr": run.stderr}


def delete_manifest(env, repository, digest):
    with RawRegistry(env, VARIANT, None) as raw:
        raw.request("DELETE", "/v2/%s/manifests/%s" % (repository, digest), [])


def test_config_facts_of_the_test_config(registry):
    info, _env = registry
    with open(info["config"], encoding="utf-8") as handle:
        facts = gc.config_facts(handle.read())
    assert facts == {"storage_root": info["data"], "readonly": False, "delete_enabled": True,
                     "listen": {"host": "127.0.0.1", "port": info["port"], "tls": False}}


@pytest.mark.parametrize("text, message", [
    ("storage: {s3: {bucket: b}}\n", "filesystem storage driver only (found: s3)"),
    ("storage: [\n", "not valid YAML"),
    ("- a\n", "not a YAML mapping"),
    ("storage: {filesystem: {}}\nhttp: {addr: nope}\n", "has no port"),
])
def test_config_facts_refuses_what_the_role_cannot_handle(text, message):
    with pytest.raises(gc.RegistryGcError, match=re.escape(message)):
        gc.config_facts(text)


def test_config_defaults_and_wildcard_address():
    facts = gc.config_facts("storage: {filesystem: {}, maintenance: {readonly: {enabled: 'true'}}}\nhttp: {addr: ':5000'}\n")
    assert facts["storage_root"] == "/var/lib/registry"
    assert facts["readonly"] is True
    assert facts["listen"] == {"host": "127.0.0.1", "port": 5000, "tls": False}
    assert gc.config_facts("storage: {filesystem: {}}\nhttp: {net: unix, addr: /run/r.sock}\n")["listen"] is None


def test_readonly_config_sets_only_the_switch(registry):
    info, _env = registry
    with open(info["config"], encoding="utf-8") as handle:
        original = handle.read()
    switched = gc.readonly_config(original)
    expected = yaml.safe_load(original)
    expected["storage"]["maintenance"]["readonly"] = {"enabled": True}
    assert yaml.safe_load(switched) == expected
    assert gc.config_facts(switched)["readonly"] is True
    # A scalar where a mapping belongs is replaced, not crashed on.
    assert yaml.safe_load(gc.readonly_config("storage: {maintenance: null}\n"))["storage"]["maintenance"] == {
        "readonly": {"enabled": True}}


def test_the_registry_answers_writes_with_an_error_once_read_only(registry, tmp_path):
    info, env = registry
    directory = os.path.dirname(info["config"])
    with open(info["config"], encoding="utf-8") as handle:
        original = handle.read()
    with open(info["config"], "w", encoding="utf-8") as handle:
        handle.write(gc.readonly_config(original))
    standalone.stop(directory)
    assert standalone.start(directory) == 0
    with pytest.raises(Exception):
        images.push_oci_image(env, VARIANT, "gc/ro", "1", seed="ro", user=None)
    assert gc.scan_storage(info["data"])["manifests"] == 0


def test_scan_and_collect_a_real_storage(registry):
    info, env = registry
    gone = images.push_oci_image(env, VARIANT, "gc/team/app", "1", seed="gc-unit-1", user=None)
    kept = images.push_oci_image(env, VARIANT, "gc/team/app", "2", seed="gc-unit-2", user=None)
    delete_manifest(env, "gc/team/app", gone.digest)

    before = gc.scan_storage(info["data"])
    assert before["repositories"] == 1  # nested name gc/team/app counts once
    assert before["manifests"] == 1
    assert before["delete_untagged_safe"] is True
    assert before["blobs"] == len(gone.blob_digests) + len(kept.blob_digests) + 2  # + the two manifests

    dry = collect(info["config"], "--dry-run")
    dry_result = gc.gc_result(dry, before, dry_run=True)
    assert dry_result["error"] is None
    assert sorted(dry_result["eligible_blobs"]) == sorted(set(gone.blob_digests + [gone.digest]) - set(kept.blob_digests))
    assert dry_result["changed"] is True
    assert dry_result["reclaimed_bytes"] == 0
    assert gc.scan_storage(info["data"]) == before  # a dry run writes nothing

    real = collect(info["config"])
    after = gc.scan_storage(info["data"])
    result = gc.gc_result(real, before, after)
    assert result["blobs_removed"] == dry_result["blobs_eligible"] == before["blobs"] - after["blobs"]
    assert result["reclaimed_bytes"] == before["bytes"] - after["bytes"] > 0
    assert result["blobs_marked"] == len(kept.blob_digests) + 1

    again = gc.gc_result(collect(info["config"], "--dry-run"), after, dry_run=True)
    assert again["changed"] is False and again["blobs_eligible"] == 0


def test_indexes_and_referrers_block_delete_untagged(registry):
    info, env = registry
    index = images.push_index(env, VARIANT, "gc/multi", "m", seed="gc-unit-index", user=None, attestation=False)
    scan = gc.scan_storage(info["data"])
    assert scan["delete_untagged_safe"] is False
    assert scan["delete_untagged_blockers"] == [{"repository": "gc/multi", "digest": index.digest, "reason": "index"}]
    # What the refusal protects against (distribution#3178): the tagged index's children would go.
    dry = gc.gc_result(collect(info["config"], "--dry-run", "--delete-untagged"), scan, dry_run=True)
    assert set(index.manifest_digests) <= set(dry["eligible_manifests"])

    image = images.push_oci_image(env, VARIANT, "gc/signed", "1", seed="gc-unit-signed", user=None)
    image.repository = "gc/signed"
    signature = images.push_artifact(env, VARIANT, "gc/signed", image, referrers_tag=False)
    reasons = {(b["repository"], b["digest"]): b["reason"] for b in gc.scan_storage(info["data"])["delete_untagged_blockers"]}
    assert reasons[("gc/signed", signature.digest)] == "referrer"


def test_an_empty_storage_collects_nothing(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("version: 0.1\nstorage: {filesystem: {rootdirectory: %s}}\n" % tmp_path)
    run = collect(str(config), "--dry-run")
    result = gc.gc_result(run, gc.scan_storage(str(tmp_path)), dry_run=True)
    assert result["error"] is None and result["changed"] is False


def test_a_bad_flag_is_an_error_although_the_command_exits_0(registry):
    info, _env = registry
    run = collect(info["config"], "--no-such-flag")
    assert run["rc"] == 0  # why the role cannot trust the exit status alone
    assert gc.gc_error(run) == "garbage-collect refused its arguments: unknown flag: --no-such-flag"


def test_a_failing_command_gives_one_line():
    assert gc.gc_error({"rc": 1, "stdout": "", "stderr": "configuration error\nopen /x: no such file\n"}) == (
        "garbage-collect failed (exit 1): open /x: no such file")
    assert gc.gc_error({"rc": 0, "stdout": "", "stderr": ""}) is None


def test_scan_refuses_a_missing_root(tmp_path):
    with pytest.raises(gc.RegistryGcError, match="is not a directory"):
        gc.scan_storage(str(tmp_path / "missing"))
