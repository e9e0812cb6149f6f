# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Remove tags and delete manifests across repositories, without losing what a tag now uses.

Private to the collection, no compatibility promise; ``docs/dev`` holds the contract.

A plan is computed from a read that may be minutes old. Just before it writes in a repository,
``apply`` reads that repository's tags again (list plus one HEAD per tag) and, after untagging,
once more before deleting manifests. It then refuses:

- to untag a tag that moved to another digest than the plan saw;
- to delete a manifest that a tag the plan does not remove now reaches (directly, or through
  an index at any depth).

Outside check mode, a tag given with the digest of a manifest to delete is not HEADed: where it
points protects nothing (the plan removes it) and its removal is that manifest's DELETE. The list
before shows it is still there; the list after the deletes shows it went (still listed: it had
moved, and is refused as moved, as check mode, which HEADs it, predicts). That is one request per
repository instead of one per such tag, most of the tags of a cleanup.

The window left is between that last read and each manifest DELETE in the same repository: a
tag pushed onto a doomed manifest inside it is deleted with it (the registry API has no
conditional delete). Tags and manifests are removed through the client's ``delete_tag`` (with
its placeholder fallback that keeps other tags) and ``delete_manifest``.
"""

from __future__ import absolute_import, division, print_function

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.oci.registry.plugins.module_utils._errors import NotFoundError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils._media import INDEX_TYPES

__metaclass__ = type  # pylint: disable=invalid-name

DEFAULT_CONCURRENCY = 8
MAX_INDEX_DEPTH = 4
# Requests of one repository step (HEADs of its tags, its manifest deletes) that run in the
# repository's own worker rather than on the shared request pool.
SMALL_BATCH = 4


class _State(object):
    """Tags of one repository as the registry has them now: tag -> (digest, media type).

    Tags in ``unread`` (listed, but with no HEAD of their own) are in ``listed`` and not in ``tags``.
    """

    def __init__(self, client, repository, run, unread=()):
        self.client = client
        self.repository = repository
        self.tags = {}
        self.exists = True
        try:
            self.listed = set(client.tags.iter_tags(repository))
        except NotFoundError:
            self.exists = False
            self.listed = set()
        self.unread = self.listed.intersection(unread)
        heads = run(lambda tag: (tag, client.manifests.head_manifest(repository, tag)),
                    sorted(self.listed - self.unread))
        for tag, descriptor in heads:
            # None: the tag went away between the listing and its HEAD.
            if descriptor is not None:
                self.tags[tag] = (descriptor.digest, descriptor.media_type)

    @classmethod
    def of_read(cls, client, repository, tags):
        """The state a read just made gives: ``tags`` maps every tag listed to (digest, media type)."""
        state = cls.__new__(cls)
        state.client = client
        state.repository = repository
        state.tags = dict(tags)
        state.exists = True
        state.listed = set(state.tags)
        state.unread = set()
        return state

    def read(self, tag):
        """HEAD one unread tag now; its (digest, media type) or None when it is gone."""
        self.unread.discard(tag)
        descriptor = self.client.manifests.head_manifest(self.repository, tag)
        if descriptor is None:
            self.listed.discard(tag)
            return None
        self.tags[tag] = (descriptor.digest, descriptor.media_type)
        return self.tags[tag]

    def reached_by(self, tags):
        """digest -> the tag (sorted first) through which one of ``tags`` reaches it."""
        reached = {}
        frontier = []
        for tag in sorted(tags):
            digest, media_type = self.tags[tag]
            if digest not in reached:
                reached[digest] = tag
                frontier.append((digest, media_type, tag))
        for dummy in range(MAX_INDEX_DEPTH):
            following = []
            for digest, media_type, tag in frontier:
                if media_type is not None and media_type not in INDEX_TYPES:
                    continue
                try:
                    result = self.client.manifests.get_manifest(self.repository, digest)
                except NotFoundError:
                    continue
                if result.manifest is None or not result.manifest.is_index:
                    continue
                for child in result.manifest.manifests:
                    if child.digest and child.digest not in reached:
                        reached[child.digest] = tag
                        following.append((child.digest, child.media_type, tag))
            if not following:
                break
            frontier = following
        return reached


def _item_tags(items):
    """[(tag, expected digest or None)] from tag names or {tag, digest} dicts."""
    result = []
    for item in items or []:
        if isinstance(item, dict):
            result.append((item["tag"], item.get("digest")))
        else:
            result.append((item, None))
    return result


def _item_digests(items):
    """([digest], {digest: media type the caller read}) from digests or {digest, media_type} dicts."""
    digests = []
    media_types = {}
    for item in items or []:
        if isinstance(item, dict):
            digest = item["digest"]
            if item.get("media_type"):
                media_types[digest] = item["media_type"]
        else:
            digest = item
        if digest not in digests:
            digests.append(digest)
    return digests, media_types


def apply_repository(client, entry, check_mode, run, current=None):
    """Apply one entry ``{repository, tags, digests}``; returns (report, diff before).

    ``run(fn, items)`` runs ``fn`` over ``items`` (see ``apply``). ``current``: the repository's tags as a read
    made just now found them, ``{tag: (digest, media type)}``, every tag listed; that read then stands for the
    one before writing (the read again after untagging is made all the same).
    """
    repository = entry["repository"]
    wanted_tags = _item_tags(entry.get("tags"))
    wanted_digests, given_types = _item_digests(entry.get("digests"))
    report = {"repository": repository, "changed": False, "removed_tags": [], "deleted": [], "absent": [],
              "refused": [], "error": None}
    before = {"tags": {}, "manifests": []}
    # A tag listed with the digest it points to, where that digest is to be deleted, goes with the
    # manifest: no request of its own. A real run then does not HEAD it (a listing shows it is still
    # there; a listing after the deletes shows it went); which tags the plan keeps or does not know
    # (the ones that protect manifests) is always read. Check mode reads every tag, to predict a tag
    # that moved.
    planned = dict((tag, expected) for tag, expected in wanted_tags if expected is not None)
    # Sets for membership: a big repository has a thousand tags and digests to delete.
    doomed = set(wanted_digests)
    with_manifest = () if check_mode else [tag for tag, expected in planned.items() if expected in doomed]
    if current is not None:
        state = _State.of_read(client, repository, current)
    else:
        state = _State(client, repository, run, with_manifest)
    if not state.exists:
        report["absent"] = [tag for tag, dummy in wanted_tags] + wanted_digests
        return report, before

    def moved(tag, current):
        report["refused"].append({"tag": tag, "digest": current[0],
                                  "reason": "moved: points to %s, the plan saw %s" % (current[0], planned[tag])})

    removing = set()
    for tag, expected in wanted_tags:
        if tag in state.unread:
            removing.add(tag)
            before["tags"][tag] = expected
            continue
        current = state.tags.get(tag)
        if current is None:
            report["absent"].append(tag)
        elif expected is not None and current[0] != expected:
            moved(tag, current)
        else:
            removing.add(tag)
            before["tags"][tag] = current[0]

    def doomed_digests(current_state):
        """Planned digests nothing surviving reaches, and refusals for the others."""
        # An unread tag is one the plan removes: where it points now protects nothing.
        survivors = [tag for tag in current_state.tags if tag not in removing]
        reached = current_state.reached_by(survivors)
        allowed = []
        refused = []
        for digest in wanted_digests:
            if digest in reached:
                tag = reached[digest]
                how = "points to it" if current_state.tags[tag][0] == digest else "lists it (through an index)"
                refused.append({"digest": digest, "reason": "tag %s, which the plan keeps, now %s" % (tag, how)})
            else:
                allowed.append(digest)
        return allowed, refused

    def confirm(tags, current_state):
        """The unread ones of ``tags`` that still point where the plan saw them (HEAD now), and the read ones."""
        confirmed = []
        for tag in tags:
            if tag in current_state.unread:
                current = current_state.read(tag)
                if current is None:
                    removing.discard(tag)
                    before["tags"].pop(tag, None)
                    report["absent"].append(tag)
                    continue
                if current[0] != before["tags"][tag]:
                    removing.discard(tag)
                    before["tags"].pop(tag, None)
                    moved(tag, current)
                    continue
            confirmed.append(tag)
        return confirmed

    def digest_of(tag):
        return before["tags"][tag] if tag in state.unread else state.tags.get(tag, (None,))[0]

    allowed, refused = doomed_digests(state)
    allowed_now = set(allowed)
    going_with_digest = set(tag for tag in removing if digest_of(tag) in allowed_now)
    untag = confirm(sorted(removing - going_with_digest), state)

    def untag_all(tags):
        for tag in tags:
            via = "tag" if check_mode else client.manifests.delete_tag(repository, tag)
            report["removed_tags"].append({"tag": tag, "digest": before["tags"][tag], "via": via})

    untag_all(untag)
    if untag and allowed and not check_mode:
        # Untagging took time: read again just before the manifest deletes.
        # Tags that go with a manifest need no HEAD (see with_manifest): the listing after the deletes tells.
        state = _State(client, repository, run, going_with_digest)
        allowed, refused = doomed_digests(state)
        # A tag that was to go with a manifest now refused is removed on its own.
        still_allowed = set(allowed)
        stranded = [tag for tag in sorted(going_with_digest) if before["tags"][tag] not in still_allowed]
        going_with_digest -= set(stranded)
        stranded = confirm(stranded, state)
        untag_all(tag for tag in stranded if state.tags.get(tag, (None,))[0] == before["tags"][tag])
    report["refused"].extend(refused)

    tagged_types = dict(state.tags.values())
    # Digests an unread tag still listed points to (as far as the plan knows): they exist.
    listed_with = set(before["tags"][tag] for tag in going_with_digest if tag in state.unread)

    def media_type_of(digest):
        """(exists, media type); a repeated run must send no write, so look before deleting."""
        if digest in tagged_types:
            return True, tagged_types[digest]
        if digest in listed_with and digest in given_types:
            return True, given_types[digest]
        descriptor = client.manifests.head_manifest(repository, digest)
        return descriptor is not None, descriptor.media_type if descriptor is not None else None

    def delete(digest):
        if check_mode:
            return True
        try:
            client.manifests.delete_manifest(repository, digest)
        except NotFoundError:
            return False
        return True

    found = dict(zip(allowed, run(media_type_of, allowed)))
    present = [digest for digest in allowed if found[digest][0]]
    # Indexes one after the other in the given order (parents first), so no index ever lists a
    # deleted manifest; then the image manifests, which list no manifest, all at once.
    indexes = [digest for digest in present if found[digest][1] is None or found[digest][1] in INDEX_TYPES]
    images = [digest for digest in present if digest not in indexes]
    gone = dict((digest, delete(digest)) for digest in indexes)
    gone.update(zip(images, run(delete, images)))

    # Unread tags whose manifest is gone: listed again, a tag still there had moved (it did not go).
    unread_gone = sorted(tag for tag in going_with_digest if tag in state.unread and gone.get(before["tags"][tag]))
    still_listed = set()
    if unread_gone:
        try:
            still_listed = set(client.tags.iter_tags(repository)).intersection(unread_gone)
        except NotFoundError:
            still_listed = set()
    for tag in sorted(still_listed):
        current = state.read(tag)
        going_with_digest.discard(tag)
        before["tags"].pop(tag, None)
        if current is not None:
            moved(tag, current)
        else:
            report["absent"].append(tag)
    # Unread tags whose manifest was already gone: where they point now decides.
    for tag in sorted(tag for tag in going_with_digest if tag in state.unread and not gone.get(before["tags"][tag])):
        going_with_digest.discard(tag)
        if confirm([tag], state):
            before["tags"].pop(tag, None)

    tags_of = {}
    for tag in going_with_digest:
        tags_of.setdefault(digest_of(tag), []).append(tag)
    for digest in allowed:
        if not gone.get(digest):
            report["absent"].append(digest)
            continue
        report["deleted"].append(digest)
        before["manifests"].append(digest)
        for tag in tags_of.get(digest, ()):
            report["removed_tags"].append({"tag": tag, "digest": digest, "via": "manifest"})
    report["removed_tags"].sort(key=lambda item: item["tag"])
    report["changed"] = bool(report["removed_tags"] or report["deleted"])
    return report, before


def error_report(repository, exc):
    """(report, diff before) of a repository whose apply failed with ``exc``."""
    report = {"repository": repository, "changed": False, "removed_tags": [], "deleted": [], "absent": [],
              "refused": [], "error": _error_dict(exc)}
    return report, {"tags": {}, "manifests": []}


def diff_of(results):
    """(diff before, diff after) by repository from ``(report, before)`` pairs."""
    diff_before = {}
    diff_after = {}
    for report, before in results:
        if not report["changed"]:
            continue
        name = report["repository"]
        removed = set(item["tag"] for item in report["removed_tags"])
        deleted = set(report["deleted"])
        diff_before[name] = before
        diff_after[name] = {"tags": dict((tag, digest) for tag, digest in before["tags"].items()
                                         if tag not in removed),
                            "manifests": [d for d in before["manifests"] if d not in deleted]}
    return diff_before, diff_after


def _error_dict(exc):
    error = {"msg": " ".join((str(exc).strip() or exc.__class__.__name__).split())}
    for key in ("status", "code", "hint"):
        value = getattr(exc, key, None)
        if value is not None:
            error[key] = value
    return error


def _weight(entry):
    return len(entry.get("tags") or []) + len(entry.get("digests") or [])


def batch_runner(request_pool):
    """``run(fn, items)`` for the steps of one repository: a few items in the calling worker, more on the pool."""
    def run(fn, items):
        if len(items) <= SMALL_BATCH:
            return [fn(item) for item in items]
        return list(request_pool.map(fn, items))
    return run


def apply(client, entries, check_mode=False, concurrency=DEFAULT_CONCURRENCY):
    """Apply every entry ``{repository, tags, digests}``; returns (reports, diff before, diff after).

    Repositories run concurrently (at most ``concurrency``); inside one repository the order is:
    read tags, untag, read again, delete the indexes in the given order, then the image manifests
    concurrently.
    """
    concurrency = max(1, int(concurrency or 1))
    results = [None] * len(entries)
    # One pool for repositories and one shared by the requests of the big ones: at most twice
    # ``concurrency`` requests in flight, and no pool (threads) started per repository. A small
    # repository's few requests run one after the other in its own worker: thousands of them keep
    # every worker busy anyway. The biggest start first so that none is left running alone at the end.
    with ThreadPoolExecutor(max_workers=concurrency) as repository_pool, \
            ThreadPoolExecutor(max_workers=concurrency) as request_pool:

        run = batch_runner(request_pool)

        def one(index):
            entry = entries[index]
            try:
                results[index] = apply_repository(client, entry, check_mode, run)
            except RegistryError as exc:
                results[index] = error_report(entry["repository"], exc)

        order = sorted(range(len(entries)), key=lambda index: -_weight(entries[index]))
        list(repository_pool.map(one, order))
    diff_before, diff_after = diff_of(results)
    return [report for report, dummy in results], diff_before, diff_after
