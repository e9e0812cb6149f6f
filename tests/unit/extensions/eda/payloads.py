# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Notification bodies as distribution, Harbor and Quay document them (trimmed to the fields they always send).

distribution: docs/content/about/notifications.md (envelope, events, target, request, actor, source).
Harbor: "Webhook Notifications" (default payload format: type, occur_at, operator, event_data with
resources and repository; CloudEvents format: specversion, id, type harbor.*, data).
Quay: "Repository notifications" (repo_push: updated_tags; vulnerability_found: tags, vulnerability).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DIGEST = "sha256:" + "4a" * 32
OTHER_DIGEST = "sha256:" + "5b" * 32
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ENVELOPE = "application/vnd.docker.distribution.events.v1+json"


def distribution_event(event_id, action="push", repository="team/app", tag="1.0", digest=DIGEST, media_type=MANIFEST,
                       host="registry.example.com:5000", kind="manifests", actor="ci"):
    target = {"mediaType": media_type, "size": 528, "digest": digest, "length": 528, "repository": repository,
              "url": "https://%s/v2/%s/%s/%s" % (host, repository, kind, digest)}
    if tag:
        target["tag"] = tag
    return {
        "id": event_id, "timestamp": "2026-12-05T08:00:00.000000000Z", "action": action, "target": target,
        "request": {"id": "req-" + event_id, "addr": "10.0.0.9:41234", "host": host, "method": "PUT",
                    "useragent": "skopeo/1.13"},
        "actor": {"name": actor} if actor else {},
        "source": {"addr": "registry-0:5000", "instanceID": "c0ffee"},
    }


def envelope(*events):
    return {"events": list(events)}


def harbor(event_type="PUSH_ARTIFACT", tag="1.0", digest=DIGEST, occur_at=1764921600, scan_overview=None):
    resource = {"digest": digest, "tag": tag, "resource_url": "harbor.example.com/team/app:%s" % tag}
    if scan_overview is not None:
        resource["scan_overview"] = scan_overview
    return {
        "type": event_type, "occur_at": occur_at, "operator": "robot$ci",
        "event_data": {
            "resources": [resource],
            "repository": {"date_created": 1764900000, "name": "app", "namespace": "team",
                           "repo_full_name": "team/app", "repo_type": "private"},
        },
    }


SCAN_OVERVIEW = {
    "application/vnd.security.vulnerability.report; version=1.1": {
        "report_id": "8d1c", "scan_status": "Success", "severity": "High", "duration": 4,
        "summary": {"total": 12, "fixable": 7, "summary": {"High": 2, "Medium": 10}},
        "start_time": "2026-12-05T08:00:00Z", "end_time": "2026-12-05T08:00:04Z",
        "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "v0.58.0"},
        "complete_percent": 100,
    },
}


def harbor_cloudevent(event_type="harbor.artifact.pushed", event_id="0b7e4a1c-6f0b-4d1e-9d4c-1a2b3c4d5e6f"):
    return {
        "specversion": "1.0", "id": event_id, "source": "/projects/3/webhook/policies/7", "type": event_type,
        "datacontenttype": "application/json", "time": "2026-12-05T08:00:00Z", "operator": "admin",
        "data": harbor()["event_data"],
    }


def quay_push(tags=("1.0", "latest")):
    return {
        "name": "app", "repository": "team/app", "namespace": "team", "docker_url": "quay.io/team/app",
        "homepage": "https://quay.io/repository/team/app", "updated_tags": list(tags),
    }


def quay_vulnerability():
    return {
        "repository": "team/app", "namespace": "team", "name": "app", "docker_url": "quay.io/team/app",
        "homepage": "https://quay.io/repository/team/app", "tags": ["1.0"],
        "vulnerability": {"id": "CVE-2026-0001", "description": "overflow", "link": "https://cve.example/1",
                          "priority": "High", "has_fix": True},
    }
