# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention plan: example cases plus a property test of the cleanup safety invariant.

The property test builds random repositories (images sharing layers, indexes, nested indexes,
several tags per digest, referrer tags, manifests the planner cannot see), applies the plan to a
model of a distribution registry (DELETE by digest removes the manifest and every tag on it;
untag removes one tag) and checks the invariant against the *true* graph, not the planner's.
"""

from __future__ import absolute_import, division, print_function

import hashlib

import hypothesis
import hypothesis.strategies as st
import pytest

from ansible_collections.oci.registry.plugins.module_utils._retention import (
    RetentionError,
    cleanup_report,
    parse_created,
    plain_inventory,
    plain_report_input,
    plan_cleanup,
    plan_repositories,
)
from ansible_collections.oci.registry.plugins.module_utils._shard import (
    ShardError,
    parse_shard,
    select_shard,
    shard_of,
)

given = hypothesis.given
settings = hypothesis.settings

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
NOW = "2024-06-01T00:00:00Z"
DAY = 86400


def digest(label):
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def image(name, layers, config_size=100):
    return {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest("config-" + name), "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest("layer-%s" % layer), "size": size} for layer, size in layers],
    }


def index(children):
    return {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": media_type, "digest": child, "size": 500}
                      for child, media_type in children],
    }


def entry(body):
    return {"manifest": body, "size": 500, "media_type": body["mediaType"]}


# --- examples -------------------------------------------------------------------------------

def test_default_keeps_latest_and_removes_everything_else():
    manifests = {digest("a"): entry(image("a", [("l1", 10)])),
                 digest("b"): entry(image("b", [("l1", 10), ("l2", 20)]))}
    tags = [{"tag": "latest", "digest": digest("a")}, {"tag": "1.0", "digest": digest("b")}]
    plan = plan_cleanup(tags, manifests, now=NOW)
    assert [k["tag"] for k in plan["kept"]] == ["latest"]
    assert plan["kept"][0]["reason"] == "keep_patterns: ^latest$"
    assert plan["removed"] == [{"tag": "1.0", "digest": digest("b"), "reason": "delete_patterns: ."}]
    assert plan["untag"] == ["1.0"] and plan["delete"] == []
    # l1 is shared with the kept image; only b's manifest, config and l2 go.
    assert plan["reclaimable_bytes"] == 500 + 100 + 20


def test_delete_mode_untags_a_tag_sharing_its_digest_with_a_kept_tag():
    manifests = {digest("a"): entry(image("a", [("l1", 10)]))}
    tags = {"latest": digest("a"), "old": digest("a")}
    plan = plan_cleanup(tags, manifests, mode="delete", now=NOW)
    assert plan["delete"] == []
    assert plan["untag"] == ["old"]
    assert plan["reclaimable_bytes"] == 0


def test_delete_mode_deletes_index_before_children_and_spares_shared_children():
    amd, arm, shared = digest("amd"), digest("arm"), digest("shared")
    idx_old, idx_new = digest("idx-old"), digest("idx-new")
    manifests = {
        amd: entry(image("amd", [("x", 1)])), arm: entry(image("arm", [("y", 2)])),
        shared: entry(image("shared", [("z", 3)])),
        idx_old: entry(index([(amd, OCI_MANIFEST), (arm, OCI_MANIFEST), (shared, OCI_MANIFEST)])),
        idx_new: entry(index([(shared, OCI_MANIFEST)])),
    }
    plan = plan_cleanup({"latest": idx_new, "1.0": idx_old}, manifests, mode="delete", now=NOW)
    assert plan["delete"][0] == idx_old
    assert set(plan["delete"]) == {idx_old, amd, arm}
    assert shared in plan["protected"]
    assert plan["untag"] == []


def test_keep_latest_ranks_by_created_and_missing_dates_rank_oldest():
    tags = [
        {"tag": "1.0", "digest": digest("1"), "created": "2024-01-01T00:00:00Z"},
        {"tag": "1.1", "digest": digest("2"), "created": "2024-02-01T00:00:00.123456789Z"},
        {"tag": "1.1-alias", "digest": digest("2"), "created": "2024-02-01T00:00:00Z"},
        {"tag": "nodate", "digest": digest("3"), "created": None},
        {"tag": "epoch", "digest": digest("4"), "created": "1970-01-01T00:00:00Z"},
        {"tag": "1.2", "digest": digest("5"), "created": "2024-03-01T02:00:00+02:00"},
    ]
    plan = plan_cleanup(tags, {}, keep_patterns=[], keep_latest=2, now=NOW)
    kept = {k["tag"]: k["reason"] for k in plan["kept"]}
    # Two images, three tags: an image with two tags takes one slot.
    assert kept == {"1.2": "keep_latest: newest 1 of 2", "1.1": "keep_latest: newest 2 of 2",
                    "1.1-alias": "keep_latest: newest 2 of 2"}
    assert sorted(r["tag"] for r in plan["removed"]) == ["1.0", "epoch", "nodate"]
    assert plan["removed"][0]["reason"] == "delete_patterns: ., not among the 2 newest"


def test_older_than_days_keeps_young_and_undated_images():
    tags = [
        {"tag": "old", "digest": digest("1"), "created": "2024-01-01T00:00:00Z"},
        {"tag": "young", "digest": digest("2"), "created": "2024-05-25T00:00:00Z"},
        {"tag": "undated", "digest": digest("3")},
    ]
    plan = plan_cleanup(tags, {}, older_than_days=30, now=NOW)
    kept = {k["tag"]: k["reason"] for k in plan["kept"]}
    assert kept["young"] == "older_than_days: 7.0 days old"
    assert kept["undated"] == "older_than_days: created date unknown"
    assert [r["tag"] for r in plan["removed"]] == ["old"]
    assert plan["removed"][0]["reason"] == "delete_patterns: ., 152.0 days old"


def test_delete_patterns_limit_candidates():
    tags = {"dev-1": digest("1"), "1.0": digest("2"), "latest": digest("3")}
    plan = plan_cleanup(tags, {}, delete_patterns=["^dev-"], now=NOW)
    assert [r["tag"] for r in plan["removed"]] == ["dev-1"]
    assert {k["tag"]: k["reason"] for k in plan["kept"]}["1.0"] == "not matched by delete_patterns"
    assert plan_cleanup(tags, {}, delete_patterns=[], now=NOW)["removed"] == []


def test_referrer_tags_follow_their_subject():
    kept_img, old_img, sig1, sig2 = digest("k"), digest("o"), digest("s1"), digest("s2")
    tags = {
        "latest": kept_img, "old": old_img,
        "sha256-%s.sig" % kept_img.split(":")[1]: sig1,
        "sha256-%s" % old_img.split(":")[1]: sig2,
        "sha256-%s.sig" % digest("gone").split(":")[1]: digest("s3"),
    }
    typed = [{"tag": tag, "digest": value, "media_type": OCI_MANIFEST} for tag, value in tags.items()]
    plan = plan_cleanup(typed, {}, now=NOW)
    kept = {k["tag"]: k["reason"] for k in plan["kept"]}
    removed = {r["tag"]: r["reason"] for r in plan["removed"]}
    assert kept["sha256-%s.sig" % kept_img.split(":")[1]] == "referrer of kept %s" % kept_img
    assert removed["sha256-%s" % old_img.split(":")[1]] == "referrer of removed %s" % old_img
    # A referrer of a manifest no tag uses is never ranked or aged as an image: kept unless delete_orphans.
    assert kept["sha256-%s.sig" % digest("gone").split(":")[1]].startswith("referrer of %s, which no tag" % digest("gone"))
    # Without media types the kept image may be an index listing old: its referrer index stays.
    untyped = plan_cleanup(tags, {}, now=NOW)
    assert [r["tag"] for r in untyped["removed"]] == ["old"]
    reason = {k["tag"]: k["reason"] for k in untyped["kept"]}["sha256-%s" % old_img.split(":")[1]]
    assert reason.startswith("referrer of %s, which kept index(es) " % old_img) and kept_img in reason


def sig_tag(subject, suffix=".sig"):
    return "sha256-%s%s" % (subject.split(":")[1], suffix)


def test_delete_orphans_removes_referrer_tags_whose_subject_is_gone_only():
    img, gone, untagged = digest("img"), digest("gone"), digest("untagged")
    sig_gone, idx_gone, sig_untagged, sig_img = digest("sg"), digest("ig"), digest("su"), digest("si")
    manifests = {
        img: entry(image("img", [("l", 1)])),
        sig_gone: entry(image("sg", [("sgl", 7)])), sig_untagged: entry(image("su", [])),
        sig_img: entry(image("si", [])),
        idx_gone: entry(index([(sig_gone, OCI_MANIFEST)])),
    }
    tags = {"latest": img, sig_tag(img): sig_img, sig_tag(gone): sig_gone, sig_tag(gone, ""): idx_gone,
            sig_tag(untagged): sig_untagged}
    asked = []

    def present(digests):
        asked.append(list(digests))
        return {untagged}

    plan = plan_cleanup(tags, manifests, now=NOW, mode="delete", delete_orphans=True, subjects_present=present)
    removed = {r["tag"]: r["reason"] for r in plan["removed"]}
    kept = {k["tag"]: k["reason"] for k in plan["kept"]}
    assert removed == {sig_tag(gone): "delete_orphans: its subject %s no longer exists" % gone,
                       sig_tag(gone, ""): "delete_orphans: its subject %s no longer exists" % gone}
    assert kept[sig_tag(untagged)] == "referrer of untagged %s, which still exists" % untagged
    assert kept[sig_tag(img)] == "referrer of kept %s" % img
    # Only the subjects no tag reaches are looked up, once each.
    assert asked == [sorted({gone, untagged})]
    # Delete mode: the orphan index goes before the signature manifest it lists.
    assert plan["delete"] == [idx_gone, sig_gone]
    assert plan["reclaimable_bytes"] == 500 + 500 + 100 + 7


def test_delete_orphans_needs_to_know_which_subjects_exist():
    with pytest.raises(RetentionError, match="delete_orphans needs to know which subjects still exist"):
        plan_cleanup({"latest": digest("a")}, {}, now=NOW, delete_orphans=True)
    with pytest.raises(RetentionError, match="keep_signed must be true or false"):
        plan_cleanup({"latest": digest("a")}, {}, now=NOW, keep_signed="yes")


def test_keep_signed_keeps_signed_images_whatever_their_rank_and_asks_only_about_those_at_risk():
    def img(name, day):
        return {"tag": name, "digest": digest(name), "created": "2024-05-%02dT00:00:00Z" % day,
                "media_type": OCI_MANIFEST}

    child, idx = digest("child"), digest("idx")
    manifests = dict((digest(n), entry(image(n, [(n, 1)]))) for n in ("new", "mid", "old", "older", "child"))
    manifests[idx] = entry(index([(child, OCI_MANIFEST)]))
    tags = [img("new", 20), img("mid", 10), img("old", 5), img("older", 2),
            {"tag": "multi", "digest": idx, "created": None, "media_type": OCI_INDEX}]
    asked = []

    def signatures(digests):
        asked.append(list(digests))
        return {digest("old"): "signature X verified by key K", child: "signed (tag scheme)"}

    plan = plan_cleanup(tags, manifests, keep_patterns=[], keep_latest=1, mode="delete", now=NOW,
                        keep_signed=True, signatures=signatures)
    kept = {k["tag"]: k["reason"] for k in plan["kept"]}
    removed = {r["tag"]: r["reason"] for r in plan["removed"]}
    assert kept == {"new": "keep_latest: newest 1 of 1",
                    "old": "keep_signed: signature X verified by key K",
                    "multi": "keep_signed: %s lists %s, signed (tag scheme)" % (idx, child)}
    assert set(removed) == {"mid", "older"}
    # Asked once, about what the other rules would remove (and what the index lists), not about "new".
    assert asked == [sorted({digest("mid"), digest("old"), digest("older"), idx, child})]
    assert digest("old") in plan["protected"] and child in plan["protected"]
    assert set(plan["delete"]) == {digest("mid"), digest("older")}


def test_keep_signed_takes_a_mapping_keeps_the_signature_with_the_image_and_needs_an_answer():
    signed, unsigned, sig = digest("signed"), digest("unsigned"), digest("sig")
    tags = {"1.0": signed, "0.9": unsigned, sig_tag(signed): sig}
    plan = plan_cleanup(tags, {}, keep_patterns=[], now=NOW, keep_signed=True,
                        signatures={signed: "cosign signature tag %s" % sig_tag(signed)})
    kept = {k["tag"]: k["reason"] for k in plan["kept"]}
    assert kept == {"1.0": "keep_signed: cosign signature tag %s" % sig_tag(signed),
                    sig_tag(signed): "referrer of kept %s" % signed}
    assert [r["tag"] for r in plan["removed"]] == ["0.9"]
    with pytest.raises(RetentionError, match="keep_signed needs to know which images are signed"):
        plan_cleanup(tags, {}, keep_patterns=[], now=NOW, keep_signed=True)


def test_delete_withheld_when_a_kept_index_cannot_be_inspected():
    idx, child = digest("idx"), digest("child")
    tags = [{"tag": "latest", "digest": idx, "media_type": OCI_INDEX},
            {"tag": "old", "digest": child, "media_type": OCI_MANIFEST}]
    plan = plan_cleanup(tags, {child: entry(image("child", []))}, mode="delete", now=NOW)
    assert plan["delete"] == []
    assert plan["untag"] == ["old"]
    assert "could not be inspected" in plan["warnings"][0]


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "purge"}, "mode must be one of"),
    ({"keep_patterns": ["("]}, "keep_patterns: invalid regular expression"),
    ({"keep_latest": -1}, "keep_latest must be 0 or more"),
    ({"older_than_days": "soon"}, "older_than_days must be a number"),
])
def test_invalid_options_are_reported(kwargs, message):
    with pytest.raises(RetentionError, match=message):
        plan_cleanup({"a": digest("a")}, {}, **kwargs)


@pytest.mark.parametrize("value, expected", [
    ("2024-01-01T00:00:00Z", 1704067200.0),
    ("2024-01-01T01:00:00+01:00", 1704067200.0),
    ("2024-01-01T00:00:00.5Z", 1704067200.5),
    ("2024-01-01 00:00:00", 1704067200.0),
    (1704067200, 1704067200.0),
    ("0001-01-01T00:00:00Z", None),
    ("1970-01-01T00:00:00Z", None),
    ("yesterday", None),
    (None, None),
])
def test_parse_created(value, expected):
    assert parse_created(value) == expected


# --- property test ----------------------------------------------------------------------------

@st.composite
def layouts(draw):
    """A random repository: (tags dict, true manifests, manifests visible to the planner)."""
    n_images = draw(st.integers(1, 7))
    layer_sizes = draw(st.lists(st.integers(1, 1000), min_size=1, max_size=6))
    manifests = {}
    images = []
    for i in range(n_images):
        layers = draw(st.lists(st.integers(0, len(layer_sizes) - 1), max_size=3, unique=True))
        body = image("img%d" % i, [("L%d" % j, layer_sizes[j]) for j in layers])
        manifests[digest("img%d" % i)] = entry(body)
        images.append(digest("img%d" % i))
    indexes = []
    for i in range(draw(st.integers(0, 3))):
        pool = images + indexes  # later indexes may nest earlier ones
        kids = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
        body = index([(k, manifests[k]["media_type"]) for k in kids])
        manifests[digest("idx%d" % i)] = entry(body)
        indexes.append(digest("idx%d" % i))
    tagged = images + indexes
    names = ["latest", "1.0", "1.1", "2.0", "dev-a", "dev-b", "stable", "v3"]
    tags = {}
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True)):
        tags[name] = draw(st.sampled_from(tagged))
    # Referrer tags (signatures) for some tagged digests; the signature is its own manifest.
    for subject in draw(st.lists(st.sampled_from(tagged), max_size=2, unique=True)):
        sig = digest("sig-" + subject)
        manifests[sig] = entry(image("sig-" + subject, []))
        tags["sha256-%s.sig" % subject.split(":")[1]] = sig
    # Orphans: signatures and referrer indexes whose subject no tag uses (gone, or still there untagged).
    for i in range(draw(st.integers(0, 2))):
        sig = digest("orphan-sig%d" % i)
        manifests[sig] = entry(image("orphan-sig%d" % i, [("L0", layer_sizes[0])]))
        tags[draw(st.sampled_from(["sha256-%s.sig", "sha256-%s.att", "sha256-%s"])) % digest("subject%d" % i)[7:]] = sig
    created = {d: draw(st.one_of(st.none(), st.integers(1, 200))) for d in manifests}
    # Hide mostly indexes: an index the planner cannot look into is where deletion can go wrong.
    hidden = draw(st.lists(st.sampled_from(indexes or images), max_size=2, unique=True))
    hidden += draw(st.lists(st.sampled_from(images), max_size=1))
    visible = {d: e for d, e in manifests.items() if d not in hidden}
    return tags, manifests, visible, created


def true_closure(manifests, roots):
    seen, stack = set(), list(roots)
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            if d in manifests:
                stack.extend(m["digest"] for m in manifests[d]["manifest"].get("manifests", []))
    return seen


def stored(manifests, digests):
    objects = {}
    for d in digests:
        objects[d] = manifests[d]["size"]
        body = manifests[d]["manifest"]
        for desc in [body.get("config")] + body.get("layers", []):
            if desc:
                objects[desc["digest"]] = desc["size"]
    return objects


def apply_plan(tags, manifests, plan):
    """Distribution semantics: untag removes one tag; DELETE by digest removes every tag on it."""
    reg_tags = dict(tags)
    reg_manifests = set(manifests)
    for tag in plan["untag"]:
        assert tag in reg_tags, "plan untags a tag that is not there: %s" % tag
        del reg_tags[tag]
    for d in plan["delete"]:
        assert d in reg_manifests, "plan deletes %s twice or a manifest that is not there" % d
        reg_manifests.discard(d)
        reg_tags = {t: v for t, v in reg_tags.items() if v != d}
    return reg_tags, reg_manifests


options = st.fixed_dictionaries({
    "keep_patterns": st.sampled_from([["^latest$"], [], ["^1\\."], ["^stable$", "^v"]]),
    "delete_patterns": st.sampled_from([None, [".*"], ["^dev-"], ["^1\\.", "^2"]]),
    "keep_latest": st.integers(0, 3),
    "older_than_days": st.one_of(st.none(), st.integers(0, 150)),
    "mode": st.sampled_from(["untag", "delete"]),
    "keep_signed": st.booleans(),
    "delete_orphans": st.booleans(),
})


@settings(max_examples=400, deadline=None)
@given(layout=layouts(), opts=options, signed_picks=st.sets(st.integers(0, 30), max_size=4),
       present_picks=st.sets(st.integers(0, 1)))
def test_cleanup_invariant(layout, opts, signed_picks, present_picks):
    tags, manifests, visible, created = layout
    tag_list = [{"tag": t, "digest": d, "media_type": manifests[d]["media_type"],
                 "created": None if created[d] is None else 1704067200 + created[d] * DAY}
                for t, d in tags.items()]
    ordered = sorted(manifests)
    signed = dict((ordered[i % len(ordered)], "signed") for i in signed_picks)
    present = set(digest("subject%d" % i) for i in present_picks)
    lookups = {}
    if opts["keep_signed"]:
        lookups["signatures"] = lambda digests: dict((d, signed[d]) for d in digests if d in signed)
    if opts["delete_orphans"]:
        lookups["subjects_present"] = lambda digests: [d for d in digests if d in present]
    plan = plan_cleanup(tag_list, visible, now=1704067200 + 220 * DAY, **dict(opts, **lookups))

    kept = {k["tag"]: k["digest"] for k in plan["kept"]}
    removed = {r["tag"]: r["digest"] for r in plan["removed"]}
    assert set(kept) | set(removed) == set(tags) and not set(kept) & set(removed)
    assert all(tags[t] == d for t, d in list(kept.items()) + list(removed.items()))

    reg_tags, reg_manifests = apply_plan(tags, manifests, plan)

    # The invariant, checked against the true graph (including manifests the planner never saw).
    must_survive = true_closure(manifests, kept.values())
    assert must_survive <= reg_manifests, "deleted a manifest a kept tag still needs"
    assert all(reg_tags.get(t) == d for t, d in kept.items()), "a kept tag stopped resolving"
    # The report matches the registry afterwards: exactly the kept tags remain.
    assert reg_tags == kept
    if opts["mode"] == "untag":
        assert plan["delete"] == [] and reg_manifests == set(manifests)

    # Parents before children, so no index ever lists a manifest already deleted (as far as the
    # planner can see: a hidden index's children are unknown to it).
    position = {d: i for i, d in enumerate(plan["delete"])}
    for d in plan["delete"]:
        for child in true_closure(visible, [d]) - {d} if d in visible else ():
            if child in position:
                assert position[child] > position[d]

    # Rules the report promises.
    for t in tags:
        if any(__import__("re").search(p, t) for p in opts["keep_patterns"]):
            assert t in kept and kept[t] == tags[t]
    latest_digests = {k["digest"] for k in plan["kept"] if k["reason"].startswith("keep_latest")}
    assert len(latest_digests) <= opts["keep_latest"]

    # Signatures: a signed image (or an index listing one, as far as the planner sees) is never removed;
    # a referrer tag goes with its subject, or as an orphan only when asked and its subject is gone.
    tagged_reach = true_closure(visible, [d for t, d in tags.items() if not t.startswith("sha256-")])
    for t, d in removed.items():
        if opts["keep_signed"] and not t.startswith("sha256-"):
            assert not true_closure(visible, [d]) & set(signed), "removed signed image %s" % t
        if t.startswith("sha256-"):
            subject = "sha256:" + t[7:71]
            if subject in tagged_reach:
                assert subject not in must_survive, "removed the referrer %s of a kept image" % t
            else:
                assert opts["delete_orphans"] and subject not in present, "removed the referrer %s of %s" % (t, subject)

    if len(visible) == len(manifests):
        # Full knowledge: reclaimable bytes equal what a GC of unreferenced objects would free,
        # and delete mode leaves nothing behind that only removed tags reached.
        before = stored(manifests, true_closure(manifests, tags.values()))
        after = stored(manifests, must_survive)
        assert plan["reclaimable_bytes"] == sum(s for d, s in before.items() if d not in after)
        if opts["mode"] == "delete":
            leftovers = true_closure(manifests, removed.values()) - must_survive
            assert not leftovers & reg_manifests
            assert plan["warnings"] == []


# --- the graph registry_tag_info returns, many repositories, shards -----------------------------

def compact(manifests):
    """The ``manifests`` graph of registry_tag_info's bulk result for the same manifests."""
    graph = {}
    for dig, item in manifests.items():
        body = item["manifest"]
        blobs = {}
        for desc in [body.get("config")] + list(body.get("layers") or []):
            if desc:
                blobs[desc["digest"]] = desc["size"]
        graph[dig] = {"media_type": item["media_type"], "size": item["size"], "blobs": blobs,
                      "children": [m["digest"] for m in body.get("manifests") or []],
                      "created": None, "platform": None}
    return graph


