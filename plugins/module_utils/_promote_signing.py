# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Data shaping of the promote role's signature gates and production signing.

- ``signature_check_groups``: the sources as registry_signature_info ``images`` runs, one per source
  registry and credentials (usually one run for the whole release).
- ``signature_refusals``: the one-line refusals of promote_require_signature and
  promote_require_attestations, from those runs' results.
- ``pin_verified``: the release with each source pinned to the digest whose signature was verified,
  so a tag moved between the check and the copy is refused by the copy's expected-digest guard.
- ``sign_groups``: the destinations as registry_sign ``images`` runs, one per destination registry
  and credentials, each destination repository once, by the digest the copy wrote.

Pure functions used by the promote_signature_* filters; no registry is contacted. Credentials pass
through the groups (the modules mark them no_log) and never into a message.

Pure Python; no Ansible imports.
"""

from __future__ import annotations

import json

from ansible_collections.oci.registry.plugins.module_utils._reference import parse_reference
from ansible_collections.oci.registry.plugins.module_utils._role_batches import RoleInputError, promote_targets


def _group(groups, registry_url, auth):
    key = (registry_url, json.dumps(auth or {}, sort_keys=True))
    if key not in groups:
        groups[key] = {"registry_url": registry_url, "auth": dict(auth or {}), "images": [], "entries": []}
    return groups[key]


def signature_check_groups(images, src_auth=None):
    """[{registry_url, auth, images: [{repository, reference}], entries: [image index]}] for the sources.

    The reference checked is the digest that will be copied: ``expected_digest`` (or the source's own
    digest) when given, else the source tag.
    """
    promote_targets(images)  # the one validation of the role input
    groups = {}
    for index, image in enumerate(images):
        src = parse_reference(image["src"], default_tag="latest")
        group = _group(groups, src.registry_url, image.get("src_auth") or src_auth)
        group["images"].append({"repository": src.repository,
                                "reference": image.get("expected_digest") or src.digest or src.tag})
        group["entries"].append(index)
    return list(groups.values())


def _results_by_image(groups, results):
    """{image index: registry_signature_info result of that source}."""
    found = {}
    for group, result in zip(groups, results or []):
        for index, image_result in zip(group["entries"], (result or {}).get("images") or []):
            found[index] = image_result
    return found


def signature_refusals(results, groups, images, require_signature=False, required_attestations=None):
    """One line per gate that refuses, naming the gate variable, the source and why; [] when all pass."""
    by_image = _results_by_image(groups, results)
    unsigned, missing = [], []
    for index, image in enumerate(images):
        found = by_image.get(index)
        if found is None:
            unsigned.append("%s was not checked" % image["src"])
            continue
        if require_signature and not found.get("verified"):
            reasons = sorted({entry.get("reason") for entry in found.get("signatures") or [] if entry.get("reason")})
            unsigned.append("%s (%s) has no signature verified by promote_verify_keys%s" % (
                image["src"], found.get("digest"), " (%s)" % "; ".join(reasons) if reasons else " (no signature found)"))
        lacking = [predicate for predicate in required_attestations or []
                   if predicate not in (found.get("attestations") or [])]
        if lacking:
            missing.append("%s (%s) lacks %s" % (image["src"], found.get("digest"), ", ".join(lacking)))
    lines = []
    if unsigned and require_signature:
        lines.append("promote refused by promote_require_signature: %s" % "; ".join(unsigned))
    elif unsigned:
        lines.append("promote refused: %s" % "; ".join(unsigned))
    if missing:
        lines.append("promote refused by promote_require_attestations: %s" % "; ".join(missing))
    return lines


def pin_verified(images, results, groups):
    """The release with ``expected_digest`` set to the checked digest where the image had none."""
    by_image = _results_by_image(groups, results)
    pinned = []
    for index, image in enumerate(images):
        image = dict(image)
        digest = (by_image.get(index) or {}).get("digest")
        if digest and not image.get("expected_digest"):
            image["expected_digest"] = digest
        pinned.append(image)
    return pinned


def sign_groups(images, copy_result, dest_auth=None):
    """[{registry_url, auth, images: [{repository, reference}]}]: each destination repository once.

    The reference is the digest the copy reported for the destination (the source digest when the copy
    wrote none yet, as in check mode), else the destination tag. ``copy_result`` None: before the copy.
    """
    targets = promote_targets(images)
    if copy_result is None:
        # Before the copy (the role's key check): each destination by its tag.
        results = [{} for dummy in targets]
    elif copy_result.get("summary") is None:
        # The copy failed as a whole (nothing written): nothing to sign. Ansible evaluates a task's loop
        # before its ``when``, so the role's own refusal must not be pre-empted by an error here.
        return []
    else:
        results = copy_result.get("images") or []
    if len(results) != len(targets):
        raise RoleInputError("the copy reported %d results for %d destinations" % (len(results), len(targets)))
    groups, seen = {}, set()
    for target, result in zip(targets, results):
        if not target["primary"]:
            continue
        image = images[target["image_index"]]
        dests = [image["dest"]] if isinstance(image["dest"], (str, dict)) else list(image["dest"])
        entry = dests[target["dest_index"]]
        auth = (entry.get("auth") if isinstance(entry, dict) else None) or image.get("dest_auth") or dest_auth
        reference = result.get("dest_digest") or result.get("src_digest") or target["tag"]
        key = (target["registry_url"], target["repository"], reference)
        if key in seen:
            continue
        seen.add(key)
        group = _group(groups, target["registry_url"], auth)
        group["images"].append({"repository": target["repository"], "reference": reference})
        group["entries"].append(target["ref"])
    return list(groups.values())


def sign_report(results, groups):
    """[{dest, digest, signature_digest, changed}] from the registry_sign runs, for promote_result."""
    report = []
    for group, result in zip(groups, results or []):
        for dest, signed in zip(group["entries"], (result or {}).get("images") or []):
            report.append({"dest": dest, "digest": signed.get("digest"),
                           "signature_digest": signed.get("signature_digest"),
                           "key_fingerprint": signed.get("key_fingerprint"), "changed": bool(signed.get("changed"))})
    return report


__all__ = ["pin_verified", "sign_groups", "sign_report", "signature_check_groups", "signature_refusals"]
