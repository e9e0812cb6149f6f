# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Retention planning for the ``oci.registry.cleanup`` role.

Pure Python (no Ansible, no network): the role gathers tags and manifests with the info modules,
this module decides what to keep and what to remove, and the role applies the plan. Keeping the
decision here makes the safety invariant testable without a registry:

    a digest referenced by a kept tag - directly, or as a child of a kept index, at any depth -
    is never deleted, and no kept tag stops resolving.

Input shapes (what ``registry_tag_info``/``registry_manifest_info`` return):

``tags``: list of ``{"tag": str, "digest": str, "created": str|None, "media_type": str|None}``
(``tag_details``) or a mapping ``tag -> digest``.

``manifests``: mapping ``digest -> entry`` where ``entry`` is either the manifest JSON (dict) or
``{"manifest": <manifest JSON>, "size": int, "media_type": str}``. Digests missing from the
mapping are treated as leaves of unknown size, except that an index we cannot look into blocks
manifest deletion for the repository (its children are unknown, so they could be shared).
"""

from __future__ import absolute_import, division, print_function

import calendar
import re
import time

from ansible_collections.oci.registry.plugins.module_utils._media import INDEX_TYPES
from ansible_collections.oci.registry.plugins.module_utils._reference import referrer_subject

__metaclass__ = type  # pylint: disable=invalid-name


MODES = ("untag", "delete")
DEFAULT_KEEP_PATTERNS = ("^latest$",)

_RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)


class RetentionError(ValueError):
    """Invalid retention input (bad pattern, mode, or tag list)."""


def parse_created(value):
    """Return seconds since the epoch for an image ``created`` value, or None when unknown.

    Unknown means missing, unparsable, or at/before 1970-01-01T00:00:00Z: reproducible builds
    (SOURCE_DATE_EPOCH=0, ko, bazel, nix) and Go's zero time (``0001-01-01``) both mean
    "no date", and ranking them as real dates would make them look like the oldest images on
    purpose rather than by accident.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif hasattr(value, "timetuple") and hasattr(value, "utcoffset"):
        offset = value.utcoffset()
        seconds = calendar.timegm(value.timetuple()) + getattr(value, "microsecond", 0) / 1e6
        if offset is not None:
            seconds -= offset.total_seconds()
    else:
        match = _RFC3339_RE.match(str(value).strip())
        if not match:
            return None
        (year, month, day, hour, minute, second, fraction, _zulu, sign, off_h, off_m) = match.groups()
        try:
            fields = (int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0)
            seconds = float(calendar.timegm(fields))
        except (ValueError, OverflowError):
            return None
        if fraction:
            seconds += float("0." + fraction)
        if sign:
            delta = int(off_h) * 3600 + int(off_m) * 60
            seconds = seconds - delta if sign == "+" else seconds + delta
    if seconds <= 0:
        return None
    return seconds


def _compile(patterns, name):
    compiled = []
    for pattern in patterns or []:
        try:
            compiled.append((pattern, re.compile(pattern)))
        except re.error as exc:
            raise RetentionError("%s: invalid regular expression %r: %s" % (name, pattern, exc))
    return compiled


def _first_match(compiled, tag):
    for pattern, regex in compiled:
        if regex.search(tag):
            return pattern
    return None


def _normalise_tags(tags):
    if isinstance(tags, dict):
        tags = [{"tag": tag, "digest": digest} for tag, digest in tags.items()]
    result = {}
    for item in tags or []:
        if not isinstance(item, dict) or not item.get("tag") or not item.get("digest"):
            raise RetentionError("each tag needs 'tag' and 'digest', got %r" % (item,))
        result[item["tag"]] = {
            "tag": item["tag"],
            "digest": item["digest"],
            "created": parse_created(item.get("created")),
            "media_type": item.get("media_type"),
        }
    return result


