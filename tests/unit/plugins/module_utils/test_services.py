# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modules' services called directly against the real plain registry, and run_module, the adapters' exit."""

from __future__ import annotations

import hashlib
import json
import os
import secrets

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import run_module
from ansible_collections.oci.registry.plugins.module_utils._blob_service import BlobService
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._lazy_client import LazyClient
from ansible_collections.oci.registry.plugins.module_utils._manifest_info import describe_manifest
from ansible_collections.oci.registry.plugins.module_utils._manifest_service import ManifestService
from ansible_collections.oci.registry.plugins.module_utils._pagination import iterate_pages
from ansible_collections.oci.registry.plugins.module_utils._service import Outcome, ServiceError, collect_names
from ansible_collections.oci.registry.plugins.module_utils._tag_info import TagInfoService
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run


@pytest.fixture
def had_repo(request):
    name = "".join(c if c.isalnum() else "-" for c in request.node.name.lower()).strip("-")[:40].strip("-")
    return "had/svc-%s-%s" % (name, secrets.token_hex(4))


@pytest.fixture
def client(registries):
    with RegistryClient(registries["registries"]["plain"]["url"]) as created:
        yield created


class Counting(object):
    """A client factory that counts how often a client was needed."""

    def __init__(self, registries):
        self.url = registries["registries"]["plain"]["url"]
        self.created = []

    def __call__(self):
        self.created.append(RegistryClient(self.url))
        return self.created[-1]

    def close(self):
        for made in self.created:
            made.close()


def no_client():
    raise AssertionError("the service asked for a client")


# ---------------------------------------------------------------- BlobService


def test_blob_upload_then_nothing_to_do_then_delete(client, had_repo, tmp_path):
    data = images.deterministic_bytes(had_repo, 70 * 1024)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    src = tmp_path / "layer.bin"
    src.write_bytes(data)

    predicted = BlobService(client, check_mode=True).present(had_repo, src=str(src))
    assert (predicted.changed, predicted.result["method"]) == (True, "uploaded")
    assert (predicted.before, predicted.after) == (dict(repository=had_repo, digest=digest, present=False),
                                                   dict(repository=had_repo, digest=digest, present=True))
    assert client.blobs.blob_exists(had_repo, digest) is None

    done = BlobService(client, chunk_size=32 * 1024).present(had_repo, src=str(src))
    assert (done.result["method"], done.result["chunks"], done.result["size"]) == ("uploaded", 3, len(data))
    again = BlobService(client).present(had_repo, digest=digest)
    assert (again.changed, again.result["method"]) == (False, "none")

    deleted = BlobService(client).absent(had_repo, digest)
    assert deleted.changed and client.blobs.blob_exists(had_repo, digest) is None
    assert BlobService(client).absent(had_repo, digest).changed is False


@pytest.mark.parametrize("options, message", [
    (dict(state="absent"), "state=absent needs digest"),
    (dict(state="absent", digest="sha256:" + "0" * 64, src="/x"), "only used with state=present"),
    (dict(dest="out.bin"), "dest needs digest"),
    (dict(), "state=present needs digest, or src"),
    (dict(src="/nonexistent/file"), "src /nonexistent/file is not a file"),
    (dict(digest="md5:" + "0" * 32, dest="x"), "digest"),
])
def test_blob_options_that_do_not_fit_fail_in_one_line_before_any_request(options, message):
    service = BlobService(LazyClient(no_client))
    with pytest.raises((ServiceError, ValueError)) as caught:
        service.apply(dict(dict(repository="had/x", digest=None), **options))
    text = getattr(caught.value, "msg", None) or str(caught.value)
    assert message in text and "\n" not in text


def test_blob_download_of_a_file_that_has_the_digest_needs_no_client(registries, client, had_repo, tmp_path):
    data = images.deterministic_bytes(had_repo, 10 * 1024)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    client.uploads.monolithic_upload(had_repo, digest, data)
    dest = tmp_path / "out.bin"
    factory = Counting(registries)
    try:
        first = BlobService(LazyClient(factory)).download(had_repo, digest, str(dest), os.replace)
        assert (first.changed, first.result["size"], dest.read_bytes()) == (True, len(data), data)
        assert first.before == dict(path=str(dest), digest=None)
        second = BlobService(LazyClient(factory)).download(had_repo, digest, str(dest), os.replace)
        assert second.changed is False and len(factory.created) == 1
    finally:
        factory.close()
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]


