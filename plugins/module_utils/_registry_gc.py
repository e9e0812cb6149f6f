# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Garbage collection of a self-hosted CNCF distribution registry (the registry_gc role).

Private to the collection, no compatibility promise. The one owner of: reading the registry's
config.yml (storage root, listen address, read-only switch), measuring and scanning its filesystem
storage (bytes, and the manifests that make ``garbage-collect --delete-untagged`` unsafe), parsing
the output of ``garbage-collect`` and shaping the role's result.

Two halves with different homes: ``scan_storage`` runs on the registry host inside the
registry_storage_info module (stdlib only: the host may lack PyYAML); the config and output helpers
run on the controller inside filters, where PyYAML comes with ansible-core.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

# The registry host may lack PyYAML (registry_storage_info runs there and needs none of it);
# the YAML parts run on the controller, where ansible-core brings it.
try:
    import yaml as _YAML
except ImportError:
    _YAML = None

# distribution#3178: with --delete-untagged, garbage-collect deletes the (untagged) children of a
# tagged manifest list / image index, which breaks the index. Referrers (a manifest with a subject,
# such as a signature pushed through the referrers API) are untagged by design and would go too.
INDEX_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
# Manifests are small; anything bigger under a revision link is not a manifest we can judge.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
BLOCKERS_LISTED = 20
DEFAULT_ROOT = "/var/lib/registry"
V2_PATH = os.path.join("docker", "registry", "v2")

_SUMMARY_RE = re.compile(r"^(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion\s*$", re.M)
_BLOB_RE = re.compile(r"^blob eligible for deletion: (sha256:[0-9a-f]{64})\s*$", re.M)
_MANIFEST_RE = re.compile(r"^manifest eligible for deletion: (sha256:[0-9a-f]{64})\s*$", re.M)
# The CLI library prints this and still exits 0 on a bad flag: without it a typo would pass as "nothing to do".
_USAGE_ERROR_RE = re.compile(r"^Error: (.*)$", re.M)
# A storage that never received a push has no repositories directory, and garbage-collect fails on it.
_NEVER_USED_RE = re.compile(r"failed to mark: filesystem: Path not found: \S*/docker/registry/v2/repositories\s*$", re.M)


class RegistryGcError(Exception):
    """A one-line, user-facing reason why the role cannot go on."""


# --- config.yml (controller side) ----------------------------------------------------------------

def _yaml():
    if _YAML is None:  # pragma: no cover - ansible-core depends on PyYAML
        raise RegistryGcError("PyYAML is required on the controller to read the registry configuration")
    return _YAML


def load_config(text):
    """The registry configuration as a dict; a one-line error for unreadable YAML."""
    yaml = _yaml()
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RegistryGcError("the registry configuration is not valid YAML: %s" % " ".join(str(err).split()))
    if not isinstance(config, dict):
        raise RegistryGcError("the registry configuration is not a YAML mapping")
    return config


def _mapping(value):
    return value if isinstance(value, dict) else {}


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def config_facts(text):
    """What the role needs from config.yml: storage root, read-only state, where the registry listens."""
    config = load_config(text)
    storage = _mapping(config.get("storage"))
    drivers = [name for name in storage if name not in ("delete", "maintenance", "cache", "redirect")]
    if drivers != ["filesystem"]:
        raise RegistryGcError(
            "registry_gc supports the filesystem storage driver only (found: %s); garbage-collect other drivers "
            "by hand" % (", ".join(sorted(drivers)) or "none"))
    root = _mapping(storage.get("filesystem")).get("rootdirectory") or DEFAULT_ROOT
    maintenance = _mapping(storage.get("maintenance"))
    http = _mapping(config.get("http"))
    return {
        "storage_root": str(root),
        "readonly": _truthy(_mapping(maintenance.get("readonly")).get("enabled", False)),
        "delete_enabled": _truthy(_mapping(storage.get("delete")).get("enabled", False)),
        "listen": listen_address(http),
    }