@settings(max_examples=200, deadline=None)
@given(layout=layouts(), opts=options)
def test_compact_graph_plans_like_the_manifests(layout, opts):
    tags, manifests, visible, created = layout
    # The bulk reader reads every child of an index it read (or fails the repository), so an index
    # it returns never has a child missing; children missing here would be sized from the index.
    hypothesis.assume(all(m["digest"] in visible for e in visible.values()
                          for m in e["manifest"].get("manifests") or []))
    tag_list = [{"tag": t, "digest": d, "media_type": manifests[d]["media_type"],
                 "created": None if created[d] is None else 1704067200 + created[d] * DAY}
                for t, d in tags.items()]
    now = 1704067200 + 220 * DAY
    opts = dict(opts, subjects_present={digest("subject0")}, signatures={digest("img0"): "signed"})
    assert plan_cleanup(tag_list, compact(visible), now=now, **opts) == \
        plan_cleanup(tag_list, visible, now=now, **opts)


def inventory_of(count):
    """``count`` repositories as registry_tag_info's bulk read returns them, plus a missing and a failed one."""
    repos = []
    for number in range(count):
        name = "team-%d/app-%03d" % (number % 7, number)
        a, b = digest(name + "a"), digest(name + "b")
        manifests = {a: entry(image(name + "a", [("shared", 10), (name, 5)])),
                     b: entry(image(name + "b", [("shared", 10)]))}
        details = [{"tag": "latest", "digest": a, "created": "2024-05-01T00:00:00Z"},
                   {"tag": "1.%d" % number, "digest": a, "created": "2024-05-01T00:00:00Z"},
                   {"tag": "0.%d" % number, "digest": b, "created": "2024-01-01T00:00:00Z"}]
        repos.append({"repository": name, "exists": True, "error": None, "tags": [d["tag"] for d in details],
                      "tag_details": details, "manifests": compact(manifests)})
    repos.append({"repository": "gone", "exists": False, "error": {"msg": "NAME_UNKNOWN", "status": 404},
                  "tags": []})
    repos.append({"repository": "broken", "exists": True, "error": {"msg": "boom", "status": 500}, "tags": []})
    return repos


