# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_manifest against the real registries where the mocked tests cannot show the effect."""

from __future__ import annotations

from ansible_collections.oci.registry.plugins.modules import registry_manifest
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run


def test_untag_with_deletes_disabled_fails_and_leaves_no_placeholder(registries, skopeo, unique_repo, capsys):
    image = images.push_oci_image(registries, "plain_nodelete", unique_repo, "keep")
    images.tag_manifest(registries, "plain_nodelete", unique_repo, image, ["remove"])
    url = registries["registries"]["plain_nodelete"]["url"]

    result = run(registry_manifest, capsys, registry_url=url, repository=unique_repo, tag="remove", state="absent",
                 verbosity=3)

    assert result["failed"] is True
    assert "nothing was changed" in result["msg"] and "REGISTRY_STORAGE_DELETE_ENABLED" in result["msg"]
    assert "\n" not in result["msg"]
    writes = [r for r in result["trace"] if r["method"] in ("PUT", "POST", "PATCH")]
    assert writes == []  # no throwaway manifest was pushed, so none is left behind
    assert sorted(skopeo.list_tags("plain_nodelete", unique_repo)) == ["keep", "remove"]
    assert skopeo.inspect_digest("plain_nodelete", unique_repo, "remove") == image.digest