def test_blob_check_mode_without_src_needs_the_blob_in_mount_from(client, had_repo):
    digest = "sha256:" + hashlib.sha256(had_repo.encode()).hexdigest()
    with pytest.raises(ServiceError) as caught:
        BlobService(client, check_mode=True).present(had_repo, digest=digest, mount_from=had_repo + "-src")
    assert "is neither in" in caught.value.msg and caught.value.result == dict(exists=False)


# ---------------------------------------------------------------- ManifestService


def test_manifest_push_retag_untag_delete(registries, client, had_repo):
    image = images.push_oci_image(registries, "plain", had_repo, "v1", seed=had_repo)
    service = ManifestService(client)

    predicted = ManifestService(client, check_mode=True).present(had_repo, tag="v2", source="v1")
    assert predicted.changed and client.manifests.head_manifest(had_repo, "v2") is None
    assert predicted.before["digest"] is None and predicted.after["digest"] == image.digest

    assert service.present(had_repo, tag="v2", source="v1").changed is True
    assert service.present(had_repo, tag="v2", source="v1").changed is False
    assert client.manifests.head_manifest(had_repo, "v2").digest == image.digest

    pushed = service.present(had_repo, tag="v3", manifest=image.raw.decode())
    assert (pushed.result["digest"], pushed.changed) == (image.digest, True)

    with pytest.raises(ServiceError) as moved:
        service.present(had_repo, tag="v4", source="v1", digest="sha256:" + "1" * 64)
    assert moved.value.result == dict(digest=image.digest)

    untagged = service.absent_tag(had_repo, "v2")
    assert untagged.changed and client.manifests.head_manifest(had_repo, "v1").digest == image.digest

    deleted = service.absent_digest(had_repo, image.digest)
    assert deleted.result["removed_tags"] == ["v1", "v3"]
    assert client.manifests.head_manifest(had_repo, image.digest) is None


def test_manifest_schema1_content_is_refused_before_any_request():
    schema1 = '{"schemaVersion": 1, "name": "a/b", "tag": "1", "architecture": "amd64", "fsLayers": []}'
    with pytest.raises(ServiceError, match="schema 1 manifests are read-only"):
        ManifestService(LazyClient(no_client)).apply(dict(repository="had/x", tag="t", manifest=schema1))


# ---------------------------------------------------------------- describe_manifest


def test_describe_manifest_of_an_index_and_of_its_platform(registries, client, had_repo):
    index = images.push_index(registries, "plain", had_repo, "multi", seed=had_repo)
    whole = describe_manifest(client, had_repo, "multi")
    assert whole.result["is_index"] and whole.result["platforms"] == ["linux/amd64", "linux/arm64/v8"]
    arm = describe_manifest(client, had_repo, "multi", platform="linux/arm64", include_config=True)
    assert arm.result["digest"] == index.image_for("linux/arm64/v8").digest
    assert arm.result["index_digest"] == index.digest and arm.result["config"]["variant"] == "v8"
    with pytest.raises(ServiceError) as caught:
        describe_manifest(client, had_repo, "multi", include_config=True)
    assert caught.value.result["platforms"] == ["linux/amd64", "linux/arm64/v8"]


# ---------------------------------------------------------------- TagInfoService


def test_tag_listing_continues_where_limit_stopped(registries, client, had_repo):
    images.seed_many_tags(registries, "plain", had_repo, count=7, prefix="t", seed=had_repo)
    service = TagInfoService(client, client.registry_url)
    everything = service.one(had_repo).result["tags"]
    assert len(everything) == 7
    first = service.one(had_repo, page_size=2, limit=3).result
    rest = service.one(had_repo, page_size=2, last=first["next_last"]).result
    assert first["tags"] + rest["tags"] == everything and rest["next_last"] is None


def test_tag_digests_agree_between_heads_and_the_graph(registries, client, had_repo):
    index = images.push_index(registries, "plain", had_repo, "multi", seed=had_repo)
    images.tag_manifest(registries, "plain", had_repo, index, ["alias"])
    service = TagInfoService(client, client.registry_url)
    by_head = service.one(had_repo, include_digests=True).result["tags_by_digest"]
    by_graph = service.one(had_repo, include_digests=True, include_details=True).result["tags_by_digest"]
    filtered = service.one(had_repo, include_digests=True, regex=None, limit=5).result["tags_by_digest"]
    expected = [dict(digest=index.digest, media_type=index.media_type, size=index.size, tags=["alias", "multi"])]
    assert by_head == by_graph == filtered == expected


