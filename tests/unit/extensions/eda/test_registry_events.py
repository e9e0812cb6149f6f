# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry_events source over real HTTP: what it queues, and what it refuses without queueing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import queue as queue_module
import socket

import pytest
import requests
import yaml

from hypothesis import given, settings, strategies as st

from ansible_collections.oci.registry.extensions.eda.plugins.event_source import registry_events
from ansible_collections.oci.registry.tests.registries.pki import CertificateAuthority
from ansible_collections.oci.registry.tests.unit.extensions.eda import payloads
from ansible_collections.oci.registry.tests.unit.extensions.eda.listener import running

TOKEN = "s3cr3t-events-token"
AUTH = {"Authorization": "Bearer " + TOKEN}
ENVELOPE = {"Content-Type": payloads.ENVELOPE}
JSON = {"Content-Type": "application/json"}
KEYS = {"id", "registry", "registry_url", "repository", "tag", "digest", "media_type", "action", "actor", "source",
        "scan", "raw"}


def _post(base, body, headers, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(base + "/", data=data, headers=headers, timeout=10)


def _no_event(events):
    with pytest.raises(queue_module.Empty):
        events.get(timeout=0.2)


@pytest.fixture(scope="module")
def listener():
    with running({"token": TOKEN}) as (events, base):
        yield events, base


@pytest.fixture
def clean(listener):
    events, base = listener
    events.drain()
    yield events, base
    events.drain()


# --- what gets queued --------------------------------------------------------------------------

def test_distribution_envelope_queues_manifest_events_only(clean):
    events, base = clean
    body = payloads.envelope(
        payloads.distribution_event("ev-layer", kind="blobs", media_type="application/octet-stream", tag=None),
        payloads.distribution_event("ev-push-1"),
        payloads.distribution_event("ev-pull-1", action="pull"),
        payloads.distribution_event("ev-delete-1", action="delete", tag=None),
    )
    response = _post(base, body, dict(AUTH, **ENVELOPE))
    assert response.status_code == 200, response.text
    # The pull is filtered by the default actions; the layer is not an image at all.
    assert response.json() == {"queued": 2, "filtered": 1, "duplicates": 0}
    push, delete = events.get(5), events.get(5)
    assert set(push) == KEYS
    assert push == {
        "id": "ev-push-1", "registry": "registry.example.com:5000", "registry_url": "https://registry.example.com:5000",
        "repository": "team/app", "tag": "1.0", "digest": payloads.DIGEST, "media_type": payloads.MANIFEST,
        "action": "push", "actor": "ci", "source": "distribution", "scan": None, "raw": body["events"][1],
    }
    assert (delete["action"], delete["tag"], delete["digest"]) == ("delete", None, payloads.DIGEST)
    _no_event(events)


def test_harbor_push_delete_and_scan(clean):
    events, base = clean
    for body in (payloads.harbor(), payloads.harbor("DELETE_ARTIFACT"),
                 payloads.harbor("SCANNING_COMPLETED", scan_overview=payloads.SCAN_OVERVIEW)):
        assert _post(base, body, dict(AUTH, **JSON)).json()["queued"] == 1
    push, delete, scan = events.get(5), events.get(5), events.get(5)
    expected = ("harbor", "push", "harbor.example.com", "https://harbor.example.com", "team/app", "1.0", payloads.DIGEST,
                "robot$ci")
    assert (push["source"], push["action"], push["registry"], push["registry_url"], push["repository"], push["tag"],
            push["digest"], push["actor"]) == expected
    assert delete["action"] == "delete"
    assert scan["action"] == "scan"
    assert scan["scan"] == {"status": "Success", "severity": "High", "total": 12, "fixable": 7,
                            "by_severity": {"High": 2, "Medium": 10}, "scanner": "Trivy", "report_id": "8d1c"}
    assert len({push["id"], delete["id"], scan["id"]}) == 3


def test_harbor_cloudevent(clean):
    events, base = clean
    response = _post(base, payloads.harbor_cloudevent(), dict(AUTH, **{"Content-Type": "application/cloudevents+json"}))
    assert response.json()["queued"] == 1
    event = events.get(5)
    assert (event["id"], event["action"], event["source"], event["digest"]) == (
        payloads.harbor_cloudevent()["id"], "push", "harbor", payloads.DIGEST)


def test_event_types_it_does_not_use_are_accepted_and_dropped(clean):
    """Known senders' other events get a 200, or the registry would retry them for ever."""
    events, base = clean
    for body, headers in ((payloads.harbor("QUOTA_EXCEED"), JSON),
                          (payloads.envelope(payloads.distribution_event("ev-mount", action="mount", kind="blobs")), ENVELOPE),
                          (payloads.envelope(payloads.distribution_event("ev-future", action="replicate")), ENVELOPE),
                          (dict(payloads.quay_push(), updated_tags=None, build_id="b1"), JSON)):
        response = _post(base, body, dict(AUTH, **headers))
        assert response.status_code == 200, response.text
        assert response.json()["queued"] == 0
    _no_event(events)


def test_quay_push_gives_one_event_per_tag_and_vulnerabilities_are_scans(clean):
    events, base = clean
    assert _post(base, payloads.quay_push(), dict(AUTH, **JSON)).json()["queued"] == 2
    first, second = events.get(5), events.get(5)
    assert [(e["registry"], e["repository"], e["tag"], e["digest"], e["source"]) for e in (first, second)] == [
        ("quay.io", "team/app", "1.0", None, "quay"), ("quay.io", "team/app", "latest", None, "quay")]
    assert _post(base, payloads.quay_vulnerability(), dict(AUTH, **JSON)).json()["queued"] == 1
    scan = events.get(5)
    assert (scan["action"], scan["tag"], scan["scan"]["severity"]) == ("scan", "1.0", "High")


@pytest.mark.parametrize("header", [
    "Bearer " + TOKEN,
    TOKEN,  # Harbor sends its "Auth Header" field as written
    "Basic " + base64.b64encode(("eda:" + TOKEN).encode()).decode(),  # Quay, from https://eda:TOKEN@host/
])
def test_token_forms(clean, header):
    events, base = clean
    body = payloads.envelope(payloads.distribution_event("ev-form-" + header[:5]))
    response = _post(base, body, {"Authorization": header, "Content-Type": payloads.ENVELOPE})
    assert response.status_code == 200, response.text
    assert events.get(5)["id"] == "ev-form-" + header[:5]


def test_redelivery_is_deduplicated(clean):
    events, base = clean
    body = payloads.envelope(payloads.distribution_event("ev-dup-1"), payloads.distribution_event("ev-dup-1"))
    first = _post(base, body, dict(AUTH, **ENVELOPE)).json()
    second = _post(base, body, dict(AUTH, **ENVELOPE)).json()
    assert first == {"queued": 1, "filtered": 0, "duplicates": 1}
    assert second == {"queued": 0, "filtered": 0, "duplicates": 2}
    assert events.get(5)["id"] == "ev-dup-1"
    _no_event(events)


# --- what gets refused -------------------------------------------------------------------------

GOOD = payloads.envelope(payloads.distribution_event("ev-after-bad"))
BAD_REQUESTS = {
    "no token": (401, {"Content-Type": payloads.ENVELOPE}, json.dumps(GOOD).encode()),
    "wrong token": (401, {"Authorization": "Bearer nope", "Content-Type": payloads.ENVELOPE}, json.dumps(GOOD).encode()),
    "token prefix": (401, {"Authorization": "Bearer " + TOKEN[:-1], "Content-Type": payloads.ENVELOPE},
                     json.dumps(GOOD).encode()),
    "wrong basic password": (401, {"Authorization": "Basic " + base64.b64encode(b"eda:nope").decode(),
                                   "Content-Type": "application/json"}, json.dumps(GOOD).encode()),
    "text content type": (415, dict(AUTH, **{"Content-Type": "text/plain"}), json.dumps(GOOD).encode()),
    "no content type": (415, AUTH, json.dumps(GOOD).encode()),
    "form content type": (415, dict(AUTH, **{"Content-Type": "application/x-www-form-urlencoded"}), b"events=1"),
    "malformed JSON": (400, dict(AUTH, **ENVELOPE), b'{"events": [}'),
    "not UTF-8": (400, dict(AUTH, **JSON), b'{"events": "\xff"}'),
    "JSON array": (422, dict(AUTH, **JSON), b"[]"),
    "unknown shape": (422, dict(AUTH, **JSON), json.dumps({"hello": "world"}).encode()),
    "envelope without events": (422, dict(AUTH, **ENVELOPE), json.dumps({"event": []}).encode()),
    # One bad event spoils the whole delivery: nothing of it is queued, not even the good event.
    "one bad event": (422, dict(AUTH, **ENVELOPE), json.dumps(payloads.envelope(
        payloads.distribution_event("ev-half-good"), {"id": "x", "action": "push"})).encode()),
    "event without target": (422, dict(AUTH, **ENVELOPE), json.dumps(payloads.envelope(
        {"id": "ev-no-target", "action": "push"})).encode()),
    "harbor without resources": (422, dict(AUTH, **JSON), json.dumps(dict(
        payloads.harbor(), event_data={"repository": {"repo_full_name": "a/b"}, "resources": []})).encode()),
    "quay tag not a string": (422, dict(AUTH, **JSON), json.dumps(payloads.quay_push(tags=[7])).encode()),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_input_is_refused_and_nothing_is_queued(clean, case):
    events, base = clean
    status, headers, data = BAD_REQUESTS[case]
    response = requests.post(base + "/", data=data, headers=headers, timeout=10)
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert TOKEN not in response.text
    _no_event(events)
    # The listener is still there and still works.
    good = _post(base, payloads.envelope(payloads.distribution_event("ev-after-" + case)), dict(AUTH, **ENVELOPE))
    assert good.status_code == 200
    assert events.get(5)["id"] == "ev-after-" + case


def test_oversized_bodies_are_refused(clean):
    events, base = clean
    big = json.dumps(payloads.envelope(*[payloads.distribution_event("ev-big-%d" % i) for i in range(3000)])).encode()
    assert len(big) > 1048576
    response = requests.post(base + "/", data=big, headers=dict(AUTH, **ENVELOPE), timeout=30)
    assert response.status_code == 413
    # Without a Content-Length (chunked), the size is enforced while reading.
    chunked = requests.post(base + "/", data=iter([big[i:i + 65536] for i in range(0, len(big), 65536)]),
                            headers=dict(AUTH, **ENVELOPE), timeout=30)
    assert chunked.status_code == 413
    _no_event(events)


def test_other_methods_are_refused(clean):
    _events, base = clean
    assert requests.get(base + "/", headers=AUTH, timeout=10).status_code == 405


def test_a_client_that_hangs_up_does_not_stop_the_listener(clean):
    events, base = clean
    host, port = base.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer "
                     + TOKEN.encode() + b"\r\nContent-Length: 1000\r\n\r\n{\"events\"")
    good = _post(base, payloads.envelope(payloads.distribution_event("ev-after-hangup")), dict(AUTH, **ENVELOPE))
    assert good.status_code == 200
    assert events.get(5)["id"] == "ev-after-hangup"


# --- filters, TLS, arguments ---------------------------------------------------------------------

def test_filters_in_the_source():
    args = {"actions": ["push", "pull"], "repository_regex": "^team/", "tag_regex": r"^v\d+\.\d+\.\d+$"}
    with running(args) as (events, base):
        body = payloads.envelope(
            payloads.distribution_event("f-1", tag="v1.2.3"),
            payloads.distribution_event("f-2", tag="latest"),
            payloads.distribution_event("f-3", repository="other/app", tag="v1.2.3"),
            payloads.distribution_event("f-4", action="pull", tag="v2.0.0"),
            payloads.distribution_event("f-5", action="delete", tag="v1.2.3"),
            payloads.distribution_event("f-6", tag=None),
        )
        assert _post(base, body, ENVELOPE).json() == {"queued": 2, "filtered": 4, "duplicates": 0}
        assert [events.get(5)["id"], events.get(5)["id"]] == ["f-1", "f-4"]
        _no_event(events)


def test_registry_url_override():
    with running({"registry_url": "http://127.0.0.1:5000/"}) as (events, base):
        _post(base, payloads.harbor(), JSON)
        assert events.get(5)["registry_url"] == "http://127.0.0.1:5000"


def test_tls(tmp_path):
    ca = CertificateAuthority(str(tmp_path / "ca")).create()
    args = {"certfile": ca.server_cert_path, "keyfile": ca.server_key_path, "token": TOKEN}
    with running(args) as (events, base):
        assert base.startswith("https://")
        body = json.dumps(payloads.envelope(payloads.distribution_event("ev-tls"))).encode()
        response = requests.post(base + "/", data=body, headers=dict(AUTH, **ENVELOPE), verify=ca.ca_path, timeout=10)
        assert response.status_code == 200
        assert events.get(5)["id"] == "ev-tls"
        with pytest.raises(requests.exceptions.SSLError):
            requests.post(base + "/", data=body, headers=dict(AUTH, **ENVELOPE), verify=True, timeout=10)


@pytest.mark.parametrize("args, message", [
    ({}, "port argument is required"),
    ({"port": "http"}, "port must be a whole number"),
    ({"port": 70000}, "port must be between 1 and 65535"),
    ({"port": 5001, "actions": ["push", "tag"]}, "actions must be a non-empty list"),
    ({"port": 5001, "actions": []}, "actions must be a non-empty list"),
    ({"port": 5001, "tag_regex": "("}, "tag_regex is not a valid regular expression"),
    ({"port": 5001, "keyfile": "/k.pem"}, "keyfile needs certfile"),
    ({"port": 5001, "registry_url": "registry:5000"}, "registry_url must look like"),
    ({"port": 5001, "max_body_bytes": 0}, "max_body_bytes must be between"),
    ({"port": 5001, "tag_regexp": "^v"}, r"unknown argument\(s\) tag_regexp; known: host, port"),
])
def test_bad_arguments_name_what_to_fix(args, message):
    with pytest.raises(ValueError, match=message):
        registry_events.parse_args(args)


def test_documented_options_are_the_arguments():
    documented = yaml.safe_load(registry_events.DOCUMENTATION)["options"]
    assert tuple(documented) == registry_events.ARGUMENTS
    for name, option in documented.items():
        if "default" in option and name != "actions":
            assert registry_events.DEFAULTS[name] == option["default"]
    assert tuple(documented["actions"]["default"]) == registry_events.DEFAULT_ACTIONS
    assert tuple(documented["actions"]["choices"]) == registry_events.ACTIONS


def test_unreadable_certificate_is_a_clear_error(tmp_path):
    settings_ = registry_events.parse_args({"port": 5001, "certfile": str(tmp_path / "missing.pem")})
    with pytest.raises(ValueError, match="cannot load certfile/keyfile"):
        registry_events.ssl_context(settings_)


def test_recent_ids_window_is_bounded_in_size_and_time():
    now = [1000.0]
    recent = registry_events.RecentIds(size=3, seconds=60, clock=lambda: now[0])
    for event_id in ("a", "b", "c", "d"):
        recent.add(event_id)
    assert len(recent) == 3
    assert "a" not in recent and "d" in recent
    now[0] += 61
    assert "d" not in recent
    assert len(recent) == 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["events", "id", "action", "target", "repository", "tag", "digest", "url", "type",
                         "event_data", "resources", "resource_url", "docker_url", "updated_tags", "tags",
                         "vulnerability", "specversion", "data", "request", "host", "mediaType", "x"]),
        children, max_size=6),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(payload=JSON_VALUES, content_type=st.sampled_from([payloads.ENVELOPE, "application/json"]))
def test_any_json_is_either_events_or_a_payload_error(payload, content_type):
    """Whatever JSON arrives, normalise() answers with events or PayloadError (a 422), never another exception."""
    try:
        events = registry_events.normalise(payload, content_type)
    except registry_events.PayloadError:
        return
    for event in events:
        assert set(event) == KEYS
        assert event["action"] in registry_events.ACTIONS
        assert isinstance(event["id"], str) and isinstance(event["repository"], str)
        assert event["tag"] or event["digest"]
        assert event["registry"] and event["registry_url"].startswith(("http://", "https://"))
