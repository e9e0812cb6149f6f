# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real distribution registry notifies the registry_events source: skopeo pushes, the source queues."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import queue as queue_module
import secrets

import pytest

from ansible_collections.oci.registry.plugins.filter.event_to_reference import event_to_reference
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.skopeo import Skopeo
from ansible_collections.oci.registry.tests.unit.extensions.eda.listener import running
from ansible_collections.oci.registry.tests.unit.extensions.eda.notifying_registry import VARIANT, notifying_registry

# Deliveries are asynchronous (the registry queues them); this bounds the wait, it asserts nothing.
DELIVERY_WAIT = 30


def _next(events, wanted):
    """The next queued event that wanted() accepts; the registry may also report the pushes of its blobs' mounts."""
    while True:
        try:
            event = events.get(DELIVERY_WAIT)
        except queue_module.Empty:
            raise AssertionError("no matching event arrived within %ds" % DELIVERY_WAIT) from None
        if wanted(event):
            return event


@pytest.fixture
def repository():
    return "hevents/notify-%s" % secrets.token_hex(4)


def test_push_and_delete_arrive_as_events(registries, tmp_path, repository):
    token = secrets.token_urlsafe(16)
    with running({"token": token, "actions": ["push", "delete"]}) as (events, base):
        with notifying_registry(registries, str(tmp_path / "registry"), base + "/", token) as env:
            image = images.push_oci_image(env, VARIANT, repository, "1.0.0", seed="hevents-notify")
            host = env["registries"][VARIANT]["host"]
            push = _next(events, lambda event: event["action"] == "push")
            assert (push["source"], push["registry"], push["registry_url"], push["repository"], push["tag"],
                    push["digest"], push["media_type"]) == (
                "distribution", host, "http://" + host, repository, "1.0.0", image.digest, image.media_type)
            assert push["raw"]["target"]["digest"] == image.digest

            # The filter's reference names exactly the pushed manifest, for an independent client too.
            reference = event_to_reference(push)
            assert reference["reference"] == "http://%s/%s@%s" % (host, repository, image.digest)
            assert Skopeo(env).inspect_digest(VARIANT, repository, image.digest) == image.digest

            Skopeo(env).delete(VARIANT, repository, image.digest)
            delete = _next(events, lambda event: event["action"] == "delete")
            assert (delete["repository"], delete["digest"]) == (repository, image.digest)


def test_a_registry_with_the_wrong_token_gets_nothing_queued(registries, tmp_path, repository):
    with running({"token": secrets.token_urlsafe(16)}) as (events, base):
        with notifying_registry(registries, str(tmp_path / "registry"), base + "/", "wrong-" + secrets.token_hex(8)) as env:
            images.push_oci_image(env, VARIANT, repository, "1.0.0", seed="hevents-wrong-token")
            # The registry delivers (and retries) at once; a refusal shows up in its log as a 401.
            log = env["registries"][VARIANT]["log"]
            for _attempt in range(DELIVERY_WAIT * 10):
                with open(log, encoding="utf-8", errors="replace") as handle:
                    if "401" in handle.read():
                        break
                with pytest.raises(queue_module.Empty):
                    events.get(timeout=0.1)
            else:
                raise AssertionError("the registry never reported a refused delivery:\n" + open(log).read()[-2000:])
            with pytest.raises(queue_module.Empty):
                events.get(timeout=1)