class _Graph:
    """Manifest graph of one repository: children (index -> manifests) and blob sizes."""

    def __init__(self, manifests, tags):
        self.children = {}
        self.blobs = {}       # manifest digest -> {blob digest: size}
        self.known = set()    # digests whose content we have
        self.media_type = {}  # best knowledge of each digest's media type
        self.size = {}        # manifest sizes (the manifest is a blob in the registry's storage)
        for info in tags.values():
            if info.get("media_type"):
                self.media_type.setdefault(info["digest"], info["media_type"])
        for digest, entry in (manifests or {}).items():
            if not isinstance(entry, dict):
                continue
            body = entry.get("manifest") if isinstance(entry.get("manifest"), dict) else entry
            media_type = entry.get("media_type") or body.get("mediaType")
            if media_type:
                self.media_type[digest] = media_type
            if isinstance(entry.get("size"), int):
                self.size[digest] = entry["size"]
            self.known.add(digest)
            if "manifest" not in entry and isinstance(entry.get("children"), list):
                # The graph registry_tag_info returns: children and blob sizes already extracted.
                self.children[digest] = [child for child in entry["children"] if child]
                self.blobs[digest] = dict(entry.get("blobs") or {})
                continue
            kids = []
            for desc in body.get("manifests") or []:
                if isinstance(desc, dict) and desc.get("digest"):
                    kids.append(desc["digest"])
                    if desc.get("mediaType"):
                        self.media_type.setdefault(desc["digest"], desc["mediaType"])
                    if isinstance(desc.get("size"), int):
                        self.size.setdefault(desc["digest"], desc["size"])
            self.children[digest] = kids
            blobs = {}
            for desc in [body.get("config")] + list(body.get("layers") or []):
                if isinstance(desc, dict) and desc.get("digest"):
                    blobs[desc["digest"]] = desc["size"] if isinstance(desc.get("size"), int) else 0
            for layer in body.get("fsLayers") or []:  # schema1: no sizes
                if isinstance(layer, dict) and layer.get("blobSum"):
                    blobs.setdefault(layer["blobSum"], 0)
            self.blobs[digest] = blobs

    def closure(self, roots):
        seen = set()
        stack = list(roots)
        while stack:
            digest = stack.pop()
            if digest in seen:
                continue
            seen.add(digest)
            stack.extend(self.children.get(digest, ()))
        return seen

    def opaque_indexes(self, digests):
        """Digests that are (or may be) indexes but whose content we do not have."""
        opaque = []
        for digest in digests:
            if digest in self.known:
                continue
            media_type = self.media_type.get(digest)
            if media_type is None or media_type in INDEX_TYPES:
                opaque.append(digest)
        return sorted(opaque)

    def storage(self, digests):
        """{stored object digest: size} for the manifests and the blobs they reference."""
        objects = {}
        for digest in digests:
            objects[digest] = self.size.get(digest, 0)
            objects.update(self.blobs.get(digest, {}))
        return objects

    def parents_first(self, digests):
        """Order digests so that every index comes before the manifests it lists."""
        ordered = []
        done = set()
        wanted = set(digests)

        def visit(digest, path):
            # Post-order on children, reversed at the end, gives parents before children.
            if digest in done or digest in path:
                return
            path.add(digest)
            for child in self.children.get(digest, ()):
                if child in wanted:
                    visit(child, path)
            path.discard(digest)
            done.add(digest)
            ordered.append(digest)

        for digest in sorted(wanted):
            visit(digest, set())
        ordered.reverse()
        return ordered


