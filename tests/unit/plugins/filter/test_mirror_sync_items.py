# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mirror role's sync options: per-entry prune/immutable_tags/backup_tag over the mirror_* defaults."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.mirror_copy_items import mirror_copy_items
from ansible_collections.oci.registry.plugins.filter.mirror_report import mirror_report

UP = "registry.example.com/up/app"
DOWN = "mirror.example.com/app"


def test_role_defaults_apply_and_entries_win():
    items = mirror_copy_items([
        {"src": UP, "dest": DOWN, "tag_pattern": "^1\\."},
        {"src": UP, "dest": DOWN + "-b", "tags": ["2.0"], "prune": False, "immutable_tags": "^2\\.",
         "backup_tag": "{tag}-{date}"},
        # A single image has nothing to prune: mirror_prune leaves it alone.
        {"src": UP + ":3.0", "dest": DOWN + "-c"},
    ], prune=True, immutable_tags="^[0-9.]+$", backup_tag="{tag}-prev")
    assert items[0]["prune"] is True and items[0]["immutable_tags"] == "^[0-9.]+$"
    assert items[0]["backup_tag"] == "{tag}-prev"
    assert "prune" not in items[1] and items[1]["immutable_tags"] == "^2\\." and items[1]["backup_tag"] == "{tag}-{date}"
    assert "prune" not in items[2] and items[2]["backup_tag"] == "{tag}-prev"


def test_entry_prune_without_a_selection_is_named_by_position():
    with pytest.raises(AnsibleFilterError, match=r"mirror_images\[0\]: prune needs tags, tag_pattern or semver"):
        mirror_copy_items([{"src": UP + ":1.0", "dest": DOWN, "prune": True}])


def test_report_says_what_was_copied_skipped_pruned_and_backed_up():
    entries = [{"src": UP, "dest": DOWN, "tags": ["1.0", "1.1"], "prune": True}]
    result = {"images": [{"status": "done", "changed": True, "msg": None,
                          "tags": [{"dest": DOWN + ":1.1", "changed": True, "dest_digest": "sha256:b"}],
                          "skipped_tags": ["1.0"], "pruned_tags": ["0.9"], "pruned_manifests": [],
                          "backups": [{"tag": "1.1", "backup": "1.1-prev", "digest": "sha256:a"}],
                          "attachments": []}]}
    report = mirror_report(result, entries)[0]
    assert report["copied"] == [DOWN + ":1.1"] and report["skipped_tags"] == ["1.0"]
    assert report["pruned"] == ["0.9"] and report["backed_up"][0]["backup"] == "1.1-prev"
