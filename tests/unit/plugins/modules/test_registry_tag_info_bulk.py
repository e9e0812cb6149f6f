# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_tag_info reading many repositories in one run (module_utils/_inventory.py), real registry."""

from __future__ import annotations

import json
import re

from ansible_collections.oci.registry.plugins.module_utils._retention import plan_repositories
from ansible_collections.oci.registry.plugins.modules import registry_tag_info
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run


def _seed(registries, base):
    index = images.push_index(registries, "plain", base + "/multi", "1.0")
    images.tag_manifest(registries, "plain", base + "/multi", index, ["latest"])
    image = images.push_oci_image(registries, "plain", base + "/single", "v1", seed="bulk-single",
                                  platform="linux/arm64/v8")
    return index, image


def test_bulk_read_matches_single_reads_and_returns_the_graph(registries, unique_repo, capsys):
    url = registries["registries"]["plain"]["url"]
    index, image = _seed(registries, unique_repo)
    names = [unique_repo + "/multi", unique_repo + "/single", unique_repo + "/missing"]
    bulk = run(registry_tag_info, capsys, registry_url=url, repositories=names, include_details=True,
               include_digests=True, concurrency=3)
    assert bulk["changed"] is False
    assert [entry["repository"] for entry in bulk["repositories"]] == names
    assert bulk["failed_repositories"] == [unique_repo + "/missing"]
    missing = bulk["repositories"][2]
    assert missing["exists"] is False and missing["error"]["status"] == 404 and missing["tags"] == []

    for entry in bulk["repositories"][:2]:
        single = run(registry_tag_info, capsys, registry_url=url, repository=entry["repository"],
                     include_details=True, include_digests=True)
        assert entry["error"] is None and entry["exists"] is True
        assert entry["tags"] == single["tags"]
        assert entry["tag_details"] == single["tag_details"]
        assert entry["tags_by_digest"] == single["tags_by_digest"]

    multi = bulk["repositories"][0]
    graph = multi["manifests"]
    top = graph[index.digest]
    assert sorted(top["children"]) == sorted(index.manifest_digests)
    assert sorted(top["attestations"]) == sorted(a.digest for a in index.attestations)
    for child in index.images:
        assert graph[child.digest]["platform"] in ("linux/amd64", "linux/arm64/v8")
        assert graph[child.digest]["created"]
        assert set(child.blob_digests) <= set(graph[child.digest]["blobs"])
    for attestation in index.attestations:
        # the attestation's subject is an image of the index: a referrer through its subject field
        subject = graph[attestation.digest].get("subject")
        if subject:
            assert {"tag": None, "digest": attestation.digest} in multi["referrers"][subject]
    assert multi["size"] >= sum(entry["size"] for entry in graph.values())
    assert bulk["repositories"][1]["tag_details"][0]["platforms"] == ["linux/arm64/v8"]
    assert bulk["repositories"][1]["manifests"][image.digest]["platform"] == "linux/arm64/v8"


def test_one_failing_repository_does_not_fail_the_read(registries, unique_repo, capsys):
    _seed(registries, unique_repo)
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        proxy.add("respond", method="GET", path=r"^/v2/%s/multi/manifests/" % re.escape(unique_repo), status=500,
                  times=None)
        bulk = run(registry_tag_info, capsys, registry_url=proxy.url, retries=0,
                   repository_pattern="^%s/" % re.escape(unique_repo), include_details=True)
    by_name = dict((entry["repository"], entry) for entry in bulk["repositories"])
    assert set(by_name) == {unique_repo + "/multi", unique_repo + "/single"}
    assert by_name[unique_repo + "/multi"]["error"]["status"] == 500
    assert by_name[unique_repo + "/multi"]["exists"] is True
    assert "tag_details" not in by_name[unique_repo + "/multi"]
    assert by_name[unique_repo + "/single"]["error"] is None
    assert [d["tag"] for d in by_name[unique_repo + "/single"]["tag_details"]] == ["v1"]
    assert bulk["failed_repositories"] == [unique_repo + "/multi"]


def test_single_repository_options_are_refused_in_bulk(registries, capsys):
    url = registries["registries"]["plain"]["url"]
    result = run(registry_tag_info, capsys, registry_url=url, repositories=["a/b"], limit=3)
    assert result["failed"] is True
    assert result["msg"] == "limit works with repository only, not with repositories or repository_pattern"


def test_compact_details_plan_the_same_with_fewer_values(registries, unique_repo, capsys):
    """What the cleanup role reads: only what the planner uses, and the same plan as from the full read."""
    url = registries["registries"]["plain"]["url"]
    index, image = _seed(registries, unique_repo)
    images.push_oci_image(registries, "plain", unique_repo + "/single", "v0", seed="bulk-single-old")
    names = [unique_repo + "/multi", unique_repo + "/single", unique_repo + "/missing"]
    full = run(registry_tag_info, capsys, registry_url=url, repositories=names, include_details=True)
    compact = run(registry_tag_info, capsys, registry_url=url, repositories=names, include_details=True,
                  compact_details=True)
    entry = compact["repositories"][0]
    assert "referrers" not in entry and "size" not in entry
    assert set(entry["tag_details"][0]) == {"tag", "digest", "media_type", "created"}
    assert set(entry["manifests"][index.digest]) == {"media_type", "size", "children", "blobs"}
    assert sorted(entry["manifests"][index.digest]["children"]) == sorted(
        full["repositories"][0]["manifests"][index.digest]["children"])
    assert compact["repositories"][2]["error"] == full["repositories"][2]["error"]
    for options in ({"mode": "delete", "keep_patterns": ["^1.0$"]}, {"mode": "delete", "keep_latest": 1}):
        assert plan_repositories(compact["repositories"], **options) == plan_repositories(full["repositories"],
                                                                                          **options)
    assert len(json.dumps(compact)) < len(json.dumps(full))
