# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_copy as a sync tool: prune, immutable_tags, backup_tag, cosign attachments and the cost of a
no-op re-run, against the real test registries (plain -> plain2), checked with skopeo."""

from __future__ import annotations

import hashlib
import json
import re
import secrets

import pytest

from ansible_collections.oci.registry.plugins.module_utils import _client, _rate_limit
from ansible_collections.oci.registry.plugins.modules import registry_copy
from ansible_collections.oci.registry.tests.registries import cosign, images
from ansible_collections.oci.registry.tests.registries.cosign import SIGNATURE_ANNOTATION, SIMPLE_SIGNING
from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy
from ansible_collections.oci.registry.tests.registries.rawpush import RawRegistry
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run


@pytest.fixture
def sync_repo(request):
    """A repository name under hsync/ that no other test uses."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-") or "repo"
    return "hsync/%s-%s" % (name, secrets.token_hex(4))


def url(env, variant, repository, tag=None):
    text = "%s/%s" % (env["registries"][variant]["url"], repository)
    return text + ":" + tag if tag else text


def host(env, variant):
    return env["registries"][variant]["host"]


def tags_at(skopeo, variant, repository):
    listed = skopeo.list_tags(variant, repository, check=False)
    if listed.returncode != 0:
        return []
    return sorted(json.loads(listed.stdout).get("Tags") or [])


def push(env, repository, tag, seed, variant="plain"):
    return images.push_docker_image(env, variant, repository, tag, layers=(256,), seed=seed)


def raw_digest(skopeo, variant, repository, reference):
    """Digest of the manifest bytes skopeo reads (works for artifacts, which skopeo inspect refuses)."""
    return "sha256:" + hashlib.sha256(skopeo.inspect_raw(variant, repository, reference)).hexdigest()


def cosign_tag(digest, suffix=".sig"):
    return digest.replace(":", "-") + suffix


def requests_to(result, variant_host):
    return [(record["method"], record["path"]) for record in result["trace"] if record["host"] == variant_host]


@pytest.fixture
def source(registries, sync_repo):
    """Source repository on plain with tags a, b, c (three images)."""
    repository = sync_repo + "/src"
    pushed = {tag: push(registries, repository, tag, "%s/%s" % (sync_repo, tag)) for tag in ("a", "b", "c")}
    return repository, pushed


def test_prune_keeps_cosign_and_fallback_tags_of_kept_images_and_check_mode_predicts(
        registries, skopeo, sync_repo, source, capsys):
    src_repo, pushed = source
    dest_repo = sync_repo + "/dest"
    first = run(registry_copy, capsys, src=url(registries, "plain", src_repo),
                dest=url(registries, "plain2", dest_repo), tags=["a", "b", "c"])
    assert first["changed"] is True
    # Attachments at the destination: cosign tags of a (stays) and of c (leaves the selection).
    sig_a = images.push_artifact(registries, "plain2", dest_repo, pushed["a"], tag=cosign_tag(pushed["a"].digest),
                                 referrers_tag=True)
    images.push_artifact(registries, "plain2", dest_repo, pushed["c"], tag=cosign_tag(pushed["c"].digest, ".att"),
                         referrers_tag=False, payload=b"attestation of c")
    fallback_a = cosign_tag(pushed["a"].digest, "")
    before = tags_at(skopeo, "plain2", dest_repo)
    assert cosign_tag(pushed["a"].digest) in before and fallback_a in before

    options = dict(src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_repo),
                   tags=["a", "b"], prune=True)
    predicted = run(registry_copy, capsys, check_mode=True, diff=True, **options)
    assert predicted["changed"] is True
    assert predicted["pruned_tags"] == sorted(["c", cosign_tag(pushed["c"].digest, ".att")])
    assert tags_at(skopeo, "plain2", dest_repo) == before
    dest_c = "%s/%s:c" % (host(registries, "plain2"), dest_repo)
    assert predicted["diff"]["before"][dest_c] == pushed["c"].digest
    assert dest_c not in predicted["diff"]["after"]

    pruned = run(registry_copy, capsys, **options)
    assert pruned["changed"] is True
    assert pruned["pruned_tags"] == predicted["pruned_tags"]
    assert pruned["pruned_manifests"] == [] and pruned["prune_refused"] == []
    assert tags_at(skopeo, "plain2", dest_repo) == sorted(["a", "b", cosign_tag(pushed["a"].digest), fallback_a])
    assert raw_digest(skopeo, "plain2", dest_repo, cosign_tag(pushed["a"].digest)) == sig_a.digest
    # Untagged, not deleted: prune_manifests is off.
    assert skopeo.inspect_raw("plain2", dest_repo, pushed["c"].digest, check=False).returncode == 0

    again = run(registry_copy, capsys, **options)
    assert again["changed"] is False and again["pruned_tags"] == []