def plan_cleanup(tags, manifests=None, keep_patterns=DEFAULT_KEEP_PATTERNS, delete_patterns=None,
                 keep_latest=0, older_than_days=None, mode="untag", now=None, repository=None,
                 keep_signed=False, signatures=None, delete_orphans=False, subjects_present=None):
    """Decide which tags to keep and what to remove in one repository.

    Rules, first match wins for each tag:

    1. matches a ``keep_patterns`` regex -> kept;
    2. a referrer tag (``sha256-<hex>[.suffix]``: the OCI fallback index, cosign's ``.sig``, ``.att``,
       ``.sbom``) follows its subject: kept if the subject stays referenced, removed otherwise. A
       referrer tag whose subject no tag here reaches is kept, unless ``delete_orphans`` is set and
       the subject no longer exists (``subjects_present`` says which do): then it is removed;
    3. matches no ``delete_patterns`` regex (default: every tag matches) -> kept;
    4. ``keep_signed`` and the image, or a manifest its index lists, is signed -> kept;
    5. its image is among the ``keep_latest`` newest distinct digests of the tags left after 1-4,
       newest by config ``created``; images without a usable date rank as the oldest, ties go to
       the higher tag name -> kept;
    6. ``older_than_days`` set and the image is younger, or its date is unknown -> kept;
    7. otherwise removed.

    ``signatures`` (with ``keep_signed``): a mapping ``digest -> why it counts as signed``, or a
    function taking a list of digests and returning that mapping for those that are signed. It is
    asked only about the digests rules 5-7 would otherwise remove, so a caller that has to read
    or verify signatures does so for those images only. ``subjects_present`` (with
    ``delete_orphans``): the digests that exist, or a function taking a list of digests and
    returning those of them that exist. Both need registry reads, so the caller answers them.

    ``mode=untag`` removes the tags only. ``mode=delete`` also deletes every manifest the removed
    tags reach (index children included) that no kept tag reaches; tags that share a digest with
    a kept tag are untagged one by one instead. Deletion is withheld for the whole repository
    when a kept index could not be inspected, because its children are unknown.

    Returns a dict: ``repository``, ``mode``, ``kept`` and ``removed`` (lists of ``{tag, digest,
    reason}`` sorted by tag), ``untag`` (tags to remove one by one), ``delete`` (manifest digests
    to delete, indexes before their children), ``protected`` (digests that must survive),
    ``reclaimable_bytes`` (manifests and blobs reachable from the tags before and not after,
    counted once - what a garbage collection that also removes untagged manifests reclaims in
    this repository), ``warnings``.
    """
    options = _options(mode, keep_latest, older_than_days, now, keep_patterns, delete_patterns,
                       keep_signed, delete_orphans)
    if options["delete_orphans"] and subjects_present is None:
        raise RetentionError("delete_orphans needs to know which subjects still exist: use the cleanup role or "
                             "registry_delete's retention, which ask the registry")
    if options["keep_signed"] and signatures is None:
        raise RetentionError("keep_signed needs to know which images are signed: use the cleanup role or "
                             "registry_delete's retention, which read (and verify) the signatures")
    tag_info = _normalise_tags(tags)
    graph = _Graph(manifests, tag_info)
    all_digests = set(info["digest"] for info in tag_info.values())

    decision, pending, matched, referrers, orphans = _classify(tag_info, graph.closure(all_digests), options)
    _orphans(orphans, decision, options["delete_orphans"], subjects_present)
    if options["keep_signed"]:
        pending = _keep_signed(tag_info, pending, matched, decision, options, graph, signatures)
    pending = _keep_latest(tag_info, pending, decision, options["keep_latest"])
    _by_age(tag_info, pending, matched, decision, options)
    protected = _follow_referrers(tag_info, referrers, decision, graph)
    kept, removed = _split(tag_info, decision)
    delete, warnings = _deletions(graph, removed, protected, mode)
    deleted = set(delete)

    before = graph.storage(graph.closure(all_digests))
    after = graph.storage(protected)
    return {
        "repository": repository,
        "mode": mode,
        "kept": kept,
        "removed": removed,
        "untag": [entry["tag"] for entry in removed if entry["digest"] not in deleted],
        "delete": delete,
        "protected": sorted(protected),
        "reclaimable_bytes": sum(size for digest, size in before.items() if digest not in after),
        "warnings": warnings,
    }


def check_options(keep_patterns=DEFAULT_KEEP_PATTERNS, delete_patterns=None, keep_latest=0, older_than_days=None,
                  mode="untag", now=None, keep_signed=False, delete_orphans=False):
    """RetentionError when :func:`plan_cleanup` would refuse these options: check before reading a registry."""
    _options(mode, keep_latest, older_than_days, now, keep_patterns, delete_patterns, keep_signed, delete_orphans)


def _options(mode, keep_latest, older_than_days, now, keep_patterns, delete_patterns, keep_signed=False,
             delete_orphans=False):
    """Validated planner options; RetentionError on anything unusable."""
    for name, value in (("keep_signed", keep_signed), ("delete_orphans", delete_orphans)):
        if not isinstance(value, bool):
            raise RetentionError("%s must be true or false, got %r" % (name, value))
    if mode not in MODES:
        raise RetentionError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
    if keep_latest is None:
        keep_latest = 0
    try:
        keep_latest = int(keep_latest)
    except (TypeError, ValueError):
        raise RetentionError("keep_latest must be an integer, got %r" % (keep_latest,))
    if keep_latest < 0:
        raise RetentionError("keep_latest must be 0 or more, got %d" % keep_latest)
    if older_than_days is not None:
        try:
            older_than_days = float(older_than_days)
        except (TypeError, ValueError):
            raise RetentionError("older_than_days must be a number, got %r" % (older_than_days,))
    now_ts = parse_created(now) if now is not None else time.time()
    if now_ts is None:
        raise RetentionError("now is not a usable date: %r" % (now,))
    return {
        "keep_signed": keep_signed,
        "delete_orphans": delete_orphans,
        "keep_latest": keep_latest,
        "older_than_days": older_than_days,
        "now": now_ts,
        "keep": _compile(keep_patterns, "keep_patterns"),
        # None means the default (every tag is a candidate); an empty list means no candidates.
        "delete": _compile(delete_patterns if delete_patterns is not None else ["."], "delete_patterns"),
    }