def listen_address(http):
    """{host, port, tls} of http.addr (":5000" listens everywhere, so 127.0.0.1 reaches it); None for a unix socket."""
    if _mapping(http).get("net", "tcp") == "unix":
        return None
    addr = str(http.get("addr") or ":5000")
    host, _sep, port = addr.rpartition(":")
    host = host.strip("[]")
    if not port.isdigit():
        raise RegistryGcError("http.addr %r of the registry configuration has no port" % addr)
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return {"host": host, "port": int(port), "tls": bool(_mapping(http.get("tls")).get("certificate"))}


def readonly_config(text):
    """The configuration with storage.maintenance.readonly.enabled true, every other setting kept.

    Comments and layout are not kept: this text only lives during the read-only window, and the
    role puts the original bytes back afterwards.
    """
    yaml = _yaml()
    config = load_config(text)
    storage = config.setdefault("storage", {})
    maintenance = storage.get("maintenance")
    if not isinstance(maintenance, dict):
        maintenance = storage["maintenance"] = {}
    readonly = maintenance.get("readonly")
    if not isinstance(readonly, dict):
        readonly = maintenance["readonly"] = {}
    readonly["enabled"] = True
    return yaml.safe_dump(config, default_flow_style=False, sort_keys=False)


# --- storage (registry host side, stdlib only) ---------------------------------------------------

def _tree_size(path):
    total = files = 0
    for directory, _subdirs, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:  # removed while we walk (an upload finishing); not ours to count
                continue
            files += 1
    return total, files


def _blob_path(v2, digest):
    algorithm, _sep, hexdigest = digest.partition(":")
    return os.path.join(v2, "blobs", algorithm, hexdigest[:2], hexdigest, "data")


def _read_head(path, limit):
    with open(path, "rb") as handle:
        return handle.read(limit + 1)


