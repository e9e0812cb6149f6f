# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""extensions/eda/playbooks/promote_event.yml promotes what the event says was pushed, not what the tag says now."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import secrets
import subprocess

import pytest

from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.unit.extensions import collection_paths

PLAYBOOK = os.path.join(collection_paths.ROOT, "extensions", "eda", "playbooks", "promote_event.yml")


def _event(registries, variant, repository, tag, digest):
    info = registries["registries"][variant]
    return {"id": secrets.token_hex(8), "registry": info["host"], "registry_url": info["url"], "repository": repository,
            "tag": tag, "digest": digest, "media_type": None, "action": "push" if tag else "delete", "actor": "ci",
            "source": "distribution", "scan": None, "raw": {}}


def _run_playbook(tmp_path, extra_vars):
    (tmp_path / "extra.json").write_text(json.dumps(extra_vars))
    return subprocess.run(
        [collection_paths.venv_binary("ansible-playbook"), "-i", "localhost,", PLAYBOOK, "-e", "@%s" % (tmp_path / "extra.json")],
        env=collection_paths.child_env(), capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)


@pytest.fixture
def repository():
    return "hevents/playbook-%s" % secrets.token_hex(4)


def test_a_tag_moved_after_the_push_still_promotes_the_pushed_digest(registries, skopeo, tmp_path, repository):
    pushed = images.push_oci_image(registries, "plain", repository, "2.0.0", seed="hevents-playbook-pushed")
    event = _event(registries, "plain", repository, "2.0.0", pushed.digest)
    # Someone pushes the same tag again before the rulebook's playbook runs.
    moved = images.push_oci_image(registries, "plain", repository, "2.0.0", seed="hevents-playbook-moved")
    assert moved.digest != pushed.digest

    result = _run_playbook(tmp_path, {"registry_event": event,
                                      "promote_event_dest_registry": registries["registries"]["plain2"]["url"]})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert skopeo.inspect_digest("plain2", repository, "2.0.0") == pushed.digest


def test_an_event_without_a_tag_fails_with_a_message_and_promotes_nothing(registries, skopeo, tmp_path, repository):
    pushed = images.push_oci_image(registries, "plain", repository, "2.0.0", seed="hevents-playbook-untagged")
    event = _event(registries, "plain", repository, None, pushed.digest)
    result = _run_playbook(tmp_path, {"registry_event": event,
                                      "promote_event_dest_registry": registries["registries"]["plain2"]["url"]})
    assert result.returncode != 0
    assert "Nothing to promote" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    listing = skopeo.list_tags("plain2", repository, check=False)
    assert listing.returncode != 0 or not json.loads(listing.stdout).get("Tags")
