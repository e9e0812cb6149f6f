# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Many copies in one run: select, pin, guard and plan every image, then write.

The copy engine (copy.py) owns one copy; this service owns a set of them, as
the registry_copy ``images`` option, the mirror role and the promote role use
them:

1. select: a ``semver`` range (optionally narrowed by ``tag_pattern``) becomes
   a tag list, read from the source once per item;
2. pin: every source tag is resolved to a digest once, so all destinations of
   one source get the same image even if the tag moves meanwhile;
3. guard: ``expected_digest`` against the pinned digest; ``overwrite: false``
   against every destination tag (after platform filtering);
4. plan: every read of the engine (CopyEngine.plan), no write;
5. write: CopyEngine.execute per planned item.

With ``atomic`` nothing is written unless steps 1-4 succeeded for every item.
Without it, each item that got through step 4 is written and the others are
reported as failed. Items run ``image_concurrency`` at a time, each with the
engine's own ``concurrency``.

Pure Python on top of the registry client; no Ansible imports.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.oci.registry.plugins.module_utils._copy import CopyEngine, pulls_needed, sync_options
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    InvalidReferenceError,
    NotFoundError,
    RegistryError,
)
from ansible_collections.oci.registry.plugins.module_utils._options import check_number
from ansible_collections.oci.registry.plugins.module_utils._rate_limit import check_pulls
from ansible_collections.oci.registry.plugins.module_utils._semver import SemverError, filter_versions
from ansible_collections.oci.registry.plugins.module_utils._tracing import safe_host

DEFAULT_IMAGE_CONCURRENCY = 4

# Item states in the result.
DONE = "done"
FAILED = "failed"
REFUSED = "refused"
SKIPPED = "skipped"
NOT_STARTED = "not_started"


class CopyItem:
    """One image (or one repository's tag selection) to copy.

    ``src``/``dest`` are ImageReference objects; ``src_client``/``dest_client``
    RegistryClient objects, shared between items that use the same registry
    and identity.
    """

    def __init__(self, src, dest, src_client, dest_client, tags=None, tag_pattern=None, semver=None,
                 include_prerelease=False, limit=None, allow_empty=False, platforms=None, referrers=False,
                 overwrite=True, expected_digest=None, prune=False, prune_manifests=False, immutable_tags=None,
                 backup_tag=None):
        self.src = src
        self.dest = dest
        self.src_client = src_client
        self.dest_client = dest_client
        self.tags = list(tags) if tags is not None else None
        self.tag_pattern = tag_pattern
        self.semver = semver
        self.include_prerelease = include_prerelease
        self.limit = limit
        self.allow_empty = allow_empty
        self.platforms = platforms or None
        self.referrers = referrers
        self.overwrite = overwrite
        self.expected_digest = expected_digest
        self.prune = bool(prune)
        self.prune_manifests = bool(prune_manifests)
        self.immutable_tags = immutable_tags or None
        self.backup_tag = backup_tag or None
        self.validate()

    @property
    def multi(self):
        return self.tags is not None or bool(self.tag_pattern) or bool(self.semver)

    def validate(self):
        """Option combinations that no registry answer can make valid; raised before any request."""
        if self.tags is not None and (self.tag_pattern or self.semver):
            raise InvalidReferenceError("use tags, or tag_pattern and/or semver, not both", action="copy")
        if self.expected_digest and self.multi:
            raise InvalidReferenceError(
                "expected_digest guards one source image; it cannot be combined with tags, tag_pattern or semver",
                action="copy")
        if self.tag_pattern:
            try:
                re.compile(self.tag_pattern)
            except re.error as err:
                raise InvalidReferenceError("tag_pattern %r is not a valid regular expression: %s"
                                            % (self.tag_pattern, err), action="copy") from None
        if self.semver:
            try:
                filter_versions([], self.semver, limit=self.limit)
            except (SemverError, ValueError) as err:
                raise InvalidReferenceError("semver %r: %s" % (self.semver, err), action="copy") from None
        sync_options(self.multi, self.prune, self.prune_manifests, self.immutable_tags, self.backup_tag)

    @property
    def sync(self):
        """The engine's sync options (prune, prune_manifests, immutable_tags, backup_tag)."""
        return {"prune": self.prune, "prune_manifests": self.prune_manifests, "immutable_tags": self.immutable_tags,
                "backup_tag": self.backup_tag}


