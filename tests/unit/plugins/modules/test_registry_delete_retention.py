# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_delete with ``retention`` (read, plan, apply, report in one run; module_utils/_cleanup) against a
real registry, skopeo as the witness, and the filters' path (registry_tag_info, cleanup_plan, registry_delete,
cleanup_report) as the reference for the report."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization

# The cleanup_plan and cleanup_report filters' logic (module tests may not import controller code).
from ansible_collections.oci.registry.plugins.module_utils._retention import cleanup_report
from ansible_collections.oci.registry.plugins.module_utils._retention import plan_repositories as cleanup_plan
from ansible_collections.oci.registry.plugins.module_utils._cleanup import clean
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._signature import load_private_key, sign_image
from ansible_collections.oci.registry.plugins.modules import registry_delete, registry_tag_info
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

WRITES = ("DELETE", "PUT", "POST", "PATCH")


def _seed(registries, repository):
    """latest and old-x on x (old-x is untagged), old-y on y (deleted with its manifest), old-z on z (deleted)."""
    x = images.push_oci_image(registries, "plain", repository, "latest", seed="retention-x")
    images.tag_manifest(registries, "plain", repository, x, ["old-x"])
    y = images.push_oci_image(registries, "plain", repository, "old-y", seed="retention-y")
    z = images.push_oci_image(registries, "plain", repository, "old-z", seed="retention-z")
    return x, y, z


def _writes(proxy):
    return sum(proxy.count(method) for method in WRITES)


def test_one_run_reports_what_the_filters_path_reports(registries, skopeo, unique_repo, capsys):
    """Same registry state twice: the filters' path in check mode, then one retention run in check mode, a dry
    run and a real run; the reports agree with each other and with what the registry holds afterwards."""
    x, y, z = _seed(registries, unique_repo)
    other = unique_repo + "-gone"  # never pushed: planned as a repository that does not exist
    url = registries["registries"]["plain"]["url"]
    options = dict(keep_patterns=["^latest$"], mode="delete")
    with FaultProxy(url) as proxy:
        read = run(registry_tag_info, capsys, registry_url=proxy.url, repositories=[unique_repo, other],
                   include_details=True, compact_details=True)
        plan = cleanup_plan(read["repositories"], **options)
        applied = run(registry_delete, capsys, check_mode=True, registry_url=proxy.url, repositories=plan["apply"])
        reference = cleanup_report(plan, applied, mode="delete", check_mode=True)
        retention = dict(options, repositories=[unique_repo, other])
        predicted = run(registry_delete, capsys, check_mode=True, diff=True, registry_url=proxy.url,
                        retention=retention)
        dry = run(registry_delete, capsys, registry_url=proxy.url, retention=dict(retention, dry_run=True))
        assert _writes(proxy) == 0
        assert sorted(skopeo.list_tags("plain", unique_repo)) == ["latest", "old-x", "old-y", "old-z"]
        real = run(registry_delete, capsys, diff=True, registry_url=proxy.url, retention=retention)
        writes = _writes(proxy)
        again = run(registry_delete, capsys, registry_url=proxy.url, retention=retention)
        assert _writes(proxy) == writes
    assert predicted["report"] == reference
    assert predicted["changed"] is True and real["changed"] is True and dry["changed"] is False
    assert dry["report"] == dict(reference, check_mode=False, dry_run=True, repositories=[
        dict(entry, changed=False) for entry in reference["repositories"]])
    assert real["report"] == dict(reference, check_mode=False, applied=True)
    report = real["report"]["repositories"][0]
    assert [item["tag"] for item in report["kept"]] == ["latest"]
    assert [item["tag"] for item in report["removed"]] == ["old-x", "old-y", "old-z"]
    assert sorted(report["deleted"]) == sorted([y.digest, z.digest])
    assert real["report"]["repositories"][1]["exists"] is False
    assert real["report"]["deleted_manifests"] == 2 and real["report"]["removed_tags"] == 3
    assert predicted["diff"] == real["diff"]
    assert real["diff"]["before"][unique_repo]["tags"] == {"old-x": x.digest, "old-y": y.digest, "old-z": z.digest}
    assert again["changed"] is False and again["report"]["removed_tags"] == 0
    assert skopeo.list_tags("plain", unique_repo) == ["latest"]
    assert skopeo.inspect_digest("plain", unique_repo, "latest") == x.digest


