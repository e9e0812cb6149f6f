# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_delete and module_utils/_bulk_delete against a real registry, skopeo as the witness."""

from __future__ import annotations

import threading
import time

from ansible_collections.oci.registry.plugins.module_utils._bulk_delete import apply
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.modules import registry_delete
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run


def _seed(registries, repository):
    """x: latest + old-x (x stays, old-x is untagged); y: old-y (y is deleted)."""
    x = images.push_oci_image(registries, "plain", repository, "latest", seed="bulk-x")
    images.tag_manifest(registries, "plain", repository, x, ["old-x"])
    y = images.push_oci_image(registries, "plain", repository, "old-y", seed="bulk-y")
    return x, y


def _entry(repository, x, y):
    return {"repository": repository,
            "tags": [{"tag": "old-x", "digest": x.digest}, {"tag": "old-y", "digest": y.digest}],
            "digests": [y.digest]}


def test_tag_created_during_the_apply_keeps_its_manifest(registries, skopeo, unique_repo):
    """The race of issue 13: the first DELETE stalls, a new tag appears on a doomed manifest meanwhile."""
    x, y = _seed(registries, unique_repo)
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        stall = proxy.add("stall", method="DELETE", seconds=4)
        client = RegistryClient(proxy.url, retries=0)
        outcome = {}
        worker = threading.Thread(target=lambda: outcome.update(result=apply(client, [_entry(unique_repo, x, y)])))
        worker.start()
        deadline = time.monotonic() + 60
        while stall.hits == 0 and worker.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stall.hits == 1, "the apply never sent a DELETE"
        # A release is tagged from the manifest the plan is about to delete.
        skopeo.copy(skopeo.reference("plain", unique_repo, y.digest), skopeo.reference("plain", unique_repo, "release-1"),
                    src_variant="plain", dest_variant="plain")
        worker.join(90)
        client.close()
    reports = outcome["result"][0]
    report = reports[0]
    assert report["error"] is None
    assert skopeo.inspect_digest("plain", unique_repo, "release-1") == y.digest
    assert [item["digest"] for item in report["refused"]] == [y.digest]
    assert "release-1" in report["refused"][0]["reason"]
    assert report["deleted"] == []
    tags = sorted(skopeo.list_tags("plain", unique_repo))
    # old-y was to go with its manifest; that manifest stays, so old-y is removed on its own.
    assert tags == ["latest", "release-1"]
    assert skopeo.inspect_digest("plain", unique_repo, "latest") == x.digest


def test_check_mode_predicts_and_second_run_sends_no_write(registries, skopeo, unique_repo, capsys):
    x, y = _seed(registries, unique_repo)
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        args = dict(registry_url=proxy.url, repositories=[_entry(unique_repo, x, y)])
        predicted = run(registry_delete, capsys, check_mode=True, diff=True, **args)
        assert proxy.count("DELETE") == 0 and proxy.count("PUT") == 0 and proxy.count("POST") == 0
        assert sorted(skopeo.list_tags("plain", unique_repo)) == ["latest", "old-x", "old-y"]
        applied = run(registry_delete, capsys, diff=True, **args)
        again = run(registry_delete, capsys, **args)
        writes_before = proxy.count("DELETE") + proxy.count("PUT") + proxy.count("POST")
        third = run(registry_delete, capsys, **args)
        assert proxy.count("DELETE") + proxy.count("PUT") + proxy.count("POST") == writes_before
    assert predicted["changed"] is True and applied["changed"] is True
    for key in ("deleted", "refused"):
        assert predicted["repositories"][0][key] == applied["repositories"][0][key]
    assert [(t["tag"], t["digest"]) for t in predicted["repositories"][0]["removed_tags"]] == \
        [(t["tag"], t["digest"]) for t in applied["repositories"][0]["removed_tags"]] == \
        [("old-x", x.digest), ("old-y", y.digest)]
    assert applied["repositories"][0]["deleted"] == [y.digest]
    assert predicted["diff"] == applied["diff"]
    assert applied["diff"]["before"][unique_repo]["tags"] == {"old-x": x.digest, "old-y": y.digest}
    assert applied["diff"]["after"][unique_repo] == {"tags": {}, "manifests": []}
    assert again["changed"] is False and third["changed"] is False
    assert sorted(again["repositories"][0]["absent"]) == sorted(["old-x", "old-y", y.digest])
    assert skopeo.list_tags("plain", unique_repo) == ["latest"]
    assert skopeo.inspect_digest("plain", unique_repo, "latest") == x.digest


def test_moved_tag_is_refused_and_kept(registries, skopeo, unique_repo, capsys):
    x, y = _seed(registries, unique_repo)
    url = registries["registries"]["plain"]["url"]
    # The plan saw old-x on y; it is on x now.
    result = run(registry_delete, capsys, registry_url=url,
                 repositories=[{"repository": unique_repo, "tags": [{"tag": "old-x", "digest": y.digest}]}])
    assert result["changed"] is False
    assert result["repositories"][0]["refused"][0]["tag"] == "old-x"
    assert "moved" in result["repositories"][0]["refused"][0]["reason"]
    assert "old-x" in skopeo.list_tags("plain", unique_repo)