def _classify(tag_info, known_digests, options):
    """Rules 1-3: keep patterns, referrer tags and orphans (set aside), delete patterns; the rest is pending."""
    decision = {}  # tag -> (kept: bool, reason)
    pending = []
    matched = {}  # candidate tag -> the delete pattern it matched
    referrers = {}
    orphans = {}  # referrer tag -> its subject, which no tag here reaches
    for tag in sorted(tag_info):
        pattern = _first_match(options["keep"], tag)
        if pattern is not None:
            decision[tag] = (True, "keep_patterns: %s" % pattern)
            continue
        subject = referrer_subject(tag)
        if subject is not None:
            # A signature or an SBOM is never ranked or aged as an image: it follows its subject.
            (referrers if subject in known_digests else orphans)[tag] = subject
            continue
        pattern = _first_match(options["delete"], tag)
        if pattern is None:
            decision[tag] = (True, "not matched by delete_patterns")
            continue
        matched[tag] = pattern
        pending.append(tag)
    return decision, pending, matched, referrers, orphans


def _lookup(source, digests):
    """What a ``signatures``/``subjects_present`` argument (a collection, or a function asked about ``digests``) says."""
    return source(sorted(digests)) if callable(source) else source


def _orphans(orphans, decision, delete_orphans, subjects_present):
    """Rule 2 for referrer tags whose subject no tag reaches: removed only when asked and the subject is gone."""
    if not orphans:
        return
    if not delete_orphans:
        for tag, subject in orphans.items():
            decision[tag] = (True, "referrer of %s, which no tag here uses (delete_orphans removes it once that "
                                   "manifest is gone)" % subject)
        return
    present = set(_lookup(subjects_present, set(orphans.values())))
    for tag, subject in orphans.items():
        if subject in present:
            decision[tag] = (True, "referrer of untagged %s, which still exists" % subject)
        else:
            decision[tag] = (False, "delete_orphans: its subject %s no longer exists" % subject)


def _keep_signed(tag_info, pending, matched, decision, options, graph, signatures):
    """Rule 4: a pending tag whose image (or a manifest its index lists) is signed is kept; returns the rest.

    Only the images rules 5-7 would remove are looked up: keeping a signed image can only keep more
    of the others (fewer candidates left to rank), never remove one those rules would have kept.
    """
    trial = dict(decision)
    rest = _keep_latest(tag_info, pending, trial, options["keep_latest"])
    _by_age(tag_info, rest, matched, trial, options)
    at_risk = {}
    for tag in pending:
        if not trial[tag][0]:
            at_risk[tag] = graph.closure([tag_info[tag]["digest"]])
    if not at_risk:
        return pending
    signed = _lookup(signatures, set().union(*at_risk.values()))
    for tag, reach in at_risk.items():
        digest = tag_info[tag]["digest"]
        if digest in signed:
            decision[tag] = (True, "keep_signed: %s" % signed[digest])
            continue
        child = next((d for d in sorted(reach) if d in signed), None)
        if child is not None:
            decision[tag] = (True, "keep_signed: %s lists %s, %s" % (digest, child, signed[child]))
    return [tag for tag in pending if tag not in decision]


def _keep_latest(tag_info, pending, decision, keep_latest):
    """Rule 4: the newest images among the pending tags; returns the tags still pending."""
    if not keep_latest or not pending:
        return pending
    by_digest = {}
    for tag in pending:
        by_digest.setdefault(tag_info[tag]["digest"], []).append(tag)
    ranked = sorted(
        by_digest,
        key=lambda d: (tag_info[by_digest[d][0]]["created"] or 0.0, max(by_digest[d]), d),
        reverse=True,
    )
    for rank, digest in enumerate(ranked[:keep_latest], 1):
        for tag in by_digest[digest]:
            decision[tag] = (True, "keep_latest: newest %d of %d" % (rank, keep_latest))
    return [tag for tag in pending if tag not in decision]


