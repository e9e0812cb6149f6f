# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Read, plan, apply and report a retention cleanup in one process: registry_delete's ``retention``.

The cleanup role used to pass the bulk read, the plan and the apply's result from task to task;
Ansible's cost of handing a value on is about that of reading it over HTTP, so at thousands of
repositories the role spent as long moving data as the registry spent serving it. Here the same
owners run back to back, repository by repository, and only the report leaves the process:

- the repositories: ``_tag_info.repository_names`` (a list, or the catalog cut by a pattern);
- the read: ``_inventory.InventoryReader`` (the manifest graph; compact, what the planner reads);
- the plan: ``_retention.plan_repositories`` (the safety invariant lives there);
- the apply: ``_bulk_delete.apply_repository`` (the race guard);
- the report: ``_retention.cleanup_report``.

Each repository is read, planned and applied in one go, so its plan is never older than its own
read. For a small repository (at most ``SMALL_BATCH`` tags) that read, a few requests before the
first write, is the race guard's read before writing: the apply does not list and HEAD the tags
again (three requests less per repository, most of a cleanup's repositories). A bigger one, whose
read takes longer, is read again by the apply just before it writes, as ``registry_delete`` does
with a plan made elsewhere. Either way the apply reads once more after untagging, before deleting
manifests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.oci.registry.plugins.module_utils._bulk_delete import (
    SMALL_BATCH,
    apply_repository,
    batch_runner,
    diff_of,
    error_report,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import RegistryError
from ansible_collections.oci.registry.plugins.module_utils._inventory import (
    DEFAULT_CONCURRENCY,
    InventoryReader,
    Repo,
    describe,
)
from ansible_collections.oci.registry.plugins.module_utils._retention import (
    RetentionError,
    check_options,
    cleanup_report,
    plan_repositories,
)
from ansible_collections.oci.registry.plugins.module_utils._service import Outcome, ServiceError
from ansible_collections.oci.registry.plugins.module_utils._signature import (
    load_public_keys,
    read_signatures,
    require_cryptography,
)
from ansible_collections.oci.registry.plugins.module_utils._tag_info import repository_names

# The planner's options among registry_delete's ``retention`` suboptions.
PLAN_OPTIONS = ("keep_patterns", "delete_patterns", "keep_latest", "older_than_days", "mode", "keep_signed",
                "delete_orphans")


def plan_options(retention):
    """The planner's keyword arguments from ``retention``; ServiceError (one line) when it would refuse them."""
    options = dict((key, retention.get(key)) for key in PLAN_OPTIONS if retention.get(key) is not None)
    options.setdefault("mode", "untag")
    try:
        check_options(**options)
    except RetentionError as err:
        raise ServiceError("retention: %s" % err)
    if retention.get("verify_keys") and not options.get("keep_signed"):
        raise ServiceError("retention: verify_keys is only used with keep_signed: true (keep the images whose "
                           "signature one of these keys verifies); set keep_signed or drop verify_keys")
    return options


def verify_keys(retention):
    """The public keys of ``retention.verify_keys`` (an empty tuple when unset): read before any registry request."""
    if not retention.get("verify_keys"):
        return ()
    require_cryptography()
    return tuple(load_public_keys(retention["verify_keys"]))


def _signature_lookup(client, repo, keys, run):
    """``signatures`` for the planner: which of the digests it asks about are signed (verified by ``keys``, if any).

    Asked only about the images the rules would remove. The repository's tags were just listed, so cosign's
    tags and the referrers fallback tag are read only where they exist; the referrers API is asked every time.
    """
    known_tags = frozenset(repo.tags or ())

    def lookup(digests):
        found = {}

        def one(digest):
            status = read_signatures(client, repo.name, digest, keys, known_tags=known_tags, signatures_only=True)
            if keys:
                verified = [entry for entry in status["signatures"] if entry["verified"]]
                if verified:
                    first = verified[0]
                    found[digest] = "signature %s verified by key %s" % (first["digest"], first["key_fingerprint"])
            elif status["signatures"]:
                first = status["signatures"][0]
                found[digest] = "signed (%s scheme, %s; not verified: no verify_keys)" % (
                    first["scheme"], first["digest"])
        run(one, digests)
        return found
    return lookup


def _presence_lookup(client, repo, run):
    """``subjects_present`` for the planner: which digests still exist (a HEAD each)."""
    def lookup(digests):
        present = set()

        def one(digest):
            if client.manifests.head_manifest(repo.name, digest) is not None:
                present.add(digest)
        run(one, digests)
        return present
    return lookup


def _current_tags(repo):
    """{tag: (digest, media type)} of every tag the read found (a tag gone before its GET is not listed)."""
    return dict((tag, (digest, repo.results[digest].media_type)) for tag, digest in repo.tag_digest.items())


def clean(client, retention, check_mode=False, concurrency=DEFAULT_CONCURRENCY):
    """One cleanup run; an Outcome with ``report`` (the cleanup role's ``cleanup_report``), ``changed`` and
    ``failed_repositories``, and the apply's before/after for ``--diff``.

    ``retention``: ``repositories`` (names) or ``repository_pattern``, the planner's options (PLAN_OPTIONS)
    and ``dry_run`` (read and plan only; the report then shows nothing applied). Check mode reads and plans
    as a real run does and predicts the apply (refusals included).
    """
    options = plan_options(retention)
    keys = verify_keys(retention)
    if retention.get("repositories") is None and retention.get("repository_pattern") is None:
        raise ServiceError("retention needs repositories (names) or repository_pattern (a regular expression)")
    dry_run = bool(retention.get("dry_run"))
    names = repository_names(client, retention.get("repositories"), retention.get("repository_pattern"))
    concurrency = max(1, int(concurrency or 1))
    reader = InventoryReader(client, concurrency, details=True)
    planned = [None] * len(names)
    applied = [None] * len(names)
    # As in _bulk_delete.apply: one pool for repositories, one shared by the requests of the big ones, so at
    # most twice ``concurrency`` requests are in flight; a small repository's requests run in its own worker.
    with ThreadPoolExecutor(max_workers=concurrency) as repository_pool, \
            ThreadPoolExecutor(max_workers=concurrency) as request_pool:
        run = batch_runner(request_pool)

        def one(index):
            repo = Repo(names[index])
            reader.read([repo], run)
            lookups = {}
            if repo.error is None:
                if options.get("keep_signed"):
                    lookups["signatures"] = _signature_lookup(client, repo, keys, run)
                if options.get("delete_orphans"):
                    lookups["subjects_present"] = _presence_lookup(client, repo, run)
            try:
                plan = plan_repositories([describe(repo, compact=True)], **dict(options, **lookups))
            except RegistryError as exc:
                # Signatures or subjects that could not be read: nothing is removed in this repository.
                repo.fail(exc)
                plan = plan_repositories([describe(repo, compact=True)], **options)
            planned[index] = plan["repositories"][0]
            if dry_run or not plan["apply"]:
                return
            current = _current_tags(repo) if len(repo.tags) <= SMALL_BATCH else None
            try:
                applied[index] = apply_repository(client, plan["apply"][0], check_mode, run, current)
            except RegistryError as exc:
                applied[index] = error_report(names[index], exc)

        list(repository_pool.map(one, range(len(names))))
    results = [item for item in applied if item is not None]
    before, after = diff_of(results)
    # Only the report leaves: the apply entries and the per-tag results of the apply stay here.
    report = cleanup_report({"repositories": planned}, None if dry_run else {"repositories": [r for r, d in results]},
                            mode=options["mode"], dry_run=dry_run, check_mode=check_mode)
    changed = any(entry["changed"] for entry in report["repositories"])
    result = dict(changed=changed, report=report, failed_repositories=report["failed_repositories"])
    return Outcome(result, before=before if changed else None, after=after if changed else None)
