# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-rulebook event source: container registry webhooks (distribution, Harbor, Quay)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
short_description: Receive container registry events (distribution, Harbor, Quay) over HTTP
description:
  - An ansible-rulebook event source that listens for the webhooks container registries send when an
    image is pushed, deleted, pulled or scanned, and puts one normalised event per image and action on
    the queue.
  - Understands the CNCF distribution registry's notification envelopes
    (C(application/vnd.docker.distribution.events.v1+json), several events per request), Harbor's
    webhook payloads (the default format and the CloudEvents format; C(PUSH_ARTIFACT),
    C(DELETE_ARTIFACT), C(PULL_ARTIFACT), C(SCANNING_COMPLETED), C(SCANNING_FAILED)) and Quay's
    notifications (C(repo_push), C(vulnerability_found)).
  - "Every event has the keys C(id), C(registry) (host[:port]), C(registry_url), C(repository), C(tag),
    C(digest), C(media_type), C(action) (V(push), V(delete), V(pull) or V(scan)), C(actor), C(source)
    (V(distribution), V(harbor) or V(quay)), C(scan) (the scan summary for V(scan) events, else null) and
    C(raw) (the registry's own event)."
  - Distribution also notifies about every layer (blob) it receives or serves; those carry no tag and
    cannot be promoted, so only manifest events are kept. Its delete events carry only the repository and
    the digest (deleted manifest) or the tag (tag removed with it).
  - Quay's push notification names the tags but not the digest, so C(digest) is null for Quay pushes.
  - A request is refused with a 4xx status and nothing is queued when the token does not match, the
    content type is not JSON, the body is larger than O(max_body_bytes), is not valid JSON or has a shape
    none of the three registries sends. A payload of a known shape whose events are all filtered out, or
    of a Harbor or Quay event type this source does not use, is answered with 200 so that the registry
    does not retry it.
  - Registries retry a delivery that failed or timed out, so events are de-duplicated by id within a
    bounded window (O(dedup_size) ids, each for O(dedup_seconds)). Harbor's default format and Quay send no
    event id; for them the id is a hash of the event's content, so the same Quay push of the same tag
    within O(dedup_seconds) counts as one.
options:
  host:
    description:
      - The address to listen on.
    type: str
    default: "0.0.0.0"
  port:
    description:
      - The TCP port to listen on.
    type: int
    required: true
  certfile:
    description:
      - PEM certificate (chain) to serve HTTPS with. Without it the listener speaks plain HTTP.
    type: str
  keyfile:
    description:
      - PEM private key of O(certfile), unless O(certfile) contains it. Requires O(certfile).
    type: str
  token:
    description:
      - Shared secret that every request must carry in its C(Authorization) header, compared in constant
        time. Accepted forms are C(Bearer <token>), the bare token (Harbor's I(Auth Header) field is sent
        as written), and Basic credentials whose password is the token (Quay cannot set headers, but its
        webhook client turns C(https://user:token@host/) into Basic credentials).
      - Without it every request is accepted; only do that on a network where nobody else can reach the
        listener.
    type: str
  actions:
    description:
      - The actions to queue; events with other actions are dropped in the source, so that for example
        the pulls of a busy registry never reach the rulebook.
    type: list
    elements: str
    choices: [push, delete, pull, scan]
    default: [push, delete, scan]
  repository_regex:
    description:
      - Queue only events whose repository matches this Python regular expression (searched, so anchor it
        with C(^) and C($) to match the whole name).
    type: str
  tag_regex:
    description:
      - Queue only events with a tag that matches this Python regular expression (searched). Events
        without a tag, such as deletes by digest, are dropped when this is set.
    type: str
  registry_url:
    description:
      - The URL (C(https://host[:port]) or C(http://host[:port])) to report as C(registry_url) of every
        event, for a listener that serves one registry whose address as seen by Ansible differs from
        what the registry reports (a proxy in front of it, for example).
      - Without it, distribution events take the URL the registry put into the event, and Harbor and Quay
        events C(https://) plus the host of the event.
    type: str
  max_body_bytes:
    description:
      - Largest request body accepted; larger ones are refused with 413 before they are parsed.
    type: int
    default: 1048576
  dedup_size:
    description:
      - How many event ids the de-duplication window holds at most (the oldest are forgotten first).
    type: int
    default: 4096
  dedup_seconds:
    description:
      - How long an event id is remembered for de-duplication.
    type: int
    default: 600
"""

EXAMPLES = r"""
- name: Promote release tags pushed to staging
  hosts: all
  sources:
    - oci.registry.registry_events:
        port: 5001
        token: "{{ registry_events_token }}"
        actions: [push]
        repository_regex: '^team/'
        tag_regex: '^v?[0-9]+\.[0-9]+\.[0-9]+$'
  rules:
    - name: Promote what was pushed
      condition: event.action == "push" and event.digest is defined
      action:
        run_playbook:
          name: extensions/eda/playbooks/promote_event.yml
"""

import asyncio
import base64
import binascii
import collections
import hashlib
import hmac
import json
import logging
import re
import ssl
import time
from urllib.parse import urlsplit

try:
    from aiohttp import web
except ImportError:  # pragma: no cover - ansible-rulebook environments have aiohttp
    web = None

LOGGER = logging.getLogger(__name__)

ACTIONS = ("push", "delete", "pull", "scan")
DEFAULT_ACTIONS = ("push", "delete", "scan")
DISTRIBUTION_TYPES = ("application/vnd.docker.distribution.events.v1+json",
                      "application/vnd.docker.distribution.events.v2+json")
JSON_TYPES = ("application/json", "application/cloudevents+json")
# ansible-rulebook loads a source by its file path, without the collection on sys.path, so the source
# cannot import plugins/module_utils (where the collection's media types live) and names its own.
MANIFEST_TYPES = frozenset((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
))
DISTRIBUTION_ACTIONS = {"push": "push", "pull": "pull", "delete": "delete"}
HARBOR_TYPES = {
    "PUSH_ARTIFACT": "push", "DELETE_ARTIFACT": "delete", "PULL_ARTIFACT": "pull",
    "SCANNING_COMPLETED": "scan", "SCANNING_FAILED": "scan",
}
HARBOR_CLOUDEVENT_TYPES = {
    "harbor.artifact.pushed": "push", "harbor.artifact.deleted": "delete", "harbor.artifact.pulled": "pull",
    "harbor.scan.completed": "scan", "harbor.scan.failed": "scan",
}
ARGUMENTS = ("host", "port", "certfile", "keyfile", "token", "actions", "repository_regex", "tag_regex", "registry_url",
             "max_body_bytes", "dedup_size", "dedup_seconds")
DEFAULTS = {"host": "0.0.0.0", "max_body_bytes": 1048576, "dedup_size": 4096, "dedup_seconds": 600}


class PayloadError(ValueError):
    """The request body is JSON but not a payload any supported registry sends."""


# --- payloads ----------------------------------------------------------------------------------


def _text(value):
    return value if isinstance(value, str) and value else None


def _required_text(mapping, key, where):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if not isinstance(value, str) or not value:
        raise PayloadError("%s has no %s" % (where, key))
    return value


def _content_id(source, *parts):
    """A stable id for registries that send none, so a redelivered event is recognised."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return "%s:%s" % (source, hashlib.sha256(text.encode("utf-8")).hexdigest()[:32])


def _event(event_id, source, action, registry, registry_url, repository, tag=None, digest=None,
           media_type=None, actor=None, scan=None, raw=None):
    return {
        "id": event_id, "registry": registry, "registry_url": registry_url, "repository": repository,
        "tag": tag, "digest": digest, "media_type": media_type, "action": action, "actor": actor,
        "source": source, "scan": scan, "raw": raw,
    }


def _host_of(reference_like, where):
    """The registry host of 'host[:port]/repo[:tag]' as Harbor and Quay write them."""
    head = reference_like.split("://", 1)[-1].split("/", 1)[0]
    if not head:
        raise PayloadError("%s names no registry host" % where)
    return head


def _is_manifest_event(action, target):
    url = _text(target.get("url")) or ""
    if "/manifests/" in url:
        return True
    if "/blobs/" in url:
        return False
    if target.get("mediaType") is None and action == "delete":
        # Delete events carry only repository and digest (or tag); a blob deleted through the API
        # looks the same, but nothing deletes single blobs in the flows this source serves.
        return True
    return target.get("mediaType") in MANIFEST_TYPES


def _distribution_events(payload):
    events = payload.get("events")
    if not isinstance(events, list):
        raise PayloadError("a distribution envelope needs an events list")
    result = []
    for index, item in enumerate(events):
        where = "events[%d]" % index
        if not isinstance(item, dict):
            raise PayloadError("%s is not an object" % where)
        event_id = _required_text(item, "id", where)
        action = _required_text(item, "action", where)
        target = item.get("target")
        if not isinstance(target, dict):
            raise PayloadError("%s has no target" % where)
        repository = _required_text(target, "repository", where + ".target")
        # mount (a blob linked from another repository), and actions newer registries may add, name no
        # image; refusing them would only make the registry retry the whole delivery.
        if action not in DISTRIBUTION_ACTIONS or not _is_manifest_event(action, target):
            continue
        request = item.get("request") if isinstance(item.get("request"), dict) else {}
        url = urlsplit(_text(target.get("url")) or "")
        registry = _text(request.get("host")) or url.netloc or None
        if registry is None:
            raise PayloadError("%s names no registry host (request.host or target.url)" % where)
        scheme = url.scheme if url.scheme in ("http", "https") else "https"
        if not (_text(target.get("digest")) or _text(target.get("tag"))):
            raise PayloadError("%s.target has neither digest nor tag" % where)
        actor = item.get("actor") if isinstance(item.get("actor"), dict) else {}
        result.append(_event(
            event_id, "distribution", DISTRIBUTION_ACTIONS[action], registry, "%s://%s" % (scheme, registry),
            repository, tag=_text(target.get("tag")), digest=_text(target.get("digest")),
            media_type=_text(target.get("mediaType")), actor=_text(actor.get("name")), raw=item))
    return result


def _harbor_scan(resource, failed):
    overview = resource.get("scan_overview")
    report = {}
    if isinstance(overview, dict):
        report = next((value for value in overview.values() if isinstance(value, dict)), {})
    summary = report.get("summary") if isinstance(report.get("summary"), dict) else {}
    scanner = report.get("scanner") if isinstance(report.get("scanner"), dict) else {}
    return {
        "status": "Error" if failed and not report.get("scan_status") else report.get("scan_status"),
        "severity": report.get("severity"),
        "total": summary.get("total"),
        "fixable": summary.get("fixable"),
        "by_severity": summary.get("summary") if isinstance(summary.get("summary"), dict) else {},
        "scanner": scanner.get("name"),
        "report_id": report.get("report_id"),
    }


def _harbor_resources(payload, data, event_type, action, base_id, actor):
    repository_info = data.get("repository")
    if not isinstance(repository_info, dict):
        raise PayloadError("a Harbor event needs event_data.repository")
    repository = _text(repository_info.get("repo_full_name"))
    if repository is None:
        namespace = _required_text(repository_info, "namespace", "event_data.repository")
        repository = "%s/%s" % (namespace, _required_text(repository_info, "name", "event_data.repository"))
    resources = data.get("resources")
    if not isinstance(resources, list) or not resources:
        raise PayloadError("a Harbor event needs a non-empty event_data.resources list")
    result = []
    for index, resource in enumerate(resources):
        where = "event_data.resources[%d]" % index
        if not isinstance(resource, dict):
            raise PayloadError("%s is not an object" % where)
        registry = _host_of(_required_text(resource, "resource_url", where), where + ".resource_url")
        digest = _text(resource.get("digest"))
        tag = _text(resource.get("tag"))
        if digest is None and tag is None:
            raise PayloadError("%s has neither digest nor tag" % where)
        event_id = (base_id if len(resources) == 1 else "%s:%d" % (base_id, index)) if base_id else \
            _content_id("harbor", event_type, payload.get("occur_at"), repository, digest, tag)
        scan = _harbor_scan(resource, event_type.endswith(("FAILED", "failed"))) if action == "scan" else None
        result.append(_event(event_id, "harbor", action, registry, "https://%s" % registry, repository, tag=tag,
                             digest=digest, media_type=_text(resource.get("mime_type")), actor=actor, scan=scan,
                             raw=payload))
    return result


def _harbor_events(payload):
    event_type = payload["type"]
    action = HARBOR_TYPES.get(event_type)
    if action is None:
        return []
    data = payload.get("event_data")
    if not isinstance(data, dict):
        raise PayloadError("a Harbor event needs event_data")
    return _harbor_resources(payload, data, event_type, action, None, _text(payload.get("operator")))


def _harbor_cloudevents(payload):
    event_type = payload["type"]
    action = HARBOR_CLOUDEVENT_TYPES.get(event_type)
    if action is None:
        return []
    data = payload.get("data")
    if not isinstance(data, dict):
        raise PayloadError("a Harbor CloudEvent needs data")
    base_id = _required_text(payload, "id", "the CloudEvent")
    return _harbor_resources(payload, data, event_type, action, base_id, _text(payload.get("operator")))


def _quay_events(payload):
    repository = _required_text(payload, "repository", "the Quay notification")
    registry = _host_of(payload["docker_url"], "the Quay notification's docker_url")
    if isinstance(payload.get("updated_tags"), list):
        action, tags, scan = "push", payload["updated_tags"], None
    elif isinstance(payload.get("vulnerability"), dict) and isinstance(payload.get("tags"), list):
        vulnerability = payload["vulnerability"]
        action, tags = "scan", payload["tags"]
        scan = {"status": "Success", "severity": vulnerability.get("priority"), "vulnerability": vulnerability}
    else:
        # Builds, mirroring and the other Quay events: a known sender, nothing to act on here.
        return []
    result = []
    for tag in tags:
        if not isinstance(tag, str) or not tag:
            raise PayloadError("the Quay notification lists a tag that is not a string")
        result.append(_event(_content_id("quay", action, registry, repository, tag, scan), "quay", action, registry,
                             "https://%s" % registry, repository, tag=tag, scan=scan, raw=payload))
    return result


def normalise(payload, content_type="application/json"):
    """The normalised events of one request body (already decoded JSON); PayloadError for unknown shapes.

    Events of a known sender that this source does not use (blob events, Harbor quota events, Quay
    builds) give an empty list: they are valid deliveries, and a 4xx would make the registry retry them.
    """
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    if content_type in DISTRIBUTION_TYPES or "events" in payload:
        return _distribution_events(payload)
    if isinstance(payload.get("specversion"), str) and _text(payload.get("type")) and \
            payload["type"].startswith("harbor."):
        return _harbor_cloudevents(payload)
    if _text(payload.get("type")) and "event_data" in payload:
        return _harbor_events(payload)
    if _text(payload.get("docker_url")) and "repository" in payload:
        return _quay_events(payload)
    raise PayloadError("not a distribution, Harbor or Quay notification")


# --- filtering and de-duplication ------------------------------------------------------------


class EventFilter:
    """The actions, repository and tag filters of the source's arguments."""

    def __init__(self, actions, repository_regex=None, tag_regex=None):
        self.actions = frozenset(actions)
        self.repository = re.compile(repository_regex) if repository_regex else None
        self.tag = re.compile(tag_regex) if tag_regex else None

    def __call__(self, event):
        if event["action"] not in self.actions:
            return False
        if self.repository is not None and not self.repository.search(event["repository"]):
            return False
        if self.tag is not None and not (event["tag"] and self.tag.search(event["tag"])):
            return False
        return True


class RecentIds:
    """Ids seen within the last `seconds`, at most `size` of them (oldest forgotten first)."""

    def __init__(self, size, seconds, clock=time.monotonic):
        self.size = size
        self.seconds = seconds
        self.clock = clock
        self._seen = collections.OrderedDict()

    def _expire(self, now):
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at < self.seconds and len(self._seen) <= self.size:
                break
            del self._seen[oldest]

    def __contains__(self, event_id):
        self._expire(self.clock())
        return event_id in self._seen

    def add(self, event_id):
        now = self.clock()
        self._seen.pop(event_id, None)
        self._seen[event_id] = now
        self._expire(now)

    def __len__(self):
        return len(self._seen)


# --- arguments -------------------------------------------------------------------------------


def _positive_int(args, name, maximum=None):
    value = args.get(name, DEFAULTS.get(name))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError("registry_events: %s must be a whole number, got %r" % (name, value)) from None
    if number < 1 or (maximum is not None and number > maximum):
        raise ValueError("registry_events: %s must be between 1 and %s, got %d" % (name, maximum or "any", number))
    return number


def parse_args(args):
    """Validated settings from the rulebook's source arguments; ValueError names the argument to fix."""
    args = dict(args or {})
    # Keys starting with "_" or "eda_" are left to the tools that run sources.
    unknown = sorted(key for key in args if key not in ARGUMENTS and not key.startswith(("_", "eda_")))
    if unknown:
        raise ValueError("registry_events: unknown argument(s) %s; known: %s" % (", ".join(unknown), ", ".join(ARGUMENTS)))
    if args.get("port") in (None, ""):
        raise ValueError("registry_events: the port argument is required")
    settings = {
        "host": args.get("host") or DEFAULTS["host"],
        "port": _positive_int(args, "port", 65535),
        "max_body_bytes": _positive_int(args, "max_body_bytes"),
        "dedup_size": _positive_int(args, "dedup_size"),
        "dedup_seconds": _positive_int(args, "dedup_seconds"),
        "token": args.get("token") or None,
        "certfile": args.get("certfile") or None,
        "keyfile": args.get("keyfile") or None,
    }
    if settings["token"] is not None and not isinstance(settings["token"], str):
        raise ValueError("registry_events: token must be a string")
    if settings["keyfile"] and not settings["certfile"]:
        raise ValueError("registry_events: keyfile needs certfile as well")
    actions = args.get("actions", DEFAULT_ACTIONS)
    if isinstance(actions, str):
        actions = [actions]
    unknown = sorted(set(actions) - set(ACTIONS)) if isinstance(actions, (list, tuple)) else [actions]
    if unknown or not actions:
        raise ValueError("registry_events: actions must be a non-empty list of %s, got %r" % (", ".join(ACTIONS), actions))
    for name in ("repository_regex", "tag_regex"):
        if args.get(name):
            try:
                re.compile(args[name])
            except re.error as error:
                raise ValueError("registry_events: %s is not a valid regular expression: %s" % (name, error)) from None
    settings["filter"] = EventFilter(actions, args.get("repository_regex"), args.get("tag_regex"))
    registry_url = args.get("registry_url") or None
    if registry_url is not None:
        parts = urlsplit(registry_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("registry_events: registry_url must look like https://host[:port], got %r" % registry_url)
        registry_url = "%s://%s" % (parts.scheme, parts.netloc)
    settings["registry_url"] = registry_url
    return settings


# --- HTTP ------------------------------------------------------------------------------------


def token_matches(header, token):
    """Whether the Authorization header carries the token (Bearer, bare, or as a Basic password)."""
    if token is None:
        return True
    if not header:
        return False
    expected = token.encode("utf-8")
    candidates = [header.strip()]
    scheme, _sep, value = header.strip().partition(" ")
    if scheme.lower() in ("bearer", "token"):
        candidates.append(value.strip())
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        candidates.append(decoded.partition(":")[2])
    matched = False
    for candidate in candidates:
        # Every candidate is compared, so the time taken does not tell which form came close.
        matched = hmac.compare_digest(candidate.encode("utf-8"), expected) or matched
    return matched


def _refuse(status, message):
    LOGGER.warning("registry_events: refused a request (%d): %s", status, message)
    return web.json_response({"error": message}, status=status)


class Listener:
    """The request handler: checks, parses, filters, de-duplicates and queues."""

    def __init__(self, queue, settings):
        self.queue = queue
        self.settings = settings
        self.recent = RecentIds(settings["dedup_size"], settings["dedup_seconds"])

    async def handle(self, request):
        try:
            return await self._handle(request)
        except web.HTTPException:
            raise
        except Exception:  # pylint: disable=broad-exception-caught
            # A listener that dies stops every rule; one bad request must only cost that request.
            LOGGER.exception("registry_events: unexpected error while handling a request")
            return web.json_response({"error": "internal error, see the rulebook log"}, status=500)

    async def _handle(self, request):
        settings = self.settings
        if not token_matches(request.headers.get("Authorization"), settings["token"]):
            response = _refuse(401, "missing or wrong token in the Authorization header")
            response.headers["WWW-Authenticate"] = 'Bearer realm="registry_events"'
            return response
        content_type = request.content_type.lower()
        if content_type not in DISTRIBUTION_TYPES + JSON_TYPES:
            return _refuse(415, "content type %r is not a registry notification (JSON)" % content_type)
        if request.content_length is not None and request.content_length > settings["max_body_bytes"]:
            return _refuse(413, "body larger than max_body_bytes (%d)" % settings["max_body_bytes"])
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refuse(413, "body larger than max_body_bytes (%d)" % settings["max_body_bytes"])
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            return _refuse(400, "the body is not valid JSON: %s" % error)
        try:
            events = normalise(payload, content_type)
        except PayloadError as error:
            return _refuse(422, str(error))
        queued = filtered = duplicates = 0
        accepted = []
        for event in events:
            if settings["registry_url"]:
                event["registry_url"] = settings["registry_url"]
            if not settings["filter"](event):
                filtered += 1
            elif event["id"] in self.recent or any(event["id"] == other["id"] for other in accepted):
                duplicates += 1
            else:
                accepted.append(event)
        for event in accepted:
            # Remembered before the first await, so a concurrent redelivery cannot slip in between.
            self.recent.add(event["id"])
        for event in accepted:
            await self.queue.put(event)
            queued += 1
        LOGGER.info("registry_events: %d queued, %d filtered, %d duplicates", queued, filtered, duplicates)
        return web.json_response({"queued": queued, "filtered": filtered, "duplicates": duplicates})


def ssl_context(settings):
    if not settings["certfile"]:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings["certfile"], settings["keyfile"])
    except (OSError, ssl.SSLError) as error:
        raise ValueError("registry_events: cannot load certfile/keyfile: %s" % error) from None
    return context


def build_app(queue, settings):
    """The aiohttp application; a body over max_body_bytes is cut off by aiohttp itself too."""
    listener = Listener(queue, settings)
    app = web.Application(client_max_size=settings["max_body_bytes"])
    app.router.add_post("/{path:.*}", listener.handle)
    return app


async def main(queue, args):
    """Listen for registry webhooks and put normalised events on the queue until cancelled."""
    if web is None:
        raise ImportError("registry_events needs the Python package aiohttp (pip install aiohttp)")
    settings = parse_args(args)
    runner = web.AppRunner(build_app(queue, settings), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings["host"], settings["port"], ssl_context=ssl_context(settings))
        await site.start()
        LOGGER.info("registry_events: listening on %s:%d", settings["host"], settings["port"])
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":

    class _PrintQueue:
        """Prints events instead of queueing them: `python registry_events.py 5001` to try a registry."""

        async def put(self, event):
            print(json.dumps(event, indent=2, default=str))

    import sys

    asyncio.run(main(_PrintQueue(), {"port": sys.argv[1] if len(sys.argv) > 1 else 5001}))