def _by_age(tag_info, pending, matched, decision, options):
    """Rules 5-6: young or undated images are kept with older_than_days; the rest is removed."""
    older_than_days = options["older_than_days"]
    for tag in pending:
        created = tag_info[tag]["created"]
        reason = ["delete_patterns: %s" % matched[tag]]
        if options["keep_latest"]:
            reason.append("not among the %d newest" % options["keep_latest"])
        if older_than_days is not None:
            if created is None:
                decision[tag] = (True, "older_than_days: created date unknown")
                continue
            age_days = (options["now"] - created) / 86400.0
            if age_days < older_than_days:
                decision[tag] = (True, "older_than_days: %.1f days old" % age_days)
                continue
            reason.append("%.1f days old" % age_days)
        decision[tag] = (False, ", ".join(reason))


def _follow_referrers(tag_info, referrers, decision, graph):
    """Rule 2: referrer tags follow their subject; returns the protected digests."""
    protected = graph.closure(info["digest"] for tag, info in tag_info.items()
                              if decision.get(tag, (False,))[0])
    # One referrer may describe another (a signature of an SBOM): iterate until nothing changes.
    unresolved = dict(referrers)
    while unresolved:
        moved = [tag for tag, subject in unresolved.items() if subject in protected]
        if not moved:
            break
        for tag in moved:
            decision[tag] = (True, "referrer of kept %s" % unresolved.pop(tag))
            protected |= graph.closure([tag_info[tag]["digest"]])
    # A kept index we could not look into may list the subject: then its signatures must stay too.
    opaque = graph.opaque_indexes(protected)
    for tag, subject in unresolved.items():
        if opaque:
            decision[tag] = (True, "referrer of %s, which kept index(es) %s could not be inspected to rule out"
                             % (subject, ", ".join(opaque)))
            protected |= graph.closure([tag_info[tag]["digest"]])
        else:
            decision[tag] = (False, "referrer of removed %s" % subject)
    return protected


def _split(tag_info, decision):
    kept = []
    removed = []
    for tag in sorted(tag_info):
        keep, reason = decision[tag]
        entry = {"tag": tag, "digest": tag_info[tag]["digest"], "reason": reason}
        (kept if keep else removed).append(entry)
    return kept, removed


def _deletions(graph, removed, protected, mode):
    """Manifests to delete (parents first) and why deletion was withheld, if it was."""
    if mode != "delete" or not removed:
        return [], []
    opaque = graph.opaque_indexes(protected)
    if opaque:
        return [], ["manifest deletion withheld: kept index(es) %s could not be inspected, so their "
                    "children are unknown; tags were only untagged" % ", ".join(opaque)]
    removed_digests = set(entry["digest"] for entry in removed)
    return graph.parents_first(graph.closure(removed_digests) - protected), []