def test_repository_pattern_reads_the_catalog(registries, skopeo, unique_repo, capsys):
    for name in ("a", "b"):
        x = images.push_oci_image(registries, "plain", "%s/%s" % (unique_repo, name), "latest",
                                  seed="retention-x", created="2024-05-01T00:00:00Z")
        images.push_oci_image(registries, "plain", "%s/%s" % (unique_repo, name), "old",
                              seed="retention-y", created="2024-01-01T00:00:00Z")
        images.push_oci_image(registries, "plain", "%s/%s" % (unique_repo, name), "new",
                              seed="retention-z", created="2024-03-01T00:00:00Z")
    url = registries["registries"]["plain"]["url"]
    result = run(registry_delete, capsys, registry_url=url,
                 retention=dict(repository_pattern="^%s/" % unique_repo, keep_latest=1))
    names = [entry["repository"] for entry in result["report"]["repositories"]]
    assert names == [unique_repo + "/a", unique_repo + "/b"]
    for entry in result["report"]["repositories"]:
        assert [(item["tag"], item["reason"]) for item in entry["kept"]] == [
            ("latest", "keep_patterns: ^latest$"), ("new", "keep_latest: newest 1 of 1")]
        assert [item["tag"] for item in entry["removed"]] == ["old"]
        assert sorted(skopeo.list_tags("plain", entry["repository"])) == ["latest", "new"]
        assert skopeo.inspect_digest("plain", entry["repository"], "latest") == x.digest
    assert result["report"]["mode"] == "untag" and result["report"]["deleted_manifests"] == 0


def test_bad_retention_options_fail_before_any_request(registries, capsys):
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        bad_keep = run(registry_delete, capsys, registry_url=proxy.url,
                       retention=dict(repositories=["hscl/none"], keep_patterns=["("]))
        bad_pattern = run(registry_delete, capsys, registry_url=proxy.url, retention=dict(repository_pattern="("))
        both = run(registry_delete, capsys, registry_url=proxy.url, retention=dict(repositories=["hscl/none"]),
                   repositories=[{"repository": "hscl/none"}])
        assert proxy.count() == 0
    assert bad_keep["failed"] is True and bad_keep["msg"].startswith("retention: keep_patterns: invalid regular")
    assert bad_pattern["failed"] is True and "repository_pattern '(' is not a valid regular" in bad_pattern["msg"]
    assert both["failed"] is True and "mutually exclusive" in both["msg"]
    for result in (bad_keep, bad_pattern, both):
        assert "\n" not in result["msg"]


def test_a_failing_repository_is_reported_and_fails_the_run(registries, skopeo, unique_repo, capsys):
    _seed(registries, unique_repo)
    broken = unique_repo + "-broken"
    images.push_oci_image(registries, "plain", broken, "old", seed="retention-x")
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        proxy.add("respond", method="GET", path=r"^/v2/%s/tags/list" % broken, status=500, times=None)
        result = run(registry_delete, capsys, registry_url=proxy.url, retries=0,
                     retention=dict(repositories=[broken, unique_repo], mode="delete"))
    assert result["failed"] is True
    assert result["msg"].startswith("1 of 2 repositories failed, first %s:" % broken)
    assert result["failed_repositories"] == [broken] == result["report"]["failed_repositories"]
    assert result["report"]["repositories"][1]["changed"] is True
    assert skopeo.list_tags("plain", unique_repo) == ["latest"]
    assert skopeo.list_tags("plain", broken) == ["old"]