class _State:
    """What happened to one item, and its result dict."""

    def __init__(self, index, item):
        self.index = index
        self.item = item
        self.status = None
        self.plan = None
        self.engine = None
        self.error = None
        self.refusal = None
        self.result = None
        self.tags = item.tags
        self.pinned = None
        # True once _select turned semver/tag_pattern into the tag list the engine copies.
        self.selected = False

    def fail(self, status, error, refusal=None):
        self.status = status
        self.error = error
        self.refusal = refusal


def expected_digest_refusal(src, resolved, expected):
    """The ``expected_digest`` guard; None when the source still is the expected image."""
    if not expected or resolved == expected:
        return None
    return {
        "guard": "expected_digest",
        "msg": "%s resolves to %s, expected_digest is %s" % (src, resolved, expected),
        "src_digest": resolved,
        "expected_digest": expected,
    }


def overwrite_refusal(copy_plan):
    """The ``overwrite: false`` guard over every planned destination tag; None when no tag would move."""
    conflicts = [{"dest": tag["dest"], "before": tag["before"], "after": tag["dest_digest"]}
                 for tag in copy_plan.tags if tag["before"] is not None and tag["before"] != tag["dest_digest"]]
    if not conflicts:
        return None
    return {
        "guard": "overwrite",
        "msg": "; ".join("%s points to %s, the copy would set %s" % (c["dest"], c["before"], c["after"])
                         for c in conflicts) + " (overwrite is false)",
        "conflicts": conflicts,
    }


def _write_keys(state):
    registry = state.item.dest.registry_url
    keys = [(registry, "repository", state.item.dest.repository)]
    plan = state.plan
    keys.extend((registry, "manifest", digest) for digest in plan.graph)
    keys.extend((registry, "manifest", digest) for digest in plan.referrer_graph)
    keys.extend((registry, "manifest", tag_plan.target_digest) for tag_plan in plan.plans)
    return keys


def _overlapping(states):
    """Groups (lists, in item order) of states whose write sets share a key; union-find over the keys."""
    parent = {}

    def find(key):
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    states = list(states)
    for state in states:
        keys = _write_keys(state)
        root = find(keys[0])
        for key in keys[1:]:
            parent[find(key)] = root
    groups = {}
    for state in states:
        groups.setdefault(find(_write_keys(state)[0]), []).append(state)
    return list(groups.values())