def _manifest_blocker(raw):
    """Why a stored manifest makes --delete-untagged unsafe, or None."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    media_type = document.get("mediaType")
    if media_type in INDEX_MEDIA_TYPES or (media_type is None and isinstance(document.get("manifests"), list)):
        return "index"
    if isinstance(document.get("subject"), dict):
        return "referrer"
    return None


def _repositories(v2):
    """(name, revisions dir) of every repository; names may be nested (team/app)."""
    top = os.path.join(v2, "repositories")
    for directory, subdirs, _names in os.walk(top):
        if "_manifests" in subdirs:
            yield os.path.relpath(directory, top), os.path.join(directory, "_manifests", "revisions")
        # A repository's own bookkeeping never holds another repository.
        subdirs[:] = sorted(name for name in subdirs if not name.startswith("_"))


def scan_storage(root):
    """Bytes on disk and what garbage collection would have to respect, for a filesystem storage root."""
    if not os.path.isdir(root):
        raise RegistryGcError("the registry storage root %s is not a directory" % root)
    total, files = _tree_size(root)
    v2 = os.path.join(root, V2_PATH)
    blob_count = 0
    blobs_dir = os.path.join(v2, "blobs", "sha256")
    if os.path.isdir(blobs_dir):
        for prefix in os.listdir(blobs_dir):
            prefix_dir = os.path.join(blobs_dir, prefix)
            if os.path.isdir(prefix_dir):
                blob_count += len(os.listdir(prefix_dir))
    repositories = manifests = 0
    blockers = []
    blocker_count = 0
    for name, revisions in _repositories(v2):
        repositories += 1
        revision_dir = os.path.join(revisions, "sha256")
        if not os.path.isdir(revision_dir):
            continue
        for hexdigest in sorted(os.listdir(revision_dir)):
            if not os.path.exists(os.path.join(revision_dir, hexdigest, "link")):
                continue
            manifests += 1
            digest = "sha256:" + hexdigest
            try:
                raw = _read_head(_blob_path(v2, digest), MAX_MANIFEST_BYTES)
            except OSError:
                continue
            reason = _manifest_blocker(raw) if len(raw) <= MAX_MANIFEST_BYTES else None
            if reason:
                blocker_count += 1
                if len(blockers) < BLOCKERS_LISTED:
                    blockers.append({"repository": name, "digest": digest, "reason": reason})
    return {
        "root": root,
        "bytes": total,
        "files": files,
        "blobs": blob_count,
        "repositories": repositories,
        "manifests": manifests,
        "delete_untagged_safe": blocker_count == 0,
        "delete_untagged_blocker_count": blocker_count,
        "delete_untagged_blockers": blockers,
    }


# --- garbage-collect output and the role's result (controller side) -----------------------------

def parse_gc_output(stdout, stderr=""):
    """Counts and digests from `garbage-collect` output (distribution 2.x and 3.x print the same lines)."""
    stdout = stdout or ""
    usage = _USAGE_ERROR_RE.search((stderr or "") + "\n" + stdout)
    summary = _SUMMARY_RE.search(stdout)
    parsed = {
        "error": usage.group(1).strip() if usage else None,
        "summary_found": summary is not None,
        "blobs_marked": int(summary.group(1)) if summary else None,
        "blobs_eligible": int(summary.group(2)) if summary else None,
        "manifests_eligible": int(summary.group(3)) if summary else None,
        "eligible_blobs": _BLOB_RE.findall(stdout),
        "eligible_manifests": _MANIFEST_RE.findall(stdout),
    }
    # An empty storage prints no summary: nothing marked, nothing eligible.
    if summary is None and not stdout.strip() and usage is None:
        parsed.update(blobs_marked=0, blobs_eligible=0, manifests_eligible=0)
    return parsed


def _last_line(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _never_used(run):
    return run.get("rc") not in (0, None) and bool(_NEVER_USED_RE.search(run.get("stderr") or ""))


def gc_error(run):
    """One line when the registered `garbage-collect` command failed (a bad flag exits 0), else None."""
    run = run or {}
    output = parse_gc_output(run.get("stdout"), run.get("stderr"))
    if _never_used(run):
        return None
    if output["error"]:
        return "garbage-collect refused its arguments: %s" % output["error"]
    if run.get("rc") not in (0, None):
        detail = _last_line(run.get("stderr")) or _last_line(run.get("stdout")) or run.get("msg") or ""
        return "garbage-collect failed (exit %s): %s" % (run.get("rc"), detail)
    return None


def gc_result(run, before, after=None, delete_untagged=False, dry_run=False, readonly_window=False):
    """registry_gc_result from the registered `garbage-collect` command and storage scans before and after.

    `changed` is what the run removed, or in a dry run what a real run would remove.
    """
    run = run or {}
    before = before or {}
    output = parse_gc_output(run.get("stdout"), run.get("stderr"))
    removed_blobs = output.get("eligible_blobs") or []
    removed_manifests = output.get("eligible_manifests") or []
    before_bytes = before.get("bytes")
    after_bytes = after.get("bytes") if after else before_bytes
    return {
        "dry_run": bool(dry_run),
        "delete_untagged": bool(delete_untagged),
        "readonly_window": bool(readonly_window),
        "before_bytes": before_bytes,
        "after_bytes": after_bytes,
        "reclaimed_bytes": 0 if dry_run or before_bytes is None or after_bytes is None else before_bytes - after_bytes,
        "blobs_before": before.get("blobs"),
        "blobs_after": after.get("blobs") if after else before.get("blobs"),
        "blobs_marked": output.get("blobs_marked"),
        "blobs_removed": 0 if dry_run else len(removed_blobs),
        "manifests_removed": 0 if dry_run else len(removed_manifests),
        "blobs_eligible": len(removed_blobs),
        "manifests_eligible": len(removed_manifests),
        "eligible_blobs": removed_blobs,
        "eligible_manifests": removed_manifests,
        "error": gc_error(run),
        # In a dry run (check mode) this predicts what the real run would change.
        "changed": bool(removed_blobs or removed_manifests),
    }
