# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Data shaping of the promote and mirror roles: role variables -> registry_copy ``images``, and back.

Pure functions, used by the filters promote_copy_items, promote_report, mirror_copy_items and
mirror_report. No registry is contacted. Credentials pass through the copy items (the module marks
them no_log) and never into a report.

Pure Python; no Ansible imports.
"""

from __future__ import annotations

from ansible_collections.oci.registry.plugins.module_utils._reference import (
    is_layout_reference,
    parse_layout_reference,
    parse_reference,
)
from ansible_collections.oci.registry.plugins.module_utils._shard import in_shard, parse_shard


class RoleInputError(ValueError):
    """Role variables that cannot be turned into copies; the message names the variable."""


def _parse(text, what, default_tag=None, layouts=False):
    try:
        if layouts and is_layout_reference(text):
            # registry_copy reads oci:/dir and oci-archive:/file.tar itself; the role passes them through.
            return parse_layout_reference(text)
        return parse_reference(text, default_tag=default_tag)
    except Exception as err:  # pylint: disable=broad-exception-caught
        # The reference may carry credentials (user:password@host): never echo it.
        raise RoleInputError("%s is not a valid image reference (%s); if it carries user:password@, put the "
                             "credentials in the *_auth variables instead" % (what, type(err).__name__)) from None


def _ref_text(ref, tag=None, digest=None):
    text = "%s/%s" % (ref.registry_url, ref.repository)
    if tag:
        text += ":" + tag
    if digest:
        text += "@" + digest
    return text


# ------------------------------------------------------------------ promote

def promote_images(images=None, src=None, dest=None, expected_digest=None, additional_tags=None):
    """``promote_images`` as given, or the single-image variables as a one-element list."""
    if images:
        if not isinstance(images, list) or not all(isinstance(image, dict) for image in images):
            raise RoleInputError("promote_images must be a list of dicts with src and dest")
        return images
    return [{"src": src, "dest": dest, "expected_digest": expected_digest or None,
             "additional_tags": list(additional_tags or [])}]


def promote_targets(images):
    """One target per (image, destination, tag), in order; the first tag of a destination is its primary."""
    targets = []
    for image_index, image in enumerate(images):
        what = "promote_images[%d]" % image_index
        if not image.get("src") or not image.get("dest"):
            raise RoleInputError("%s needs src and dest" % what)
        src = _parse(image["src"], what + ".src", default_tag="latest")
        dests = [image["dest"]] if isinstance(image["dest"], (str, dict)) else list(image["dest"])
        if not dests:
            raise RoleInputError("%s: dest needs at least one destination" % what)
        additional = list(image.get("additional_tags") or [])
        for dest_index, entry in enumerate(dests):
            text = entry.get("dest") if isinstance(entry, dict) else entry
            if not isinstance(text, str) or not text:
                raise RoleInputError("%s: each destination is a reference or a dict with dest" % what)
            parsed = _parse(text, "%s destination %d" % (what, dest_index))
            if parsed.digest:
                raise RoleInputError("%s destination %d has a digest; give a repository or a tag" % (what, dest_index))
            first = parsed.tag or src.tag
            tags = list(dict.fromkeys(([first] if first else []) + additional))
            if not tags:
                raise RoleInputError("%s destination %d needs a tag: from the destination, from src, or from "
                                     "additional_tags" % (what, dest_index))
            for position, tag in enumerate(tags):
                targets.append({
                    "image_index": image_index, "dest_index": dest_index, "dest": text,
                    "registry_url": parsed.registry_url, "repository": parsed.repository, "tag": tag,
                    "primary": position == 0, "ref": _ref_text(parsed, tag),
                    "src": _ref_text(src, src.tag, src.digest),
                })
    return targets


def promote_copy_items(images, src_auth=None, dest_auth=None, platforms=None, referrers=True, immutable=False,
                       backup_tag=None):
    """registry_copy ``images`` entries for a promotion (see promote_targets).

    ``backup_tag`` (an image's own ``backup_tag`` wins): before a destination tag moves, its old image is
    kept under this tag (registry_copy's template), so a rollback is one retag.
    """
    items = []
    for target in promote_targets(images):
        image = images[target["image_index"]]
        dests = [image["dest"]] if isinstance(image["dest"], (str, dict)) else list(image["dest"])
        entry = dests[target["dest_index"]]
        item = {
            "src": target["src"],
            "dest": target["ref"],
            "src_auth": image.get("src_auth") or src_auth or {},
            "dest_auth": (entry.get("auth") if isinstance(entry, dict) else None) or image.get("dest_auth")
            or dest_auth or {},
            # Referrers hang off the digest, not the tag: once per destination repository is enough.
            "referrers": bool(referrers) and target["primary"],
            # The guard runs for every pair before the first write (registry_copy atomic).
            "overwrite": not immutable,
        }
        if platforms:
            item["platforms"] = list(platforms)
        if image.get("expected_digest"):
            item["expected_digest"] = image["expected_digest"]
        backup = image.get("backup_tag") or backup_tag
        if backup:
            item["backup_tag"] = backup
        items.append(item)
    return items


def promote_report(copy_result, images, platforms=None, check_mode=False):
    """promote_result per image from the registry_copy result, in the shape the role always returned."""
    targets = promote_targets(images)
    results = (copy_result or {}).get("images") or []
    reports = []
    for image_index, image in enumerate(images):
        pairs = [(target, result) for target, result in zip(targets, results) if target["image_index"] == image_index]
        destinations = []
        for dest_index in sorted({target["dest_index"] for target, _result in pairs}):
            mine = [(t, r) for t, r in pairs if t["dest_index"] == dest_index]
            first_target, first = mine[0]
            destinations.append({
                "dest": first_target["dest"],
                "registry_url": first_target["registry_url"],
                "repository": first_target["repository"],
                "digest": first.get("dest_digest"),
                "tags": [t["tag"] for t, _r in mine],
                "tags_changed": [t["tag"] for t, r in mine if r.get("changed")],
                "previous": dict((t["tag"], (r.get("tags") or [{}])[0].get("before")) for t, r in mine),
                "referrers": first.get("referrers") or [],
                "backups": [backup for _t, r in mine for backup in r.get("backups") or []],
                "changed": any(r.get("changed") for _t, r in mine),
            })
        src_digest = next((r.get("src_digest") for _t, r in pairs if r.get("src_digest")), None)
        reports.append({
            "src": image["src"],
            "src_digest": src_digest,
            "expected_digest": image.get("expected_digest") or None,
            "platforms": list(platforms or []),
            "check_mode": bool(check_mode),
            "changed": any(d["changed"] for d in destinations),
            "destinations": destinations,
        })
    return reports


def promote_failure(copy_result, images, single=False):
    """The role's one-line refusal: names the guard (promote_expected_digest, promote_immutable) and both digests."""
    targets = promote_targets(images)
    results = (copy_result or {}).get("images") or []
    if not results:
        return "promote failed: %s" % ((copy_result or {}).get("msg") or "registry_copy returned no result")
    expected, moved, other = [], [], []
    for target, result in zip(targets, results):
        refused = result.get("refused") or {}
        if refused.get("guard") == "expected_digest":
            line = "%s%s now resolves to %s, expected %s" % (
                "" if single else "promote_images[%d] " % target["image_index"],
                images[target["image_index"]]["src"], refused.get("src_digest"), refused.get("expected_digest"))
            if line not in expected:
                expected.append(line)
        elif refused.get("guard") == "overwrite":
            for conflict in refused.get("conflicts") or []:
                moved.append("%s points to %s, promotion would set %s"
                             % (conflict["dest"], conflict["before"], conflict["after"]))
        elif result.get("status") == "failed":
            other.append("%s -> %s: %s" % (target["src"], target["ref"], result.get("msg")))
    written = [result for result in results if result.get("status") == "done" and result.get("changed")]
    parts = []
    guard = "promote_expected_digest" if single else "expected_digest"
    if expected:
        parts.append("promote refused by %s: %s" % (guard, "; ".join(expected)))
    if moved:
        parts.append("promote refused by promote_immutable: %s" % "; ".join(moved))
    if other:
        parts.append("promote failed: %s" % "; ".join(other))
    if not parts:
        parts.append("promote failed: %s" % (copy_result.get("msg") or "unknown error"))
    tail = ("nothing was written." if not written else
            "%d destination tags were written before the failure; re-run to complete, or move them back to "
            "promote_result's previous digests." % len(written))
    return "; ".join(parts) + "; " + tail


# ------------------------------------------------------------------- mirror

_SELECTORS = ("tags", "tag_pattern", "semver")


def mirror_entries(entries, shard=None):
    """(position, entry) of the entries this shard owns (all without a shard), by destination repository."""
    shard = parse_shard(shard, "mirror_shard")
    selected = []
    for position, entry in enumerate(entries or []):
        if not isinstance(entry, dict) or not entry.get("src") or not entry.get("dest"):
            raise RoleInputError("mirror_images[%d] needs src and dest" % position)
        dest = _parse(entry["dest"], "mirror_images[%d].dest" % position, layouts=True)
        src = _parse(entry["src"], "mirror_images[%d].src" % position, layouts=True)
        if entry.get("tags") is not None and (entry.get("semver") or entry.get("tag_pattern")):
            raise RoleInputError("mirror_images[%d]: tags combine with neither semver nor tag_pattern" % position)
        if entry.get("tags") is None and not entry.get("tag_pattern") and not entry.get("semver") and not src.tag \
                and not src.digest:
            raise RoleInputError("mirror_images[%d]: give tags, tag_pattern or semver (tag_pattern may narrow "
                                 "semver), or a tag in src" % position)
        if in_shard(dest.repository, shard):
            selected.append((position, entry))
    return selected


# Per-entry sync options and the role defaults they fall back to (mirror_prune, ...).
_SYNC = ("prune", "immutable_tags", "backup_tag")


def mirror_copy_items(entries, shard=None, referrers=False, allow_empty=False, src_auth=None, dest_auth=None,
                      prune=False, immutable_tags=None, backup_tag=None):
    """registry_copy ``images`` entries for the mirror entries of this shard."""
    defaults = {"prune": prune, "immutable_tags": immutable_tags, "backup_tag": backup_tag}
    items = []
    for position, entry in mirror_entries(entries, shard):
        item = {
            "src": entry["src"],
            "dest": entry["dest"],
            "referrers": entry.get("referrers", referrers),
            "src_auth": entry.get("src_auth") or src_auth or {},
            "dest_auth": entry.get("dest_auth") or dest_auth or {},
        }
        for key in _SYNC:
            value = entry.get(key) if entry.get(key) is not None else defaults[key]
            if value not in (None, "", False):
                item[key] = value
        selects = any(entry.get(key) is not None and entry.get(key) != "" for key in _SELECTORS)
        if item.get("prune") and not selects:
            if entry.get("prune"):
                raise RoleInputError("mirror_images[%d]: prune needs tags, tag_pattern or semver" % position)
            # mirror_prune applies to the entries that select tags; a single image has nothing to prune.
            del item["prune"]
        for key in ("platforms",) + _SELECTORS:
            if entry.get(key) is not None and entry.get(key) != "":
                item[key] = entry[key]
        if entry.get("semver"):
            item["include_prerelease"] = bool(entry.get("include_prerelease", False))
            if entry.get("limit") is not None:
                item["limit"] = entry["limit"]
        if entry.get("semver") or entry.get("tag_pattern"):
            item["allow_empty"] = bool(allow_empty)
        items.append(item)
    return items


def mirror_report(copy_result, entries, shard=None):
    """mirror_result: one dict per entry of this shard, in the shape the role always returned."""
    results = (copy_result or {}).get("images") or []
    report = []
    for (position, entry), result in zip(mirror_entries(entries, shard), results):
        tags = result.get("tags") or []
        report.append({
            "index": position,
            "src": entry["src"],
            "dest": entry["dest"],
            "status": result.get("status"),
            "skipped": result.get("status") == "skipped",
            "changed": bool(result.get("changed")),
            "tags": [tag["dest"] for tag in tags],
            "tags_changed": [tag["dest"] for tag in tags if tag.get("changed")],
            "digests": dict((tag["dest"], tag.get("dest_digest")) for tag in tags),
            "blobs": result.get("blobs") or {},
            "referrers": result.get("referrers") or [],
            "copied": [tag["dest"] for tag in tags if tag.get("changed")],
            "skipped_tags": result.get("skipped_tags") or [],
            "pruned": result.get("pruned_tags") or [],
            "pruned_manifests": result.get("pruned_manifests") or [],
            "backed_up": result.get("backups") or [],
            "attachments": result.get("attachments") or [],
            "msg": result.get("msg"),
        })
    return report


def mirror_failure(copy_result, entries, shard=None):
    """The role's one-line failure over every failed entry (entries named by position, never by src)."""
    failed = [entry for entry in mirror_report(copy_result, entries, shard) if entry["status"] in ("failed", "refused")]
    if not failed:
        return "mirror failed: %s" % ((copy_result or {}).get("msg") or "registry_copy returned no result")
    empty = [entry for entry in failed if "no tag of" in (entry["msg"] or "")]
    parts = []
    if empty:
        parts.append("mirror_images entries matched none of the upstream tags: %s; set mirror_allow_empty to skip "
                     "such entries" % ", ".join("mirror_images[%d]" % entry["index"] for entry in empty))
    others = [entry for entry in failed if entry not in empty]
    if others:
        parts.append("%d mirror_images entries failed: %s" % (len(others), "; ".join(
            "mirror_images[%d]: %s" % (entry["index"], entry["msg"]) for entry in others)))
    return "; ".join(parts)
