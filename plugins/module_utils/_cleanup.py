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
owners run back to back and only the report leaves the process:

- the repositories: ``_tag_info.repository_names`` (a list, or the catalog cut by a pattern);
- the read: ``_inventory.read_repositories`` (compact: what the planner reads);
- the plan: ``_retention.plan_repositories`` (the safety invariant lives there);
- the apply: ``_bulk_delete.apply`` (its race guard re-reads each repository just before writing);
- the report: ``_retention.cleanup_report``.

Pure Python on top of the registry client; no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

from ansible_collections.oci.registry.plugins.module_utils._bulk_delete import apply
from ansible_collections.oci.registry.plugins.module_utils._inventory import DEFAULT_CONCURRENCY, read_repositories
from ansible_collections.oci.registry.plugins.module_utils._retention import (
    RetentionError,
    check_options,
    cleanup_report,
    plan_repositories,
)
from ansible_collections.oci.registry.plugins.module_utils._service import Outcome, ServiceError
from ansible_collections.oci.registry.plugins.module_utils._tag_info import repository_names

# The planner's options among registry_delete's ``retention`` suboptions.
PLAN_OPTIONS = ("keep_patterns", "delete_patterns", "keep_latest", "older_than_days", "mode")


def plan_options(retention):
    """The planner's keyword arguments from ``retention``; ServiceError (one line) when it would refuse them."""
    options = dict((key, retention.get(key)) for key in PLAN_OPTIONS if retention.get(key) is not None)
    options.setdefault("mode", "untag")
    try:
        check_options(**options)
    except RetentionError as err:
        raise ServiceError("retention: %s" % err)
    return options


def clean(client, retention, check_mode=False, concurrency=DEFAULT_CONCURRENCY):
    """One cleanup run; an Outcome with ``report`` (the cleanup role's ``cleanup_report``), ``changed`` and
    ``failed_repositories``, and the apply's before/after for ``--diff``.

    ``retention``: ``repositories`` (names) or ``repository_pattern``, the planner's options (PLAN_OPTIONS)
    and ``dry_run`` (read and plan only; the report then shows nothing applied, as does check mode, in
    which the apply reads the registry again and predicts exactly what it would refuse).
    """
    options = plan_options(retention)
    if retention.get("repositories") is None and retention.get("repository_pattern") is None:
        raise ServiceError("retention needs repositories (names) or repository_pattern (a regular expression)")
    dry_run = bool(retention.get("dry_run"))
    names = repository_names(client, retention.get("repositories"), retention.get("repository_pattern"))
    plan = plan_repositories(read_repositories(client, names, concurrency=concurrency, compact=True), **options)
    applied = None
    before = {}
    after = {}
    if not dry_run and plan["apply"]:
        reports, before, after = apply(client, plan["apply"], check_mode=check_mode, concurrency=concurrency)
        applied = {"repositories": reports}
    # Only the report leaves: the plan's apply entries and the apply's per-tag results stay here.
    report = cleanup_report(plan, applied, mode=options["mode"], dry_run=dry_run, check_mode=check_mode)
    changed = any(entry["changed"] for entry in report["repositories"])
    result = dict(changed=changed, report=report, failed_repositories=report["failed_repositories"])
    return Outcome(result, before=before if changed else None, after=after if changed else None)