def test_prune_manifests_deletes_only_what_no_kept_tag_uses(registries, skopeo, sync_repo, source, capsys):
    src_repo, pushed = source
    dest_repo = sync_repo + "/dest"
    run(registry_copy, capsys, src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_repo),
        tags=["a", "b", "c"])
    # "same-as-a" points at a's image: pruning it must not delete a's manifest.
    images.tag_manifest(registries, "plain2", dest_repo, pushed["a"], ["same-as-a"])
    options = dict(src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_repo),
                   tags=["a", "b"], prune=True, prune_manifests=True)
    predicted = run(registry_copy, capsys, check_mode=True, **options)
    assert predicted["pruned_tags"] == ["c", "same-as-a"]
    assert predicted["pruned_manifests"] == [pushed["c"].digest]
    result = run(registry_copy, capsys, **options)
    assert result["pruned_tags"] == predicted["pruned_tags"]
    assert result["pruned_manifests"] == [pushed["c"].digest]
    assert tags_at(skopeo, "plain2", dest_repo) == ["a", "b"]
    assert skopeo.inspect_raw("plain2", dest_repo, pushed["c"].digest, check=False).returncode != 0
    assert skopeo.inspect_digest("plain2", dest_repo, "a") == pushed["a"].digest


def test_prune_manifests_keeps_the_child_of_a_pruned_index_that_a_kept_tag_uses(
        registries, skopeo, sync_repo, capsys):
    src_repo, dest_repo = sync_repo + "/src", sync_repo + "/dest"
    index = images.push_index(registries, "plain", src_repo, "multi", seed=sync_repo)
    arm = index.images[1]
    images.tag_manifest(registries, "plain", src_repo, arm, ["arm"])
    options = dict(src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_repo))
    assert run(registry_copy, capsys, tags=["multi", "arm"], **options)["changed"] is True
    predicted = run(registry_copy, capsys, check_mode=True, tags=["arm"], prune=True, prune_manifests=True, **options)
    result = run(registry_copy, capsys, tags=["arm"], prune=True, prune_manifests=True, **options)
    assert result["pruned_tags"] == predicted["pruned_tags"] == ["multi"]
    assert sorted(result["pruned_manifests"]) == sorted(predicted["pruned_manifests"])
    assert result["pruned_manifests"][0] == index.digest
    assert arm.digest not in result["pruned_manifests"] and index.images[0].digest in result["pruned_manifests"]
    assert skopeo.inspect_digest("plain2", dest_repo, "arm") == arm.digest
    assert skopeo.inspect_raw("plain2", dest_repo, index.images[0].digest, check=False).returncode != 0


def test_no_op_rerun_costs_heads_and_one_listing_and_no_get_at_dest(registries, sync_repo, source, capsys):
    src_repo, pushed = source
    dest_repo = sync_repo + "/dest"
    options = dict(src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_repo),
                   tags=["a", "b", "c"])
    first = run(registry_copy, capsys, **options)
    assert first["changed"] is True
    again = run(registry_copy, capsys, verbosity=3, **options)
    assert again["changed"] is False
    dest_requests = requests_to(again, host(registries, "plain2"))
    src_requests = requests_to(again, host(registries, "plain"))
    # One destination tag listing, a HEAD per destination tag; a HEAD per source tag; nothing else.
    assert sorted(method for method, dummy in dest_requests) == ["GET", "HEAD", "HEAD", "HEAD"]
    assert [path for method, path in dest_requests if method == "GET"] == ["/v2/%s/tags/list" % dest_repo]
    assert sorted(method for method, dummy in src_requests) == ["HEAD", "HEAD", "HEAD"]
    assert again["requests"] == {"src": 3, "dest": 4}

    immutable = run(registry_copy, capsys, verbosity=3, immutable_tags=r"^[a-z]$", **options)
    assert immutable["changed"] is False
    assert immutable["skipped_tags"] == ["a", "b", "c"] and immutable["tags"] == []
    assert immutable["requests"] == {"src": 0, "dest": 1}
    assert requests_to(immutable, host(registries, "plain2")) == [("GET", "/v2/%s/tags/list" % dest_repo)]


