# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_copy with images (the batch copy service) against the real test registries, checked with skopeo."""

from __future__ import annotations

import pytest

from ansible_collections.oci.registry.plugins.modules import registry_copy
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run


def url(env, variant, repository, tag=None):
    text = "%s/%s" % (env["registries"][variant]["url"], repository)
    return text + ":" + tag if tag else text


def tags_at(skopeo, variant, repository):
    listed = skopeo.list_tags(variant, repository, check=False)
    if listed.returncode != 0:
        return []
    return sorted(__import__("json").loads(listed.stdout).get("Tags") or [])


@pytest.fixture
def release(registries, unique_repo):
    """Three source images on plain: app-0..2:1.0 (distinct digests)."""
    pushed = []
    for number in range(3):
        repository = "%s/app-%d" % (unique_repo, number)
        image = images.push_docker_image(registries, "plain", repository, "1.0", layers=(512,),
                                         seed="%s/%d" % (unique_repo, number))
        pushed.append((repository, image.digest))
    return pushed


def release_items(env, unique_repo, pushed, **extra):
    return [dict(src=url(env, "plain", repository, "1.0"), dest=url(env, "plain2", "%s/prod-%d" % (unique_repo, n)),
                 expected_digest=digest, **extra) for n, (repository, digest) in enumerate(pushed)]


def test_images_copies_each_item_and_second_run_writes_nothing(registries, skopeo, unique_repo, release, capsys):
    items = release_items(registries, unique_repo, release)
    first = run(registry_copy, capsys, images=items, atomic=True)
    assert first["changed"] is True
    assert [image["status"] for image in first["images"]] == ["done"] * 3
    assert first["summary"]["changed"] == 3 and first["summary"]["total"] == 3
    assert first["manifests"] == 3
    for n, (_repository, digest) in enumerate(release):
        assert skopeo.inspect_digest("plain2", "%s/prod-%d" % (unique_repo, n), "1.0") == digest
        assert first["images"][n]["dest_digest"] == digest
    second = run(registry_copy, capsys, images=items, atomic=True, verbosity=3)
    assert second["changed"] is False
    assert [image["changed"] for image in second["images"]] == [False] * 3
    assert {record["method"] for record in second["trace"]} <= {"HEAD", "GET"}


def test_images_check_mode_predicts_and_writes_nothing(registries, skopeo, unique_repo, release, capsys):
    items = release_items(registries, unique_repo, release)
    predicted = run(registry_copy, capsys, check_mode=True, images=items, verbosity=3)
    assert predicted["changed"] is True
    assert predicted["summary"]["changed"] == 3
    assert {record["method"] for record in predicted["trace"]} <= {"HEAD", "GET"}
    assert all(tags_at(skopeo, "plain2", "%s/prod-%d" % (unique_repo, n)) == [] for n in range(3))


def test_atomic_second_items_digest_guard_writes_nothing_anywhere(registries, skopeo, unique_repo, release, capsys):
    items = release_items(registries, unique_repo, release)
    items[1]["expected_digest"] = release[0][1]  # the digest of another image: the source "moved"
    failed = run(registry_copy, capsys, images=items, atomic=True)
    assert failed["failed"] is True
    assert "nothing was written" in failed["msg"]
    assert "expected_digest" in failed["msg"] and release[1][1] in failed["msg"]
    assert [image["status"] for image in failed["images"]] == ["not_started", "refused", "not_started"]
    assert failed["images"][1]["refused"]["guard"] == "expected_digest"
    for n in range(3):
        assert tags_at(skopeo, "plain2", "%s/prod-%d" % (unique_repo, n)) == []


def test_atomic_overwrite_guard_on_one_item_writes_nothing(registries, skopeo, unique_repo, release, capsys):
    # prod-2:1.0 already holds image 0: promoting image 2 there would move it.
    skopeo.copy(url(registries, "plain", release[0][0], "1.0").replace("http://", "docker://"),
                "docker://%s/%s/prod-2:1.0" % (registries["registries"]["plain2"]["host"], unique_repo),
                src_variant="plain", dest_variant="plain2")
    items = release_items(registries, unique_repo, release)
    failed = run(registry_copy, capsys, images=items, atomic=True, overwrite=False)
    assert failed["failed"] is True
    refusal = failed["images"][2]["refused"]
    assert refusal["guard"] == "overwrite"
    assert refusal["conflicts"][0]["before"] == release[0][1] and refusal["conflicts"][0]["after"] == release[2][1]
    assert tags_at(skopeo, "plain2", "%s/prod-0" % unique_repo) == []
    assert tags_at(skopeo, "plain2", "%s/prod-1" % unique_repo) == []
    assert skopeo.inspect_digest("plain2", "%s/prod-2" % unique_repo, "1.0") == release[0][1]


def test_without_atomic_a_failing_item_does_not_stop_the_others(registries, skopeo, unique_repo, release, capsys):
    items = release_items(registries, unique_repo, release)
    items[1]["src"] = url(registries, "plain", release[1][0], "missing")
    del items[1]["expected_digest"]
    failed = run(registry_copy, capsys, images=items)
    assert failed["failed"] is True
    assert "1 of 3 images failed" in failed["msg"] and "images[1]" in failed["msg"]
    assert [image["status"] for image in failed["images"]] == ["done", "failed", "done"]
    assert skopeo.inspect_digest("plain2", "%s/prod-0" % unique_repo, "1.0") == release[0][1]
    assert skopeo.inspect_digest("plain2", "%s/prod-2" % unique_repo, "1.0") == release[2][1]
    assert tags_at(skopeo, "plain2", "%s/prod-1" % unique_repo) == []