def test_tag_created_during_the_run_keeps_its_manifest(registries, skopeo, unique_repo):
    """The race guarantee through the one-run path: the first DELETE stalls, a release is tagged meanwhile on a
    manifest the plan deletes; it keeps its image and the report lists the refusal."""
    x, y, z = _seed(registries, unique_repo)
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        stall = proxy.add("stall", method="DELETE", seconds=4)
        client = RegistryClient(proxy.url, retries=0)
        outcome = {}
        worker = threading.Thread(target=lambda: outcome.update(result=clean(
            client, {"repositories": [unique_repo], "mode": "delete"})))
        worker.start()
        deadline = time.monotonic() + 60
        while stall.hits == 0 and worker.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stall.hits == 1, "the run never sent a DELETE"
        # The stalled DELETE untags old-x; a release is tagged meanwhile from y, which the plan deletes.
        target = y
        skopeo.copy(skopeo.reference("plain", unique_repo, target.digest),
                    skopeo.reference("plain", unique_repo, "release-1"), src_variant="plain", dest_variant="plain")
        worker.join(90)
        client.close()
    report = outcome["result"].result["report"]["repositories"][0]
    assert report["error"] is None
    assert skopeo.inspect_digest("plain", unique_repo, "release-1") == target.digest
    assert target.digest not in report["deleted"]
    assert [item["digest"] for item in report["refused"] if "tag" not in item] == [target.digest]
    assert "release-1" in [item["reason"] for item in report["refused"]][0]
    assert skopeo.inspect_digest("plain", unique_repo, "latest") == x.digest
    assert sorted(skopeo.list_tags("plain", unique_repo)) == ["latest", "release-1"]
    assert z.digest in report["deleted"]


def test_a_small_repository_read_just_now_is_not_read_again(registries, skopeo, unique_repo, capsys):
    """Up to SMALL_BATCH tags, the read that planned a repository is the apply's read before writing: one tag
    listing, no HEAD, the manifest DELETEs. A bigger repository is listed again (and its kept tags HEADed) just
    before the apply writes there, and listed after the deletes (its doomed tags were not read one by one)."""
    x = images.push_oci_image(registries, "plain", unique_repo, "latest", seed="retention-x")
    y = images.push_oci_image(registries, "plain", unique_repo, "old-y", seed="retention-y")
    z = images.push_oci_image(registries, "plain", unique_repo, "old-z", seed="retention-z")
    big = unique_repo + "-big"
    images.push_oci_image(registries, "plain", big, "latest", seed="retention-x")
    old = images.push_oci_image(registries, "plain", big, "old", seed="retention-y")
    images.tag_manifest(registries, "plain", big, old, ["old-1", "old-2", "old-3", "old-4"])
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        result = run(registry_delete, capsys, registry_url=proxy.url,
                     retention=dict(repositories=[unique_repo, big], mode="delete"))
        small = [(method, path.rsplit("/", 1)[-1]) for method, path, dummy in proxy.requests
                 if path.startswith("/v2/%s/" % unique_repo) and "/blobs/" not in path]
        big_lists = proxy.count("GET", r"^/v2/%s/tags/list" % big)
        big_heads = proxy.count("HEAD", r"^/v2/%s/manifests/latest" % big)
    assert sorted(small) == sorted([("GET", "list"), ("GET", "latest"), ("GET", "old-y"), ("GET", "old-z"),
                                    ("DELETE", y.digest), ("DELETE", z.digest)])
    assert (big_lists, big_heads) == (3, 1)
    assert result["report"]["deleted_manifests"] == 3 and result["report"]["removed_tags"] == 7
    assert skopeo.list_tags("plain", unique_repo) == ["latest"] == skopeo.list_tags("plain", big)
    assert skopeo.inspect_digest("plain", unique_repo, "latest") == x.digest


FIXTURE_KEYS = Path(__file__).parents[1] / "module_utils" / "fixtures" / "cosign"