def test_plan_repositories_plans_each_repository_and_lists_the_apply():
    plan = plan_repositories(inventory_of(3), mode="delete", now=NOW)
    by_name = dict((r["repository"], r) for r in plan["repositories"])
    first = by_name["team-0/app-000"]
    assert [k["tag"] for k in first["kept"]] == ["latest"]
    assert first["untag"] == ["1.0"] and first["delete"] == [digest("team-0/app-000b")]
    assert by_name["gone"]["exists"] is False and by_name["gone"]["error"] is None
    assert by_name["broken"]["error"] == {"msg": "boom", "status": 500}
    assert [a["repository"] for a in plan["apply"]] == ["team-0/app-000", "team-1/app-001", "team-2/app-002"]
    assert plan["apply"][0] == {
        "repository": "team-0/app-000",
        "tags": [{"tag": "0.0", "digest": digest("team-0/app-000b")}, {"tag": "1.0", "digest": digest("team-0/app-000a")}],
        # With the media type read, so that registry_delete needs no HEAD to know it.
        "digests": [{"digest": digest("team-0/app-000b"), "media_type": OCI_MANIFEST}]}


def test_cleanup_report_drops_refused_items_and_counts():
    plan = plan_repositories(inventory_of(2), mode="delete", now=NOW)
    refused_digest = digest("team-1/app-001b")
    applied = {"repositories": [
        {"repository": "team-0/app-000", "changed": True, "refused": [], "error": None},
        {"repository": "team-1/app-001", "changed": True, "error": None,
         "refused": [{"digest": refused_digest, "reason": "tag release, which the plan keeps, now points to it"},
                     {"tag": "1.1", "digest": digest("x"), "reason": "moved"}]}]}
    report = cleanup_report(plan, applied, mode="delete")
    by_name = dict((r["repository"], r) for r in report["repositories"])
    assert by_name["team-1/app-001"]["deleted"] == []
    assert [r["tag"] for r in by_name["team-1/app-001"]["removed"]] == ["0.1"]
    assert by_name["team-0/app-000"]["changed"] is True and by_name["gone"]["changed"] is False
    assert report["removed_tags"] == 3 and report["deleted_manifests"] == 1
    assert report["failed_repositories"] == ["broken"]
    assert report["applied"] is True
    dry = cleanup_report(plan, None, mode="delete", dry_run=True)
    assert dry["applied"] is False and dry["removed_tags"] == 4 and dry["deleted_manifests"] == 2
    assert not [r for r in dry["repositories"] if r["changed"]]