def test_semver_selection_and_allow_empty(registries, skopeo, unique_repo, capsys):
    repository = unique_repo + "/upstream"
    image = images.push_docker_image(registries, "plain", repository, "1.0.0", layers=(256,), seed=unique_repo)
    images.tag_manifest(registries, "plain", repository, image, ["1.1.0", "2.0.0", "latest"])
    result = run(registry_copy, capsys, images=[
        dict(src=url(registries, "plain", repository), dest=url(registries, "plain2", unique_repo + "/one"),
             semver=">=1.1,<3", tag_pattern="^1"),
        dict(src=url(registries, "plain", repository), dest=url(registries, "plain2", unique_repo + "/none"),
             semver="^9", allow_empty=True),
    ])
    assert [image["status"] for image in result["images"]] == ["done", "skipped"]
    assert tags_at(skopeo, "plain2", unique_repo + "/one") == ["1.1.0"]
    assert tags_at(skopeo, "plain2", unique_repo + "/none") == []
    failed = run(registry_copy, capsys, images=[
        dict(src=url(registries, "plain", repository), dest=url(registries, "plain2", unique_repo + "/none"),
             semver="^9")])
    assert failed["failed"] is True and "matches semver" in failed["msg"]
    skipped = run(registry_copy, capsys, images=[
        dict(src=url(registries, "plain", repository), dest=url(registries, "plain2", unique_repo + "/none"),
             tag_pattern="^nothing$", allow_empty=True)])
    assert skipped["images"][0]["status"] == "skipped" and skipped["changed"] is False


def test_single_copy_expected_digest_refuses_before_writing(registries, skopeo, unique_repo, release, capsys):
    repository, digest = release[0]
    failed = run(registry_copy, capsys, src=url(registries, "plain", repository, "1.0"),
                 dest=url(registries, "plain2", unique_repo + "/guarded"), expected_digest=release[1][1])
    assert failed["failed"] is True
    assert failed["refused"]["src_digest"] == digest
    assert "nothing was written" in failed["msg"]
    assert tags_at(skopeo, "plain2", unique_repo + "/guarded") == []
    done = run(registry_copy, capsys, src=url(registries, "plain", repository, "1.0"),
               dest=url(registries, "plain2", unique_repo + "/guarded"), expected_digest=digest)
    assert done["changed"] is True and done["dest_digest"] == digest


def test_bad_item_options_fail_before_any_request(registries, unique_repo, capsys):
    failed = run(registry_copy, capsys, images=[
        dict(src=url(registries, "plain", unique_repo), dest=url(registries, "plain2", unique_repo),
             tag_pattern="([")])
    assert failed["failed"] is True
    assert failed["msg"].startswith("images[0]: ") and "tag_pattern" in failed["msg"]


def test_one_index_to_many_tags_of_one_repository(registries, skopeo, unique_repo, capsys):
    # Items that write the same repository are written one after the other: concurrent PUTs of the same
    # child manifests made distribution refuse the index (MANIFEST_BLOB_UNKNOWN) now and then.
    index = images.push_index(registries, "plain", unique_repo + "/src", "1.0", seed=unique_repo)
    tags = ["t%d" % number for number in range(8)]
    items = [dict(src=url(registries, "plain", unique_repo + "/src", "1.0"),
                  dest=url(registries, "plain2", unique_repo + "/dest", tag)) for tag in tags]
    result = run(registry_copy, capsys, images=items, atomic=True, image_concurrency=8)
    assert result.get("failed") is not True, result.get("msg")
    assert tags_at(skopeo, "plain2", unique_repo + "/dest") == sorted(tags)
    assert all(skopeo.inspect_digest("plain2", unique_repo + "/dest", tag) == index.digest for tag in tags)


def test_atomic_write_refused_part_way_reports_what_was_written(registries, skopeo, unique_repo, release, capsys):
    # The guards passed; then the registry refuses the tag PUT of the second image (documented limit of atomic).
    from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy

    with FaultProxy(registries["registries"]["plain2"]["url"]) as proxy:
        proxy.add("respond", method="PUT", path=r"/prod-1/manifests/1\.0$", status=403, times=None,
                  headers={"Content-Type": "application/json"},
                  body=b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}')
        items = [dict(src=url(registries, "plain", repository, "1.0"),
                      dest="%s/%s/prod-%d" % (proxy.url, unique_repo, n), expected_digest=digest)
                 for n, (repository, digest) in enumerate(release)]
        failed = run(registry_copy, capsys, images=items, atomic=True)
    assert failed["failed"] is True
    assert [image["status"] for image in failed["images"]] == ["done", "failed", "done"]
    assert "2 images were written before the failure" in failed["msg"]
    assert skopeo.inspect_digest("plain2", "%s/prod-0" % unique_repo, "1.0") == release[0][1]
    assert tags_at(skopeo, "plain2", "%s/prod-1" % unique_repo) == []
    # Re-running the same batch (registry fixed) completes it; done images are no-ops.
    items = release_items(registries, unique_repo, release)
    again = run(registry_copy, capsys, images=items, atomic=True)
    assert [image["changed"] for image in again["images"]] == [False, True, False]
    assert skopeo.inspect_digest("plain2", "%s/prod-1" % unique_repo, "1.0") == release[1][1]