def test_no_op_rerun_of_many_tags_opens_no_connection_it_cannot_keep(registries, sync_repo, monkeypatch, tmp_path,
                                                                     capsys):
    # 32 resolving threads over a pool of 16 opened a connection for every HEAD beyond the 16th in flight
    # at one side and dropped it after that one request (for https a TLS handshake each).
    layout = images.OCILayout(str(tmp_path))
    image = images.build_image(layout, layers=(256,), seed=sync_repo)
    src_repo = sync_repo + "/src"
    images.push_layout_raw(registries, "plain", str(tmp_path), [image], src_repo, ["t%02d" % n for n in range(40)])
    options = dict(src=url(registries, "plain", src_repo), dest=url(registries, "plain2", sync_repo + "/dest"),
                   tag_pattern="^t")
    assert run(registry_copy, capsys, **options)["changed"] is True
    pools_seen = []
    real_close = _client.RegistryClient.close

    def close(client):
        adapter = client.transport.session.get_adapter(client.registry_url)
        pools = adapter.poolmanager.pools
        pools_seen.extend((pools[key].num_connections, pools[key].pool.maxsize) for key in pools.keys())
        real_close(client)

    monkeypatch.setattr(_client.RegistryClient, "close", close)
    again = run(registry_copy, capsys, **options)
    assert again["changed"] is False and again["requests"] == {"src": 41, "dest": 41}
    assert len(pools_seen) == 2 and all(opened <= kept for opened, kept in pools_seen), pools_seen


def test_immutable_tag_is_not_moved_and_a_new_one_is_copied(registries, skopeo, sync_repo, source, capsys):
    src_repo, pushed = source
    dest_repo = sync_repo + "/dest"
    run(registry_copy, capsys, src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_repo),
        tags=["a"])
    moved = push(registries, src_repo, "a", sync_repo + "/a-moved")
    result = run(registry_copy, capsys, src=url(registries, "plain", src_repo),
                 dest=url(registries, "plain2", dest_repo), tags=["a", "b"], immutable_tags="^a$")
    assert result["skipped_tags"] == ["a"]
    assert [item["dest"].rsplit(":", 1)[1] for item in result["tags"]] == ["b"]
    assert skopeo.inspect_digest("plain2", dest_repo, "a") == pushed["a"].digest != moved.digest
    assert skopeo.inspect_digest("plain2", dest_repo, "b") == pushed["b"].digest


def test_backup_then_rollback_restores_the_old_digest(registries, skopeo, sync_repo, source, capsys):
    src_repo, pushed = source
    dest_repo = sync_repo + "/dest"
    dest = url(registries, "plain2", dest_repo, "a")
    run(registry_copy, capsys, src=url(registries, "plain", src_repo, "a"), dest=dest)
    moved = push(registries, src_repo, "a", sync_repo + "/a-moved")
    options = dict(src=url(registries, "plain", src_repo, "a"), dest=dest, backup_tag="{tag}-prev")
    predicted = run(registry_copy, capsys, check_mode=True, diff=True, **options)
    assert predicted["backups"] == [{"tag": "a", "backup": "a-prev", "digest": pushed["a"].digest}]
    assert predicted["diff"]["after"]["%s/%s:a-prev" % (host(registries, "plain2"), dest_repo)] == pushed["a"].digest
    assert tags_at(skopeo, "plain2", dest_repo) == ["a"]
    result = run(registry_copy, capsys, **options)
    assert result["backups"] == predicted["backups"]
    assert skopeo.inspect_digest("plain2", dest_repo, "a") == moved.digest
    assert skopeo.inspect_digest("plain2", dest_repo, "a-prev") == pushed["a"].digest
    # Nothing moves on a re-run: no new backup.
    assert run(registry_copy, capsys, **options)["backups"] == []
    # Rollback is one retag.
    rollback = run(registry_copy, capsys, src=url(registries, "plain2", dest_repo, "a-prev"), dest=dest)
    assert rollback["changed"] is True
    assert skopeo.inspect_digest("plain2", dest_repo, "a") == pushed["a"].digest