def test_the_filters_convert_only_what_they_read_and_plan_the_same():
    inventory = inventory_of(4)
    for repo in inventory:
        # What registry_tag_info returns besides: for people, not for the planner.
        repo.update(referrers={}, size=1234)
        for detail in repo.get("tag_details") or []:
            detail.update(platforms=["linux/amd64"], size=99, media_type=OCI_MANIFEST)
        for manifest in (repo.get("manifests") or {}).values():
            manifest.update(created="2024-01-01T00:00:00Z", platform="linux/amd64")
    slim = plain_inventory(inventory)
    assert "platforms" not in slim[0]["tag_details"][0] and "referrers" not in slim[0]
    assert plan_repositories(slim, mode="delete", now=NOW) == plan_repositories(inventory, mode="delete", now=NOW)
    plan = plan_repositories(inventory, mode="delete", now=NOW)
    applied = {"changed": True, "failed_repositories": [], "repositories": [
        {"repository": "team-0/app-000", "changed": True, "error": None, "absent": [], "deleted": ["x"],
         "removed_tags": [{"tag": "0.0", "digest": "x", "via": "manifest"}],
         "refused": [{"tag": "1.0", "digest": digest("x"), "reason": "moved"}]}]}
    expected = cleanup_report(plan, applied, mode="delete")
    assert cleanup_report(*plain_report_input(plan, applied), mode="delete") == expected
    assert plain_report_input(plan, {}) == ({"repositories": [
        dict((k, v) for k, v in entry.items() if k != "untag") for entry in plan["repositories"]]},
        {"repositories": []})


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_shards_together_plan_exactly_what_one_run_plans(count):
    inventory = inventory_of(60)
    names = [r["repository"] for r in inventory]
    whole = plan_repositories(inventory, mode="delete", keep_latest=1, now=NOW)
    parts = []
    seen = []
    for index in range(count):
        mine = set(select_shard(names, {"index": index, "count": count}))
        seen.extend(mine)
        parts.append(plan_repositories([r for r in inventory if r["repository"] in mine],
                                       mode="delete", keep_latest=1, now=NOW))
    assert sorted(seen) == sorted(names), "every repository in exactly one shard"

    def key(item):
        return item["repository"]

    assert sorted((r for p in parts for r in p["repositories"]), key=key) == sorted(whole["repositories"], key=key)
    assert sorted((a for p in parts for a in p["apply"]), key=key) == sorted(whole["apply"], key=key)
    if count == 8:
        assert all(p["repositories"] for p in parts), "60 names fill 8 shards"


def test_shard_hash_is_stable():
    # Pinned: a change here re-shuffles every AWX slice and the mirror role's shards.
    assert [shard_of("team/app", 8), shard_of("library/nginx", 8), shard_of("a", 1000)] == [
        int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % mod
        for name, mod in (("team/app", 8), ("library/nginx", 8), ("a", 1000))]
    assert shard_of("team/app", 1) == 0
    assert parse_shard(None) == (0, 1) and parse_shard({}) == (0, 1)


@pytest.mark.parametrize("shard", [{"index": 2, "count": 2}, {"index": -1, "count": 2}, {"count": 0},
                                   {"index": "x", "count": 2}, {"slice": 1}, [0, 2]])
def test_bad_shard_is_refused(shard):
    with pytest.raises(ShardError):
        parse_shard(shard)