def _public_pem(path):
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_keep_signed_and_delete_orphans_against_a_real_registry(registries, skopeo, unique_repo, capsys):
    """Signed by the trusted key: kept whatever the rules say. Signed by another key: removed with its
    signature. A signature whose image was deleted (another tool's leftovers): removed with delete_orphans;
    one whose image is untagged but still there: kept. Check mode predicts the real run; a re-run is a no-op."""
    trusted = load_private_key(str(FIXTURE_KEYS / "pkcs8-ec-p256.key"))
    other = load_private_key(str(FIXTURE_KEYS / "pkcs8-ed25519.key"))
    latest = images.push_oci_image(registries, "plain", unique_repo, "latest", seed="ks-latest")
    release = images.push_oci_image(registries, "plain", unique_repo, "1.0", seed="ks-release")
    foreign = images.push_oci_image(registries, "plain", unique_repo, "1.1", seed="ks-foreign")
    unsigned = images.push_oci_image(registries, "plain", unique_repo, "1.2", seed="ks-unsigned")
    gone = images.push_oci_image(registries, "plain", unique_repo, "gone", seed="ks-gone")
    moved = images.push_oci_image(registries, "plain", unique_repo, "nightly", seed="ks-moved-1")
    url = registries["registries"]["plain"]["url"]
    with RegistryClient(url) as c:
        def sign(image, key, scheme="tag"):
            return sign_image(c, unique_repo, c.manifests.head_manifest(unique_repo, image.digest), key, scheme=scheme)
        sign(release, trusted)
        sign(foreign, other, scheme="referrer")
        sign(gone, trusted)
        sign(moved, trusted)
        c.manifests.delete_manifest(unique_repo, gone.digest)
    images.push_oci_image(registries, "plain", unique_repo, "nightly", seed="ks-moved-2")  # moved: untagged, kept
    sig = {name: "sha256-%s.sig" % image.digest.split(":")[1]
           for name, image in (("release", release), ("gone", gone), ("moved", moved))}
    fallback = "sha256-%s" % foreign.digest.split(":")[1]
    seeded = {"latest", "1.0", "1.1", "1.2", "nightly", fallback, sig["release"], sig["gone"], sig["moved"]}
    assert set(skopeo.list_tags("plain", unique_repo)) == seeded
    retention = dict(repositories=[unique_repo], keep_patterns=["^latest$"], mode="delete", keep_signed=True,
                     verify_keys=[_public_pem(FIXTURE_KEYS / "pkcs8-ec-p256.key")], delete_orphans=True)
    predicted = run(registry_delete, capsys, check_mode=True, registry_url=url, retention=retention)
    real = run(registry_delete, capsys, registry_url=url, retention=retention)
    again = run(registry_delete, capsys, registry_url=url, retention=retention)

    assert predicted["report"] == dict(real["report"], check_mode=True, applied=False)
    report = real["report"]["repositories"][0]
    kept = {item["tag"]: item["reason"] for item in report["kept"]}
    removed = {item["tag"]: item["reason"] for item in report["removed"]}
    assert kept["1.0"].startswith("keep_signed: signature sha256:") and trusted.fingerprint in kept["1.0"]
    assert kept[sig["release"]] == "referrer of kept %s" % release.digest
    assert kept[sig["moved"]] == "referrer of untagged %s, which still exists" % moved.digest
    assert set(kept) == {"latest", "1.0", sig["release"], sig["moved"]}
    assert removed[sig["gone"]] == "delete_orphans: its subject %s no longer exists" % gone.digest
    assert removed[fallback] == "referrer of removed %s" % foreign.digest
    assert set(removed) == {"1.1", "1.2", "nightly", fallback, sig["gone"]}
    assert foreign.digest in report["deleted"] and unsigned.digest in report["deleted"]
    assert release.digest not in report["deleted"]
    assert real["changed"] is True and again["changed"] is False
    assert set(skopeo.list_tags("plain", unique_repo)) == {"latest", "1.0", sig["release"], sig["moved"]}
    assert skopeo.inspect_digest("plain", unique_repo, "1.0") == release.digest
    assert skopeo.inspect_digest("plain", unique_repo, "latest") == latest.digest


def test_verify_keys_without_keep_signed_and_bad_keys_fail_before_any_request(registries, capsys):
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        lonely = run(registry_delete, capsys, registry_url=proxy.url,
                     retention=dict(repositories=["hscl/none"], verify_keys=[_public_pem(FIXTURE_KEYS / "pkcs8-ec-p256.key")]))
        not_a_key = run(registry_delete, capsys, registry_url=proxy.url,
                        retention=dict(repositories=["hscl/none"], keep_signed=True, verify_keys=["not a key"]))
        assert proxy.count() == 0
    assert lonely["failed"] is True and lonely["msg"].startswith("retention: verify_keys is only used with keep_signed")
    assert not_a_key["failed"] is True and "public key is neither PEM text nor an existing file" in not_a_key["msg"]
    assert "\n" not in lonely["msg"] and "\n" not in not_a_key["msg"]