def test_backup_tags_survive_prune(registries, skopeo, sync_repo, source, capsys):
    src_repo, pushed = source
    dest_repo = sync_repo + "/dest"
    options = dict(src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_repo), tags=["a"],
                   prune=True, backup_tag="{tag}-{digest12}")
    run(registry_copy, capsys, **options)
    push(registries, src_repo, "a", sync_repo + "/a-moved")
    result = run(registry_copy, capsys, **options)
    backup = "a-" + pushed["a"].digest.split(":")[1][:12]
    assert result["backups"][0]["backup"] == backup and result["pruned_tags"] == []
    assert tags_at(skopeo, "plain2", dest_repo) == sorted(["a", backup])


def test_cosign_attachments_travel_with_referrers(registries, skopeo, sync_repo, source, capsys):
    src_repo, pushed = source
    dest_repo = sync_repo + "/dest"
    signature = images.push_artifact(registries, "plain", src_repo, pushed["a"], tag=cosign_tag(pushed["a"].digest),
                                     referrers_tag=False)
    # Of an image that is not copied: stays behind.
    images.push_artifact(registries, "plain", src_repo, pushed["b"], tag=cosign_tag(pushed["b"].digest),
                         referrers_tag=False, payload=b"signature of b")
    options = dict(src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_repo), tags=["a"],
                   referrers=True)
    predicted = run(registry_copy, capsys, check_mode=True, **options)
    assert predicted["attachments"] == [cosign_tag(pushed["a"].digest)]
    result = run(registry_copy, capsys, **options)
    assert result["attachments"] == [cosign_tag(pushed["a"].digest)]
    assert result["manifests"] == predicted["manifests"]
    assert raw_digest(skopeo, "plain2", dest_repo, cosign_tag(pushed["a"].digest)) == signature.digest
    assert cosign_tag(pushed["b"].digest) not in tags_at(skopeo, "plain2", dest_repo)
    again = run(registry_copy, capsys, verbosity=3, **options)
    assert again["changed"] is False and again["attachments"] == []
    assert [path for method, path in requests_to(again, host(registries, "plain2")) if method == "GET"] == [
        "/v2/%s/tags/list" % dest_repo]


def signature_layers(skopeo, variant, repository, digest):
    manifest = json.loads(skopeo.inspect_raw(variant, repository, cosign_tag(digest)))
    return [layer["annotations"]["dev.cosignproject.cosign/signature"] for layer in manifest["layers"]]


def test_signatures_made_at_the_destination_survive_the_next_copy(registries, skopeo, sync_repo, source,
                                                                  capsys, tmp_path):
    """cosign keeps every signature of a digest in one ``.sig`` manifest: a copy merges, never replaces."""
    src_repo, pushed = source
    dest_repo = sync_repo + "/dest"
    digest = pushed["a"].digest
    build = (SIMPLE_SIGNING, b"build payload", {SIGNATURE_ANNOTATION: "build-signature"})
    production = (SIMPLE_SIGNING, b"production payload", {SIGNATURE_ANNOTATION: "production-signature"})
    rebuild = (SIMPLE_SIGNING, b"rebuild payload", {SIGNATURE_ANNOTATION: "rebuild-signature"})
    with RawRegistry(registries, "plain") as plain:
        cosign.attach(plain, src_repo, cosign_tag(digest), [build])
    options = dict(src=url(registries, "plain", src_repo, "a"), dest=url(registries, "plain2", dest_repo, "a"),
                   referrers=True)
    run(registry_copy, capsys, **options)
    # The promotion's production signature, added at the destination as registry_sign and cosign do.
    with RawRegistry(registries, "plain2") as plain2:
        signed = cosign.attach(plain2, dest_repo, cosign_tag(digest), [build, production])

    again = run(registry_copy, capsys, **options)
    assert again["changed"] is False and again["attachments"] == []
    assert raw_digest(skopeo, "plain2", dest_repo, cosign_tag(digest)) == signed

    # A new source signature joins the destination's; the production one stays.
    with RawRegistry(registries, "plain") as plain:
        cosign.attach(plain, src_repo, cosign_tag(digest), [build, rebuild])
    predicted = run(registry_copy, capsys, check_mode=True, **options)
    assert predicted["changed"] is True and predicted["attachments"] == [cosign_tag(digest)]
    assert raw_digest(skopeo, "plain2", dest_repo, cosign_tag(digest)) == signed
    merged = run(registry_copy, capsys, **options)
    assert merged["changed"] is True and merged["attachments"] == [cosign_tag(digest)]
    assert signature_layers(skopeo, "plain2", dest_repo, digest) == [
        "build-signature", "production-signature", "rebuild-signature"]
    # skopeo copies the merged manifest whole: its config and every layer blob are at the destination.
    assert skopeo.copy(skopeo.reference("plain2", dest_repo, cosign_tag(digest)), "oci:%s:sig" % tmp_path,
                       src_variant="plain2", all_images=False, check=False).returncode == 0
    assert run(registry_copy, capsys, **options)["changed"] is False