def test_one_failing_repository_does_not_stop_the_others(registries, skopeo, unique_repo, capsys):
    x, y = _seed(registries, unique_repo)
    other = unique_repo + "-other"
    images.push_oci_image(registries, "plain", other, "latest", seed="bulk-x")
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        proxy.add("respond", method="GET", path=r"^/v2/%s/tags/list" % other, status=500, times=None)
        result = run(registry_delete, capsys, registry_url=proxy.url, retries=0,
                     repositories=[{"repository": other, "tags": ["latest"]}, _entry(unique_repo, x, y)])
    assert result["failed"] is True
    assert result["failed_repositories"] == [other]
    assert result["msg"].startswith("1 of 2 repositories failed, first %s:" % other)
    assert result["repositories"][1]["deleted"] == [y.digest]
    assert skopeo.list_tags("plain", unique_repo) == ["latest"]
    assert skopeo.list_tags("plain", other) == ["latest"]


def test_tags_going_with_their_manifest_are_not_read_one_by_one(registries, skopeo, unique_repo, capsys):
    """A real run lists the tags instead of a HEAD per tag that goes with its manifest, and sends no
    HEAD for a digest whose media type the plan gives; the result is the one of a full read."""
    x, y = _seed(registries, unique_repo)
    images.tag_manifest(registries, "plain", unique_repo, y, ["old-y2"])
    entry = {"repository": unique_repo,
             "tags": [{"tag": "old-x", "digest": x.digest}, {"tag": "old-y", "digest": y.digest},
                      {"tag": "old-y2", "digest": y.digest}],
             "digests": [{"digest": y.digest, "media_type": y.media_type}]}
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        predicted = run(registry_delete, capsys, check_mode=True, registry_url=proxy.url, repositories=[entry])
        proxy.requests.clear()
        applied = run(registry_delete, capsys, registry_url=proxy.url, repositories=[entry])
        assert proxy.count("HEAD", r"/manifests/old-y") == 0
        assert proxy.count("HEAD", r"/manifests/%s" % y.digest) == 0
        # The tag list before, again after untagging old-x, and after the deletes.
        assert proxy.count("GET", r"/tags/list") == 3
    assert applied["repositories"][0] == dict(predicted["repositories"][0], removed_tags=[
        dict(item, via=applied["repositories"][0]["removed_tags"][0]["via"]) if item["tag"] == "old-x" else item
        for item in predicted["repositories"][0]["removed_tags"]])
    assert [(t["tag"], t["via"]) for t in applied["repositories"][0]["removed_tags"]][1:] == \
        [("old-y", "manifest"), ("old-y2", "manifest")]
    assert applied["repositories"][0]["deleted"] == [y.digest]
    assert skopeo.list_tags("plain", unique_repo) == ["latest"]


def test_tag_moved_away_from_a_deleted_manifest_is_reported_as_moved(registries, skopeo, unique_repo, capsys):
    """The plan saw old-y2 on y; it was moved to z since. Deleting y does not take it: refused as moved,
    as check mode predicts, and z stays."""
    x, y = _seed(registries, unique_repo)
    z = images.push_oci_image(registries, "plain", unique_repo, "old-y2", seed="bulk-z")
    entry = {"repository": unique_repo,
             "tags": [{"tag": "old-y", "digest": y.digest}, {"tag": "old-y2", "digest": y.digest}],
             "digests": [{"digest": y.digest, "media_type": y.media_type}]}
    url = registries["registries"]["plain"]["url"]
    predicted = run(registry_delete, capsys, check_mode=True, registry_url=url, repositories=[entry])
    applied = run(registry_delete, capsys, registry_url=url, repositories=[entry])
    for result in (predicted, applied):
        report = result["repositories"][0]
        assert report["deleted"] == [y.digest]
        assert [(t["tag"], t["via"]) for t in report["removed_tags"]] == [("old-y", "manifest")]
        assert [(r["tag"], r["digest"]) for r in report["refused"]] == [("old-y2", z.digest)]
        assert "moved" in report["refused"][0]["reason"]
    assert sorted(skopeo.list_tags("plain", unique_repo)) == ["latest", "old-x", "old-y2"]
    assert skopeo.inspect_digest("plain", unique_repo, "old-y2") == z.digest


def test_a_bad_digest_item_fails_with_one_line(registries, capsys):
    url = registries["registries"]["plain"]["url"]
    result = run(registry_delete, capsys, registry_url=url,
                 repositories=[{"repository": "hscale/none", "digests": [{"digest": "sha256:" + "a" * 64, "size": 1}]}])
    assert result["failed"] is True
    assert "a dict needs digest (and may have media_type)" in result["msg"] and "\n" not in result["msg"]