def test_many_repositories_keep_their_errors(registries, client, had_repo):
    images.push_oci_image(registries, "plain", had_repo, "v1", seed=had_repo)
    outcome = TagInfoService(client, client.registry_url).many([had_repo, had_repo + "-missing", had_repo])
    assert [entry["repository"] for entry in outcome.result["repositories"]] == [had_repo, had_repo + "-missing"]
    assert outcome.result["failed_repositories"] == [had_repo + "-missing"]
    assert outcome.result["repositories"][1]["exists"] is False


@pytest.mark.parametrize("option, value, message", [
    ("page_size", 0, "page_size is 0; it must be between 1 and 100000 entries"),
    ("limit", -1, "limit is -1; it must be between 0 and 2147483648"),
    ("concurrency", 65, "concurrency is 65; it must be between 1 and 64 parallel transfers"),
])
def test_tag_listing_numbers_are_range_checked_before_any_request(option, value, message):
    service = TagInfoService(LazyClient(no_client), "http://127.0.0.1:1")
    with pytest.raises(ValueError) as caught:
        service.apply({"repository": "had/x", option: value})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_docker_hub_reads_one_repository_at_a_time():
    service = TagInfoService(LazyClient(no_client), "https://hub.docker.com")
    with pytest.raises(ServiceError, match="one repository at a time"):
        service.apply(dict(repositories=["library/alpine"]))


def test_collect_names_reads_no_further_than_needed():
    read = []

    def names():
        for name in ["a", "b", "c", "d", "e"]:
            read.append(name)
            yield name

    assert collect_names(names(), None, 2, None) == (["a", "b"], "b")
    assert read == ["a", "b", "c"]


def _pages(pages):
    """A fetch for iterate_pages over ``{cursor: (names, next_last)}``."""
    def fetch(n, cursor, next_url):
        names, next_last = pages[cursor]
        return names, None, next_last
    return fetch


@pytest.mark.parametrize("limit, expected, expected_next", [
    (None, ["a", "b", "c", "d"], None),
    (2, ["a", "b"], "b"),
    (4, ["a", "b", "c", "d"], None),
    (3, ["a", "b", "c"], "c"),
])
def test_collect_names_over_pages_limits_and_next_last(limit, expected, expected_next):
    pages = {None: (["a", "b"], "b"), "b": (["c", "d"], None)}
    assert collect_names(iterate_pages(_pages(pages), 2, None), None, limit, None) == (expected, expected_next)


def test_collect_names_skips_up_to_last_when_the_registry_ignores_it():
    # distribution 2.x sends every tag whatever `last` says, in a stable but not lexical order
    everything = {"latest": (["latest", "0.9", "1.0"], None)}
    assert collect_names(iterate_pages(_pages(everything), None, "latest"), "latest", None, None) == (
        ["0.9", "1.0"], None)


# ---------------------------------------------------------------- run_module, the adapters' exit


class _ServiceModule(object):
    """A module whose service returns ``outcome`` (or raises it): what every adapter module does."""

    def __init__(self, outcome):
        self.outcome = outcome

    def main(self):
        module = AnsibleModule(argument_spec={}, supports_check_mode=True)

        def service():
            if isinstance(self.outcome, Exception):
                raise self.outcome
            return self.outcome
        run_module(module, service)


def test_run_module_exits_with_the_outcome_its_diff_and_warnings(capsys):
    outcome = Outcome(dict(changed=True, digest="sha256:" + "a" * 64), dict(present=False), dict(present=True),
                      ["the registry stored the manifest as something else"])
    with_diff = run(_ServiceModule(outcome), capsys, diff=True)
    assert with_diff["diff"] == dict(before=dict(present=False), after=dict(present=True))
    # ansible-core 2.19 sends warnings as structured events, older versions as strings.
    assert "the registry stored the manifest as something else" in json.dumps(with_diff["warnings"])
    assert "diff" not in run(_ServiceModule(outcome), capsys)


def test_run_module_fails_a_service_error_in_one_line_with_its_keys(capsys):
    failed = run(_ServiceModule(ServiceError("blob x is neither in a\n nor in b", exists=False)), capsys)
    assert (failed["failed"], failed["msg"], failed["exists"]) == (True, "blob x is neither in a nor in b", False)
    assert "exception" not in failed