def test_tag_pattern_leaves_referrer_tags_to_referrers(registries, skopeo, sync_repo, source, capsys):
    src_repo, pushed = source
    dest_repo = sync_repo + "/dest"
    with RawRegistry(registries, "plain") as plain:
        cosign.attach(plain, src_repo, cosign_tag(pushed["a"].digest),
                      [(SIMPLE_SIGNING, b"payload", {SIGNATURE_ANNOTATION: "signature"})])
    options = dict(src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_repo), tag_pattern=".")
    run(registry_copy, capsys, **options)
    assert tags_at(skopeo, "plain2", dest_repo) == ["a", "b", "c"]
    with_referrers = run(registry_copy, capsys, referrers=True, **options)
    assert with_referrers["attachments"] == [cosign_tag(pushed["a"].digest)]
    assert tags_at(skopeo, "plain2", dest_repo) == sorted(["a", "b", "c", cosign_tag(pushed["a"].digest)])


@pytest.mark.parametrize("options, message", [
    (dict(prune=True), "prune needs tags or tag_pattern"),
    (dict(tags=["a"], prune_manifests=True), "prune_manifests needs prune: true"),
    (dict(tags=["a"], immutable_tags="(unclosed"), "immutable_tags '(unclosed' is not a valid regular expression"),
    (dict(tags=["a"], backup_tag="{tag}-{when}"), "unknown placeholder {when}"),
    (dict(tags=["a"], backup_tag="{tag}/prev"), "which is not a valid tag"),
])
def test_bad_sync_options_fail_in_one_line_before_any_request(capsys, options, message):
    # Port 9 (discard) on localhost: any request would fail with a connection error instead.
    result = run(registry_copy, capsys, src="http://127.0.0.1:9/hsync/src", dest="http://127.0.0.1:9/hsync/dest",
                 verbosity=3, **options)
    assert result["failed"] is True
    assert message in result["msg"] and "\n" not in result["msg"]
    assert result.get("trace", []) == []


# ---------------------------------------------------------------------------------------------- rate limits

@pytest.fixture
def proxy(registries):
    """A fault proxy in front of plain; what the proxy remembered about pull limits is dropped afterwards."""
    with FaultProxy(registries["registries"]["plain"]["url"]) as fault_proxy:
        yield fault_proxy
    _rate_limit.forget()


def test_pull_limit_too_low_for_the_plan_stops_before_writing(registries, skopeo, sync_repo, source, proxy, capsys):
    src_repo, dummy = source
    dest_repo = sync_repo + "/dest"
    proxy.extra_headers = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "2;w=21600"}
    failed = run(registry_copy, capsys, src="%s/%s" % (proxy.url, src_repo), dest=url(registries, "plain2", dest_repo),
                 tags=["a", "b", "c"])
    assert failed["failed"] is True
    assert "2 of 100 pulls left and this run needs at least 3" in failed["msg"]
    assert "stopped before writing anything" in failed["msg"] and "21600 s" in failed["msg"]
    assert "\n" not in failed["msg"]
    assert tags_at(skopeo, "plain2", dest_repo) == []
    # Enough pulls left: the same copy runs.
    proxy.extra_headers = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "3;w=21600"}
    done = run(registry_copy, capsys, src="%s/%s" % (proxy.url, src_repo), dest=url(registries, "plain2", dest_repo),
               tags=["a", "b", "c"])
    assert done["changed"] is True
    assert tags_at(skopeo, "plain2", dest_repo) == ["a", "b", "c"]