class BatchCopy:
    """Runs a list of CopyItem; see the module docstring for the phases."""

    def __init__(self, concurrency=None, image_concurrency=DEFAULT_IMAGE_CONCURRENCY, chunk_size=None,
                 check_mode=False, atomic=False):
        self.concurrency = check_number("concurrency", concurrency)
        self.image_concurrency = check_number("image_concurrency", image_concurrency)
        self.chunk_size = chunk_size
        self.check_mode = check_mode
        self.atomic = atomic

    def run(self, items):
        states = [_State(index, item) for index, item in enumerate(items)]
        with ThreadPoolExecutor(max_workers=self.image_concurrency, thread_name_prefix="oci-batch") as pool:
            self._each(pool, self._select, states)
            self._pin(pool, states)
            self._each(pool, self._plan, states)
            self._check_pull_limits(states)
            blocked = self.atomic and any(state.status in (FAILED, REFUSED) for state in states)
            if blocked:
                for state in states:
                    if state.status is None:
                        state.status = NOT_STARTED
            else:
                self._execute_groups(pool, states)
        return self._results(states)

    # ---------------------------------------------------------------- phases

    @staticmethod
    def _each(pool, fn, states):
        def guarded(state):
            if state.status is not None:
                return
            try:
                fn(state)
            except RegistryError as err:
                state.fail(FAILED, err)
        list(pool.map(guarded, states))

    def _select(self, state):
        """A semver range (or, with allow_empty, a tag_pattern) becomes the tag list to copy."""
        item = state.item
        if not item.semver and not (item.tag_pattern and item.allow_empty):
            return
        tags = list(item.src_client.tags.iter_tags(item.src.repository))
        if item.semver:
            tags = filter_versions(tags, item.semver, include_prerelease=item.include_prerelease, limit=item.limit)
        else:
            tags = sorted(tags)
        if item.tag_pattern:
            pattern = re.compile(item.tag_pattern)
            tags = [tag for tag in tags if pattern.search(tag)]
        if not tags:
            if item.allow_empty:
                state.status = SKIPPED
                state.tags = []
                return
            selection = " and ".join(text for text in (
                "semver %r" % item.semver if item.semver else None,
                "tag_pattern %r" % item.tag_pattern if item.tag_pattern else None) if text)
            raise NotFoundError("no tag of %s matches %s" % (item.src, selection), action="copy",
                                hint="allow_empty skips an image whose selection matches no source tag")
        state.tags = tags
        state.selected = True

    def _pin(self, pool, states):
        """Resolve each distinct source tag once; the guard compares against that one answer."""
        singles = [state for state in states if state.status is None and not state.item.multi]
        keys = {}
        for state in singles:
            src = state.item.src
            if src.tag and not src.digest:
                keys.setdefault((id(state.item.src_client), src.registry_url, src.repository, src.tag), state)

        def head(entry):
            key, state = entry
            try:
                found = state.item.src_client.manifests.head_manifest(key[2], key[3])
            except RegistryError as err:
                return key, err
            if found is None:
                return key, NotFoundError("source manifest not found", registry=state.item.src.registry,
                                          repository=key[2], reference=key[3], action="copy")
            return key, found.digest

        resolved = dict(pool.map(head, keys.items()))
        for state in singles:
            src = state.item.src
            digest = src.digest
            if src.tag and not src.digest:
                answer = resolved[(id(state.item.src_client), src.registry_url, src.repository, src.tag)]
                if isinstance(answer, RegistryError):
                    state.fail(FAILED, answer)
                    continue
                digest = answer
                state.pinned = src.with_digest(digest)
            refusal = expected_digest_refusal(src, digest, state.item.expected_digest)
            if refusal is not None:
                state.fail(REFUSED, None, refusal)

    def _plan(self, state):
        item = state.item
        state.engine = CopyEngine(item.src_client, item.dest_client, concurrency=self.concurrency,
                                  chunk_size=self.chunk_size, check_mode=self.check_mode)
        src = state.pinned or item.src
        dest = item.dest
        if src is not item.src and not dest.tag and not dest.digest:
            # The engine takes the destination tag from the source; pinning must not lose it.
            dest = dest.with_tag(item.src.tag)
        tags = state.tags if state.selected else item.tags
        state.plan = state.engine.plan(src, dest, platforms=item.platforms, tags=tags,
                                       tag_pattern=None if state.selected else item.tag_pattern,
                                       referrers=item.referrers, **item.sync)
        if not item.overwrite:
            refusal = overwrite_refusal(state.plan)
            if refusal is not None:
                state.fail(REFUSED, None, refusal)

    @staticmethod
    def _check_pull_limits(states):
        """Every planned item of a source registry with too few pulls left fails before anything is written.

        Each plan was checked alone; together they may need more than the registry allows (Docker Hub),
        and running out halfway would leave a half-synced set.
        """
        planned = [state for state in states if state.status is None and state.plan is not None]
        by_host = {}
        for state in planned:
            host = safe_host(state.item.src_client.registry_url)
            by_host.setdefault(host, []).append(state)
        for host, host_states in by_host.items():
            try:
                check_pulls(host, sum(pulls_needed(state.plan.pending) for state in host_states))
            except RegistryError as err:
                for state in host_states:
                    state.fail(FAILED, err)

    def _execute(self, state):
        state.result = state.engine.execute(state.plan)
        state.status = DONE

    def _execute_groups(self, pool, states):
        """Write groups concurrently, the items of one group one after the other.

        Two items that write the same destination repository (promote: one image under several tags), or
        the same manifest on the same registry, are never written at the same time: distribution's
        filesystem storage rewrites a manifest file in place, so a concurrent PUT of identical content can
        make the registry read a truncated child manifest and refuse the index (MANIFEST_BLOB_UNKNOWN).
        """
        groups = _overlapping(state for state in states if state.status is None)

        def run_group(group):
            for state in group:
                try:
                    self._execute(state)
                except RegistryError as err:
                    state.fail(FAILED, err)
        list(pool.map(run_group, groups))

    # ---------------------------------------------------------------- result

    def _results(self, states):
        images = [self._item_result(state) for state in states]
        done = [image for image in images if image["status"] == DONE]
        totals = {"copied": 0, "mounted": 0, "skipped": 0, "bytes": 0}
        for image in done:
            for key in totals:
                totals[key] += image["blobs"].get(key, 0)
        counts = dict((status, sum(1 for image in images if image["status"] == status))
                      for status in (DONE, FAILED, REFUSED, SKIPPED, NOT_STARTED))
        counts["total"] = len(images)
        counts["changed"] = sum(1 for image in images if image["changed"])
        return {
            "changed": counts["changed"] > 0,
            "images": images,
            "summary": counts,
            "blobs": totals,
            "manifests": sum(image["manifests"] for image in done),
        }

    def _item_result(self, state):
        item = state.item
        result = {
            "index": state.index,
            "src": str(item.src),
            "dest": str(item.dest),
            "status": state.status,
            "changed": False,
            "msg": None,
            "refused": None,
            "src_digest": None,
            "dest_digest": None,
            "media_type": None,
            "digest_changed": False,
            "manifests": 0,
            "blobs": {"copied": 0, "mounted": 0, "skipped": 0, "bytes": 0},
            "referrers": [],
            "tags": [],
            "skipped_tags": [],
            "backups": [],
            "attachments": [],
            "pruned_tags": [],
            "pruned_manifests": [],
            "prune_refused": [],
        }
        if state.result is not None:
            result.update(state.result)
            # Clients are shared by items running at once: only the batch total is exact.
            result.pop("requests", None)
        elif state.plan is not None:
            # Planned but not written (another item failed under atomic): what it would have written.
            planned = state.plan.tags
            result["tags"] = [dict(tag, changed=False) for tag in planned]
            if not state.plan.multi:
                result.update(src_digest=planned[0]["src_digest"], dest_digest=planned[0]["before"])
        if state.refusal is not None:
            result["refused"] = state.refusal
            result["msg"] = "refused by %s: %s" % (state.refusal["guard"], state.refusal["msg"])
            result["src_digest"] = state.refusal.get("src_digest", result["src_digest"])
        elif state.error is not None:
            result["msg"] = " ".join(str(state.error).split()) or state.error.__class__.__name__
            for key in ("status", "code", "hint"):
                value = getattr(state.error, key, None)
                if value is not None:
                    result["error_" + key] = value
        elif state.status == NOT_STARTED:
            result["msg"] = "not written: another image failed and the batch is atomic"
        elif state.status == SKIPPED:
            result["msg"] = "no source tag matched; skipped (allow_empty)"
        result["changed"] = bool(result["changed"]) and state.status == DONE
        return result