def plain(value):
    """Plain dicts, lists and str of ``value``: templating engines hand filters their own subclasses."""
    if isinstance(value, dict):
        return dict((str(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


# Ansible hands a filter a variable as lazy containers that look at every value when it is read:
# the filters convert only the keys the planner and the report read, which at thousands of
# repositories is most of their time (registry_tag_info also returns what people read, such as
# platforms, sizes and referrers).
_TAG_KEYS = ("tag", "digest", "created", "media_type")
_MANIFEST_KEYS = ("manifest", "media_type", "size", "children", "blobs", "mediaType", "manifests", "config",
                  "layers", "fsLayers")
_PLAN_KEYS = ("repository", "exists", "error", "kept", "removed", "delete", "reclaimable_bytes", "warnings")
_APPLIED_KEYS = ("repository", "changed", "refused", "error")


def _pick(value, keys):
    if not isinstance(value, dict):
        return plain(value)
    return dict((key, plain(value[key])) for key in keys if key in value)


def plain_inventory(inventory):
    """What :func:`plan_repositories` reads of ``registry_tag_info``'s ``repositories``, as plain data."""
    result = []
    for entry in inventory or []:
        if not isinstance(entry, dict):
            result.append(plain(entry))
            continue
        item = dict((key, plain(entry[key])) for key in ("repository", "error", "exists") if key in entry)
        if "tag_details" in entry:
            details = entry["tag_details"]
            item["tag_details"] = ([_pick(detail, _TAG_KEYS) for detail in details]
                                   if isinstance(details, list) else plain(details))
        if "manifests" in entry:
            manifests = entry["manifests"]
            item["manifests"] = (dict((str(digest), _pick(manifest, _MANIFEST_KEYS))
                                      for digest, manifest in manifests.items())
                                 if isinstance(manifests, dict) else plain(manifests))
        result.append(item)
    return result


def plain_report_input(plan, applied):
    """What :func:`cleanup_report` reads of the plan and of ``registry_delete``'s result, as plain data."""
    plan = plan if isinstance(plan, dict) else {}
    applied = applied if isinstance(applied, dict) else {}
    return ({"repositories": [_pick(entry, _PLAN_KEYS) for entry in plan.get("repositories") or []]},
            {"repositories": [_pick(entry, _APPLIED_KEYS) for entry in applied.get("repositories") or []]})


def _digest_item(digest, manifest):
    media_type = manifest.get("media_type") if isinstance(manifest, dict) else None
    return {"digest": digest, "media_type": media_type} if media_type else digest


def plan_repositories(inventory, **options):
    """The plan for many repositories from ``registry_tag_info``'s bulk result (``repositories``).

    ``options`` are those of :func:`plan_cleanup` but ``repository``. Returns ``repositories`` (per
    repository: ``repository``, ``exists``, ``error``, ``kept``, ``removed``, ``untag``, ``delete``,
    ``reclaimable_bytes``, ``warnings``) and ``apply``: the entries ``registry_delete`` takes
    (``repository``, ``tags`` as ``{tag, digest}`` so a moved tag is refused, ``digests`` as
    ``{digest, media_type}`` where the media type was read), only for repositories with something to
    remove.
    """
    planned = []
    to_apply = []
    for entry in inventory or []:
        name = entry.get("repository")
        error = entry.get("error")
        exists = bool(entry.get("exists", error is None))
        report = {"repository": name, "exists": exists, "error": None, "kept": [], "removed": [], "untag": [],
                  "delete": [], "reclaimable_bytes": 0, "warnings": []}
        if error is not None:
            # A repository that does not exist (or lost its tags) has nothing to clean; any other
            # failure is reported with the repository.
            report["error"] = None if not exists else error
            planned.append(report)
            continue
        plan = plan_cleanup(entry.get("tag_details") or [], entry.get("manifests") or {}, repository=name, **options)
        for key in ("kept", "removed", "untag", "delete", "reclaimable_bytes", "warnings"):
            report[key] = plan[key]
        planned.append(report)
        if plan["removed"]:
            manifests = entry.get("manifests") or {}
            to_apply.append({"repository": name,
                             "tags": [{"tag": item["tag"], "digest": item["digest"]} for item in plan["removed"]],
                             # With the media type read here, registry_delete needs no HEAD per digest.
                             "digests": [_digest_item(digest, manifests.get(digest)) for digest in plan["delete"]]})
    return {"repositories": planned, "apply": to_apply}


def cleanup_report(plan, applied=None, mode="untag", dry_run=False, check_mode=False):
    """``cleanup_report`` of the cleanup role from the plan and ``registry_delete``'s result.

    Per repository: ``repository``, ``exists``, ``kept``, ``removed`` and ``deleted`` (the plan minus
    what the apply refused), ``reclaimable_bytes``, ``warnings``, ``changed``, ``refused`` and
    ``error``; totals ``removed_tags``, ``deleted_manifests``, ``reclaimable_bytes``, and
    ``failed_repositories``.
    """
    results = {}
    for item in (applied or {}).get("repositories") or []:
        results[item.get("repository")] = item
    repositories = []
    for entry in (plan or {}).get("repositories") or []:
        outcome = results.get(entry["repository"]) or {}
        refused = list(outcome.get("refused") or [])
        refused_tags = set(item.get("tag") for item in refused if item.get("tag"))
        refused_digests = set(item.get("digest") for item in refused if "tag" not in item)
        repositories.append({
            "repository": entry["repository"],
            "exists": entry["exists"],
            "kept": entry["kept"],
            "removed": [item for item in entry["removed"] if item["tag"] not in refused_tags],
            "deleted": [digest for digest in entry["delete"] if digest not in refused_digests],
            "reclaimable_bytes": entry["reclaimable_bytes"],
            "warnings": entry["warnings"],
            "changed": bool(outcome.get("changed")),
            "refused": refused,
            "error": entry.get("error") or outcome.get("error"),
        })
    return {
        "mode": mode,
        "dry_run": bool(dry_run),
        "check_mode": bool(check_mode),
        "applied": not dry_run and not check_mode,
        "repositories": repositories,
        "removed_tags": sum(len(item["removed"]) for item in repositories),
        "deleted_manifests": sum(len(item["deleted"]) for item in repositories),
        "reclaimable_bytes": sum(item["reclaimable_bytes"] for item in repositories),
        "failed_repositories": [item["repository"] for item in repositories if item["error"]],
    }