def test_pull_limit_counts_every_images_entry_together(registries, skopeo, sync_repo, source, proxy, capsys):
    """Each entry fits alone (2 and 1 pulls) but not together (3): nothing is written, atomic or not."""
    src_repo, dummy = source
    dest_a, dest_b = sync_repo + "/dest-a", sync_repo + "/dest-b"
    items = [dict(src="%s/%s" % (proxy.url, src_repo), dest=url(registries, "plain2", dest_a), tags=["a", "b"]),
             dict(src="%s/%s" % (proxy.url, src_repo), dest=url(registries, "plain2", dest_b), tags=["c"])]
    proxy.extra_headers = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "2;w=21600"}
    failed = run(registry_copy, capsys, images=items)
    assert failed["failed"] is True and failed["summary"]["failed"] == 2 and failed["summary"]["done"] == 0
    assert all("2 of 100 pulls left and this run needs at least 3" in image["msg"] for image in failed["images"])
    assert tags_at(skopeo, "plain2", dest_a) == [] and tags_at(skopeo, "plain2", dest_b) == []
    proxy.extra_headers = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "3;w=21600"}
    done = run(registry_copy, capsys, images=items)
    assert done["changed"] is True and done["summary"]["done"] == 2
    assert tags_at(skopeo, "plain2", dest_a) == ["a", "b"] and tags_at(skopeo, "plain2", dest_b) == ["c"]


def test_429_with_retry_after_is_honoured_and_the_copy_finishes(registries, skopeo, sync_repo, source, proxy, capsys):
    src_repo, pushed = source
    dest_repo = sync_repo + "/dest"
    proxy.add("respond", method="HEAD", path=r"/manifests/", status=429, headers={"Retry-After": "0"}, times=2)
    proxy.add("respond", method="GET", path=r"/blobs/", status=429, headers={"Retry-After": "0"}, times=1)
    result = run(registry_copy, capsys, src="%s/%s" % (proxy.url, src_repo), dest=url(registries, "plain2", dest_repo),
                 tags=["a"], max_requests_per_second=200)
    assert result["changed"] is True
    assert proxy.injected == 3
    assert skopeo.inspect_digest("plain2", dest_repo, "a") == pushed["a"].digest


def test_429_storm_fails_cleanly_with_nothing_half_tagged(registries, skopeo, sync_repo, source, proxy, capsys):
    src_repo, dummy = source
    dest_repo = sync_repo + "/dest"
    # Every blob read is refused: the retries give up within their bounded wait.
    proxy.add("respond", method="GET", path=r"/blobs/", status=429, headers={"Retry-After": "0"}, times=None,
              body=b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}')
    failed = run(registry_copy, capsys, src="%s/%s" % (proxy.url, src_repo), dest=url(registries, "plain2", dest_repo),
                 tags=["a", "b"])
    assert failed["failed"] is True
    assert "429" in failed["msg"] and "\n" not in failed["msg"]
    assert tags_at(skopeo, "plain2", dest_repo) == []


def test_max_requests_per_second_out_of_range_fails_before_any_request(capsys):
    result = run(registry_copy, capsys, src="http://127.0.0.1:9/hsync/src:a", dest="http://127.0.0.1:9/hsync/dest:a",
                 max_requests_per_second=0)
    assert result["failed"] is True
    assert "max_requests_per_second is 0; it must be between 1 and 10000" in result["msg"]


def test_images_entries_take_sync_options_and_report_requests_per_side(registries, skopeo, sync_repo, source, capsys):
    src_repo, dummy = source
    dest_a, dest_b = sync_repo + "/dest-a", sync_repo + "/dest-b"
    items = [dict(src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_a), tags=["a", "b"]),
             dict(src=url(registries, "plain", src_repo), dest=url(registries, "plain2", dest_b), tags=["c"],
                  prune=False)]
    run(registry_copy, capsys, images=items + [dict(src=url(registries, "plain", src_repo, "c"),
                                                    dest=url(registries, "plain2", dest_a, "stale"))])
    # Top-level prune applies to both entries; the second entry turns it off for itself.
    predicted = run(registry_copy, capsys, check_mode=True, diff=True, images=items, prune=True,
                    immutable_tags="^a$")
    result = run(registry_copy, capsys, images=items, prune=True, immutable_tags="^a$")
    assert [image["pruned_tags"] for image in result["images"]] == [["stale"], []]
    assert [image["pruned_tags"] for image in predicted["images"]] == [["stale"], []]
    assert result["images"][0]["skipped_tags"] == ["a"]
    assert "%s/%s:stale" % (host(registries, "plain2"), dest_a) in predicted["diff"]["before"]
    assert set(result["requests"]) == {"src", "dest"} and result["requests"]["dest"] > 0
    assert "requests" not in result["images"][0]
    assert tags_at(skopeo, "plain2", dest_a) == ["a", "b"]
