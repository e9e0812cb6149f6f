# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Copy engine: images and indexes from one repository to another, byte-exact.

The engine plans everything with reads first (HEAD both tags, walk the manifest
graph, HEAD blobs), then writes in an order that never exposes incomplete
content: blobs, then child manifests (deepest first), then tags, then
referrers. Blobs stream from the source GET straight into the destination PUT,
so memory stays flat whatever the blob size.

Pure Python on top of the registry client; no Ansible imports.
"""

from __future__ import annotations

import contextlib
import json
import re
import string
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.oci.registry.plugins.module_utils._blob_writer import (
    Aborted as CopyAborted,
    BlobWriter,
)
from ansible_collections.oci.registry.plugins.module_utils._bulk_delete import apply as bulk_delete
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    DigestMismatchError,
    InvalidOptionError,
    InvalidReferenceError,
    NotFoundError,
    RegistryError,
)
from ansible_collections.oci.registry.plugins.module_utils._media import (
    DOCKER_CONFIG,
    INDEX_TYPES,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    SCHEMA1_TYPES,
    is_attestation,
    parse_manifest,
    select_platform,
    sha256_digest,
)
from ansible_collections.oci.registry.plugins.module_utils._options import check_number
from ansible_collections.oci.registry.plugins.module_utils._rate_limit import check_pulls
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    COSIGN_TAG_SUFFIXES,
    TAG_RE,
    ImageReference,
    fallback_tag,
    parse_platform,
    parse_reference,
    referrer_subject,
)
from ansible_collections.oci.registry.plugins.module_utils._resolve import PlatformError, check_image_platform
from ansible_collections.oci.registry.plugins.module_utils._tracing import safe_host

DEFAULT_CONCURRENCY = 4
# Tag HEADs are tiny: resolving runs this many at once whatever ``concurrency`` (which sizes transfers),
# so a re-run over many tags is bound by round trips, not by the transfer slots. Each resolving thread
# has one request in flight at either side, so 32 keep both sides busy; the clients' pools hold that
# many connections per host (connections_for), else HEADs bunching up at one side open connections
# that are dropped after one request.
RESOLVE_CONCURRENCY = 32
# Referrers of referrers (a signature on an SBOM) are followed this deep.
MAX_REFERRER_DEPTH = 4
ATTESTATION_REFERENCE = "vnd.docker.reference.digest"
# Foreign (non-distributable) layers are fetched by clients from their URLs;
# registries normally refuse to serve or accept them.
_FOREIGN_LAYER_MARKERS = (".foreign.", "nondistributable")


class CopyError(RegistryError):
    """The copy cannot proceed as asked (tag conflict, platform not found, bad options)."""

    def __init__(self, message, **kwargs):
        kwargs.setdefault("action", "copy")
        super().__init__(message, **kwargs)


# The placeholders of backup_tag and what each may render to (the pattern keeps backups out of prune).
_BACKUP_FIELDS = {"tag": "[A-Za-z0-9_][A-Za-z0-9._-]*", "digest12": "[0-9a-f]{12}", "date": "[0-9]{8}"}


class BackupTemplate:
    """``backup_tag``: the tag a destination tag's old digest is copied to before the tag moves."""

    def __init__(self, template):
        self.template = template
        pattern = ""
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as err:
            raise InvalidOptionError("backup_tag %r is not a valid template (%s); use the placeholders {tag}, "
                                     "{digest12} and {date}" % (template, err), action="validate backup_tag") from None
        for literal, field, spec, conversion in parsed:
            pattern += re.escape(literal)
            if field is None:
                continue
            if field not in _BACKUP_FIELDS or spec or conversion:
                raise InvalidOptionError("backup_tag %r has the unknown placeholder {%s}; use {tag}, {digest12} or "
                                         "{date}" % (template, field + (":" + spec if spec else "")),
                                         action="validate backup_tag")
            pattern += _BACKUP_FIELDS[field]
        self.pattern = re.compile("^%s$" % pattern)
        # A literal part that can never make a tag ("/", a leading "."), found before any request.
        self.render("x", "sha256:" + "0" * 64, now=0)

    def render(self, tag, digest, now=None):
        name = self.template.format(tag=tag, digest12=digest.split(":", 1)[-1][:12],
                                    date=time.strftime("%Y%m%d", time.gmtime(time.time() if now is None else now)))
        if not TAG_RE.match(name):
            raise InvalidOptionError("backup_tag %r renders %r for tag %s, which is not a valid tag (letters, digits, "
                                     "'_', '.', '-', at most 128)" % (self.template, name, tag),
                                     action="validate backup_tag")
        return name


def sync_options(multi, prune=False, prune_manifests=False, immutable_tags=None, backup_tag=None):
    """Checks the sync options before any request; returns (immutable regex or None, BackupTemplate or None)."""
    if prune and not multi:
        raise InvalidOptionError("prune needs tags or tag_pattern: it removes the destination tags outside that "
                                 "selection", action="validate prune")
    if prune_manifests and not prune:
        raise InvalidOptionError("prune_manifests needs prune: true", action="validate prune_manifests")
    immutable = None
    if immutable_tags:
        try:
            immutable = re.compile(immutable_tags)
        except re.error as err:
            raise InvalidOptionError("immutable_tags %r is not a valid regular expression: %s"
                                     % (immutable_tags, err), action="validate immutable_tags") from None
    return immutable, BackupTemplate(backup_tag) if backup_tag else None


def merge_fallback_index(client, repository, subject, descriptors):
    """Add referrer ``descriptors`` (dicts) to the ``sha256-<hex>`` fallback index of ``subject``.

    With ``remove_from_fallback_index`` the one writer of fallback indexes (the copy engine,
    registry_sign, registry_artifact). Returns True when written.
    """
    if not descriptors:
        return False
    tag = fallback_tag(subject)
    try:
        existing = client.manifests.get_manifest(repository, tag)
        data = json.loads(existing.raw)
    except NotFoundError:
        data = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    listed = {entry.get("digest") for entry in data.get("manifests") or []}
    additions = [d for d in descriptors if d["digest"] not in listed]
    if not additions:
        return False
    data["manifests"] = list(data.get("manifests") or []) + additions
    raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
    client.manifests.put_manifest(repository, tag, raw, OCI_INDEX)
    return True


def remove_from_fallback_index(client, repository, subject, digest):
    """Drop the referrer ``digest`` from the ``sha256-<hex>`` fallback index of ``subject``.

    What the distribution spec asks of a client that deletes a referrer on a registry without the
    referrers API (registry_artifact ``state: absent``). Returns True when the index was rewritten.
    """
    tag = fallback_tag(subject)
    try:
        existing = client.manifests.get_manifest(repository, tag)
        data = json.loads(existing.raw)
    except NotFoundError:
        return False
    manifests = list(data.get("manifests") or [])
    kept = [entry for entry in manifests if entry.get("digest") != digest]
    if len(kept) == len(manifests):
        return False
    data["manifests"] = kept
    raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
    client.manifests.put_manifest(repository, tag, raw, OCI_INDEX)
    return True


def cosign_tag_manifest(layers, media_type=OCI_MANIFEST):
    """(manifest bytes, config bytes) of a cosign tag-scheme manifest (``sha256-<hex>.sig/.att/.sbom``).

    The one builder of these manifests: registry_sign appends a signature layer, the copy engine merges a
    source's layers into the destination's. cosign keeps every signature of a digest as a layer of this
    one manifest, so a writer must keep the layers already there.
    """
    config = _dumps({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]},
        "config": {},
    })
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": OCI_CONFIG if media_type == OCI_MANIFEST else DOCKER_CONFIG,
                   "size": len(config), "digest": sha256_digest(config)},
        "layers": list(layers),
    }
    return _dumps(manifest), config


def _dumps(document):
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


class _Node:
    """A manifest (or index) to push to the destination."""

    __slots__ = ("digest", "media_type", "raw", "children", "blobs", "subject", "referrer", "exists",
                 "subject_indexed")

    def __init__(self, digest, media_type, raw, children=(), blobs=(), subject=None, referrer=False,
                 exists=False):
        self.digest = digest
        self.media_type = media_type
        self.raw = raw
        self.children = list(children)
        self.blobs = list(blobs)
        self.subject = subject
        self.referrer = referrer
        self.exists = exists
        # True once the destination answered the PUT with OCI-Subject: it
        # maintains the referrers list itself, no fallback tag needed.
        self.subject_indexed = False


class _TagPlan:
    __slots__ = ("src", "dest", "src_digest", "src_media_type", "target_digest", "target_media_type",
                 "target_raw", "target_config", "dest_before", "filtered", "backup", "skipped")

    def __init__(self, src, dest):
        self.src = src
        self.dest = dest
        self.src_digest = None
        self.src_media_type = None
        self.target_digest = None
        self.target_media_type = None
        self.target_raw = None
        # The config blob of a target_raw written here (a merged cosign manifest), uploaded before its tag.
        self.target_config = None
        self.dest_before = None
        self.filtered = False
        # The backup tag the old digest goes to before this tag moves (backup_tag), else None.
        self.backup = None
        # An existing destination tag matched immutable_tags: done, nothing read or written for it.
        self.skipped = False

    @property
    def up_to_date(self):
        return self.dest_before is not None and self.dest_before == self.target_digest

    def as_result(self, after):
        return {
            "src": str(self.src),
            "dest": str(self.dest),
            "src_digest": self.src_digest,
            "dest_digest": after,
            "before": self.dest_before,
            "changed": after != self.dest_before,
        }


class _Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.copied = 0
        self.mounted = 0
        self.skipped = 0
        self.bytes = 0
        self.manifests = 0

    def add(self, **counts):
        with self.lock:
            for key, value in counts.items():
                setattr(self, key, getattr(self, key) + value)

    def blobs(self):
        return {"copied": self.copied, "mounted": self.mounted, "skipped": self.skipped, "bytes": self.bytes}


def _registry_url(client):
    return (client.registry_url or "").rstrip("/").lower()


def _unique_by(items, key):
    seen = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


def _tag_writes(pending):
    """The plans whose destination reference gets a manifest PUT: one per tag and target."""
    return _unique_by(pending, lambda plan: (plan.dest.tag, plan.target_digest))


def _push_levels(graph, skip=()):
    """Manifests to push, grouped so every manifest comes after its children."""
    heights = {}

    def height(digest, trail=()):
        if digest in heights:
            return heights[digest]
        node = graph.get(digest)
        if node is None or digest in trail:
            return -1
        heights[digest] = 1 + max([height(child, trail + (digest,)) for child in node.children] or [-1])
        return heights[digest]

    for digest in graph:
        height(digest)
    children = {child for node in graph.values() for child in node.children}
    levels = {}
    for digest, node in graph.items():
        if node.exists or node.raw is None or (digest in skip and digest not in children):
            continue
        levels.setdefault(heights[digest], []).append(node)
    return [levels[h] for h in sorted(levels)]


def _is_foreign(descriptor):
    media_type = descriptor.media_type or ""
    return bool(descriptor.urls) or any(marker in media_type for marker in _FOREIGN_LAYER_MARKERS)


def _as_reference(value, what):
    if isinstance(value, ImageReference):
        return value
    if not isinstance(value, str):
        raise InvalidReferenceError("%s must be an image reference string" % what, action="copy")
    return parse_reference(value)


def _referrer_descriptor(node):
    """The descriptor of a referrer as the referrers API (and its fallback index) lists it."""
    data = json.loads(node.raw)
    descriptor = {"mediaType": node.media_type, "digest": node.digest, "size": len(node.raw)}
    artifact_type = data.get("artifactType") or (data.get("config") or {}).get("mediaType")
    if artifact_type:
        descriptor["artifactType"] = artifact_type
    if data.get("annotations"):
        descriptor["annotations"] = data["annotations"]
    return descriptor


def filter_index(index, platforms):
    """Keep only ``platforms`` of an index.

    Returns ``(kept descriptors as dicts, raw bytes or None)``: raw is None when
    nothing was dropped, so the original bytes (and digest) are kept.

    Attestation rule: an attestation manifest (BuildKit's platform
    unknown/unknown entry annotated ``vnd.docker.reference.type:
    attestation-manifest``) is kept exactly when the manifest its
    ``vnd.docker.reference.digest`` annotation names is kept.
    """
    entries = index.data.get("manifests") or []
    descriptors = index.manifests
    kept = set()
    for platform in platforms:
        try:
            kept.add(select_platform(index, parse_platform(platform)).digest)
        except NotFoundError as err:
            err.action = "copy"
            raise
    selected = []
    for entry, descriptor in zip(entries, descriptors):
        if is_attestation(descriptor):
            if (descriptor.annotations or {}).get(ATTESTATION_REFERENCE) in kept:
                selected.append(entry)
        elif descriptor.digest in kept:
            selected.append(entry)
    if len(selected) == len(entries):
        return selected, None
    data = dict(index.data)
    data["manifests"] = selected
    # Deterministic bytes, so a second run computes the same digest and is a no-op.
    raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return selected, raw


def pulls_needed(pending):
    """The fewest pulls (manifest reads counted by a pull limit) copying the ``pending`` tag plans takes."""
    return len({plan.target_digest for plan in pending})


class CopyPlan:
    """What :meth:`CopyEngine.plan` read: the tags to write and the manifests the destination lacks."""

    def __init__(self, src, dest, plans, pending, graph, referrer_graph, subjects, multi, started):
        self.src = src
        self.dest = dest
        self.plans = plans
        self.pending = pending
        self.graph = graph
        self.referrer_graph = referrer_graph
        self.subjects = subjects
        self.multi = multi
        self.started = started
        # Filled by CopyEngine.plan when asked for: immutable tags taken as done, cosign tag-scheme
        # attachments (tag plans of their own), the destination tags before, and the prune entry
        # for _bulk_delete ({repository, tags: [{tag, digest}], digests}).
        self.skipped = []
        self.attachments = []
        self.dest_tags = None
        self.prune = None
        self.requests_before = (0, 0)

    @property
    def backups(self):
        """One dict per tag that moves with backup_tag: tag, backup, digest (what the backup tag gets)."""
        return [{"tag": plan.dest.tag, "backup": plan.backup, "digest": plan.dest_before}
                for plan in self.pending if plan.backup]

    @property
    def tags(self):
        """One dict per destination tag: src, dest, src_digest, dest_digest (planned), before."""
        return [plan.as_result(plan.target_digest) for plan in self.plans]


def connections_for(concurrency=None):
    """Requests a CopyEngine with ``concurrency`` has in flight at one registry at most: its clients' ``pool_size``."""
    return max(DEFAULT_CONCURRENCY if concurrency is None else concurrency, RESOLVE_CONCURRENCY)


class CopyEngine:
    """Copies images between two registry clients (which may be the same object).

    ``src_client``/``dest_client`` are RegistryClient instances. ``check_mode``
    plans everything and writes nothing. ``chunk_size`` switches uploads to
    chunked PATCH uploads of that size (with resume); default is one streamed
    PUT per blob.
    """

    def __init__(self, src_client, dest_client, concurrency=DEFAULT_CONCURRENCY, chunk_size=None,
                 check_mode=False):
        if concurrency is None:
            concurrency = DEFAULT_CONCURRENCY
        self.src = src_client
        self.dest = dest_client
        self.concurrency = check_number("concurrency", concurrency)
        self.check_mode = check_mode
        self.same_registry = _registry_url(src_client) == _registry_url(dest_client)
        self._abort = threading.Event()
        self.writer = BlobWriter(dest_client, chunk_size, abort=self._abort)
        self.chunk_size = self.writer.chunk_size
        self._pool = None
        self.stats = _Stats()
        # digest -> the manifests its index lists, read once per engine (prune's reachability).
        self._children = {}

    # ------------------------------------------------------------------ API

    def copy(self, src, dest, platforms=None, tags=None, tag_pattern=None, referrers=False, overwrite=True):
        """Copy ``src`` to ``dest``; returns the result dict described in the module's RETURN."""
        return self.execute(self.plan(src, dest, platforms=platforms, tags=tags, tag_pattern=tag_pattern,
                                      referrers=referrers, overwrite=overwrite))

    def plan(self, src, dest, platforms=None, tags=None, tag_pattern=None, referrers=False, overwrite=True,
             prune=False, prune_manifests=False, immutable_tags=None, backup_tag=None):
        """Every read of a copy, no write: returns a CopyPlan for :meth:`execute`.

        All refusals (source missing, platform not found, ``overwrite`` conflict, digest in ``dest``)
        are raised here, so a caller can plan several copies and write none when one is refused.
        With ``tags``/``tag_pattern`` the destination tags are listed once: a selected tag that is
        not listed needs no HEAD, an ``immutable_tags`` match that is listed needs no request at all.
        """
        multi = bool(tags) or bool(tag_pattern)
        immutable, backup = sync_options(multi, prune, prune_manifests, immutable_tags, backup_tag)
        started = time.monotonic()
        requests_before = self._request_counts()
        self.stats = _Stats()
        self._abort.clear()
        src = _as_reference(src, "src")
        dest = _as_reference(dest, "dest")
        with self._pooled():
            plans, src_tags = self._plans(src, dest, tags, tag_pattern)
            dest_tags = self._dest_tags(dest.repository) if multi else None
            if immutable is not None and dest_tags is not None:
                for plan in plans:
                    plan.skipped = plan.dest.tag in dest_tags and bool(immutable.search(plan.dest.tag))
            with ThreadPoolExecutor(max_workers=connections_for(self.concurrency),
                                    thread_name_prefix="oci-resolve") as resolver:
                self._map(lambda plan: self._resolve(plan, dest_tags, immutable), [p for p in plans if not p.skipped],
                          pool=resolver)
            skipped = [plan for plan in plans if plan.skipped]
            plans = [plan for plan in plans if not plan.skipped]
            if platforms:
                self._map(lambda plan: self._apply_platforms(plan, platforms), plans)
            self._map(self._resolve_untagged, [plan for plan in plans if plan.dest.digest or not plan.dest.tag])
            if not overwrite:
                self._check_overwrite(plans)
            pending = [plan for plan in plans if not plan.up_to_date]
            # The HEADs above carried the source's pull limit (Docker Hub): every image still to copy is at
            # least one manifest pull, and running out halfway would leave the destination half-synced.
            check_pulls(safe_host(self.src.registry_url), pulls_needed(pending))
            if backup is not None:
                self._name_backups(backup, pending, {plan.dest.tag for plan in plans + skipped})
            graph = self._walk_plans(src.repository, dest.repository, pending)
            referrer_graph, subjects, scanned = {}, {}, set()
            if referrers:
                referrer_graph, subjects, scanned = self._walk_referrers(src.repository, dest.repository, plans,
                                                                         graph)
            copy_plan = CopyPlan(src, dest, plans, pending, graph, referrer_graph, subjects, multi=multi,
                                 started=started)
            copy_plan.skipped = skipped
            copy_plan.dest_tags = dest_tags
            copy_plan.requests_before = requests_before
            if referrers:
                copy_plan.attachments = self._plan_attachments(src, dest, src_tags, dest_tags, scanned,
                                                               referrer_graph)
            if prune:
                copy_plan.prune = self._plan_prune(copy_plan, immutable, backup, prune_manifests)
        return copy_plan

    def execute(self, copy_plan):
        """Write what :meth:`plan` found missing (in check mode, predict it); returns the copy result.

        Nothing is re-read except blob existence: a destination changed in between is overwritten as
        planned (or, with ``overwrite: false``, not detected again).
        """
        src_repo, dest_repo = copy_plan.src.repository, copy_plan.dest.repository
        plans, pending, graph = copy_plan.plans, copy_plan.pending, copy_plan.graph
        referrer_graph = copy_plan.referrer_graph
        attached = [plan for plan in copy_plan.attachments if not plan.up_to_date]
        attached_digests = {plan.target_digest for plan in attached}
        fallback_written = False
        pruned = None
        with self._pooled():
            if self.check_mode:
                self._predict_blobs(src_repo, dest_repo, graph, referrer_graph)
                self._predict_manifests(graph, pending, referrer_graph, attached)
                after = {id(plan): plan.target_digest for plan in plans}
            else:
                self._transfer(src_repo, dest_repo, graph, tagged_later={plan.target_digest for plan in pending})
                self._back_up(dest_repo, pending)
                after = self._tag(dest_repo, plans, pending, graph)
                if referrer_graph:
                    self._transfer(src_repo, dest_repo, referrer_graph, tagged_later=attached_digests)
                    self._map(lambda plan: self.dest.uploads.upload_blob(
                        dest_repo, plan.target_config, digest=sha256_digest(plan.target_config),
                        size=len(plan.target_config)), [plan for plan in attached if plan.target_config])
                    self._tag(dest_repo, copy_plan.attachments, attached, referrer_graph)
                    fallback_written = self._maintain_fallback_indexes(dest_repo, referrer_graph,
                                                                       copy_plan.subjects, copy_plan.dest_tags)
            if copy_plan.prune is not None:
                pruned = self._prune(copy_plan.prune)
        result = self._result(plans, after, copy_plan.multi, referrer_graph, fallback_written,
                              time.monotonic() - copy_plan.started)
        self._sync_result(result, copy_plan, attached, pruned)
        return result

    # ------------------------------------------------------------------ sync

    def _request_counts(self):
        return (getattr(self.src, "request_count", 0), getattr(self.dest, "request_count", 0))

    def _dest_tags(self, dest_repo):
        """The destination's tags, all pages, in one listing; a repository that does not exist has none."""
        try:
            return set(self.dest.tags.iter_tags(dest_repo))
        except NotFoundError:
            return set()

    def _name_backups(self, backup, pending, selected):
        now = time.time()
        names = {}
        for plan in pending:
            if plan.dest.tag and plan.dest_before is not None:
                plan.backup = backup.render(plan.dest.tag, plan.dest_before, now=now)
                if plan.backup in selected or plan.backup in names:
                    raise InvalidOptionError(
                        "backup_tag %r renders %r for tag %s, which is %s" % (
                            backup.template, plan.backup, plan.dest.tag,
                            "a copied tag" if plan.backup in selected else "also the backup of " + names[plan.backup]),
                        action="validate backup_tag", hint="put {tag} (and {digest12}) in backup_tag")
                names[plan.backup] = plan.dest.tag

    def _back_up(self, dest_repo, pending):
        """Before a tag moves, its old manifest gets the backup tag: rollback is one retag."""
        def back_up(plan):
            self._check_abort()
            old = self.dest.manifests.get_manifest_raw(dest_repo, plan.dest_before)
            self.dest.manifests.put_manifest(dest_repo, plan.backup, old.raw, old.media_type)
        self._map(back_up, [plan for plan in pending if plan.backup])

    def _plan_attachments(self, src, dest, src_tags, dest_tags, subjects, referrer_graph):
        """cosign's tag-scheme attachments (``sha256-<hex>.sig/.att/.sbom``) of the copied manifests, as tag plans."""
        if src_tags is None:
            src_tags = sorted(self.src.tags.iter_tags(src.repository))
        names = [tag for tag in src_tags
                 if tag.endswith(COSIGN_TAG_SUFFIXES) and referrer_subject(tag) in subjects]
        plans = [_TagPlan(src.with_tag(name), dest.with_tag(name)) for name in names]
        self._map(lambda plan: self._resolve(plan, dest_tags), plans)
        self._map(lambda plan: self._merge_attachment(plan, referrer_graph),
                  [plan for plan in plans if plan.dest_before is not None and not plan.up_to_date])
        pending = [plan for plan in plans if not plan.up_to_date and plan.target_raw is None]
        self._walk(src.repository, dest.repository, [plan.target_digest for plan in pending], referrer_graph,
                   referrer=True)
        return plans

    def _merge_attachment(self, plan, referrer_graph):
        """A destination ``.sig/.att/.sbom`` tag that differs from the source's keeps its own layers.

        Copying the source's manifest over it would delete every signature made at the destination (a
        production signature after a promotion), and the next signing run would add it back: neither side
        would ever be up to date. The destination's layers plus the source's missing ones are written instead;
        when none is missing, the tag is up to date.
        """
        theirs = self.dest.manifests.get_manifest(plan.dest.repository, plan.dest_before).manifest
        ours = self.src.manifests.get_manifest(plan.src.repository, plan.target_digest).manifest
        if theirs.is_index or ours.is_index:
            return
        kept = [layer.to_dict() for layer in theirs.layers]
        missing = [layer for layer in ours.layers if layer.to_dict() not in kept]
        if not missing:
            plan.target_digest, plan.target_media_type = plan.dest_before, theirs.media_type
            return
        raw, config = cosign_tag_manifest(kept + [layer.to_dict() for layer in missing], theirs.media_type)
        plan.target_raw, plan.target_config = raw, config
        plan.target_digest, plan.target_media_type = sha256_digest(raw), theirs.media_type
        # Pushed by the tag step; the node only brings the source's missing layers along.
        referrer_graph[plan.target_digest] = _Node(plan.target_digest, theirs.media_type, raw, blobs=missing,
                                                   referrer=True)

    def _plan_prune(self, copy_plan, immutable, backup, with_manifests):
        """The prune entry for _bulk_delete: destination tags outside the selection, and with
        ``with_manifests`` the manifests only they use.

        Kept: the selected tags, backup tags, and the referrer tags (``sha256-<hex>[.sig|.att|.sbom]``)
        of every image that stays. A referrer tag goes only with an image known to go.
        """
        dest_repo = copy_plan.dest.repository
        selected = {plan.dest.tag for plan in copy_plan.plans + copy_plan.skipped + copy_plan.attachments}
        candidates = sorted(tag for tag in copy_plan.dest_tags
                            if tag not in selected and not (backup is not None and backup.pattern.match(tag)))
        plain = [tag for tag in candidates if referrer_subject(tag) is None]
        referrer_tags = [tag for tag in candidates if referrer_subject(tag) is not None]
        # Immutable tags are read only when a referrer tag may belong to one of them.
        read = [tag for tag in plain if immutable is None or not immutable.search(tag)]
        heads = dict(self._map(lambda tag: (tag, self.dest.manifests.head_manifest(dest_repo, tag)), read))
        known = {head.digest for head in heads.values() if head is not None}
        if any(referrer_subject(tag) not in known for tag in referrer_tags):
            unread = [tag for tag in plain if tag not in heads]
            heads.update(self._map(lambda tag: (tag, self.dest.manifests.head_manifest(dest_repo, tag)), unread))
        removing = {}
        for tag in plain:
            if tag not in heads:
                removing[tag] = None
            elif heads[tag] is not None:
                removing[tag] = heads[tag].digest
        going = {digest for digest in removing.values() if digest}
        at_dest = [(self.dest, dest_repo)]
        if with_manifests:
            going = self._reach(going, {}, at_dest)
        questioned = [tag for tag in referrer_tags if referrer_subject(tag) in going]
        staying = set()
        if questioned or (with_manifests and going):
            kept = {plan.target_digest for plan in copy_plan.plans}
            skipped_heads = self._map(lambda plan: self.dest.manifests.head_manifest(dest_repo, plan.dest.tag),
                                      copy_plan.skipped)
            kept.update(head.digest for head in skipped_heads if head is not None)
            # A copied image is read at the source (in check mode the destination lacks it), a skipped one here.
            staying = self._reach(kept, copy_plan.graph, [(self.src, copy_plan.src.repository)] + at_dest)
        for tag in questioned:
            if referrer_subject(tag) not in staying:
                removing[tag] = None
        digests = []
        if with_manifests:
            attachment_heads = self._map(lambda tag: self.dest.manifests.head_manifest(dest_repo, tag),
                                         [tag for tag in questioned if tag in removing])
            going.update(head.digest for head in attachment_heads if head is not None)
            digests = [digest for digest in self._parents_first(going) if digest not in staying]
        return {"repository": dest_repo, "digests": digests,
                "tags": [{"tag": tag, "digest": removing[tag]} for tag in sorted(removing)]}

    def _reach(self, digests, graph, places):
        """``digests`` and every manifest their indexes list, at any depth.

        An index not in ``graph`` is read from the first of ``places`` (client, repository) that has it.
        """
        reached = set()
        frontier = [digest for digest in digests if digest]
        for dummy in range(MAX_REFERRER_DEPTH + 1):
            frontier = [digest for digest in dict.fromkeys(frontier) if digest not in reached]
            if not frontier:
                break
            reached.update(frontier)
            unknown = [digest for digest in frontier if digest not in self._children
                       and (digest not in graph or graph[digest].raw is None)]
            for digest, children in self._map(lambda digest: (digest, self._index_children(digest, places)), unknown):
                self._children[digest] = children
            following = []
            for digest in frontier:
                if digest in graph and graph[digest].raw is not None:
                    following.extend(graph[digest].children)
                else:
                    following.extend(self._children.get(digest, ()))
            frontier = following
        return reached

    @staticmethod
    def _index_children(digest, places):
        for client, repository in places:
            head = client.manifests.head_manifest(repository, digest)
            if head is None:
                continue
            if head.media_type not in INDEX_TYPES:
                return []
            return [child.digest for child in client.manifests.get_manifest(repository, digest).manifest.manifests]
        return []

    def _parents_first(self, digests):
        children = self._children
        ordered = []

        def visit(digest, trail):
            if digest in ordered or digest in trail:
                return
            for child in children.get(digest, ()):
                if child in digests:
                    visit(child, trail + (digest,))
            ordered.append(digest)
        for digest in sorted(digests):
            visit(digest, ())
        return list(reversed(ordered))

    def _prune(self, entry):
        if not entry["tags"] and not entry["digests"]:
            return {"removed_tags": [], "deleted": [], "refused": []}
        reports, dummy, dummy2 = bulk_delete(self.dest, [entry], check_mode=self.check_mode,
                                             concurrency=self.concurrency)
        report = reports[0]
        if report["error"] is not None:
            raise CopyError("the copy is done, pruning the destination failed: %s" % report["error"]["msg"],
                            registry=self.dest.registry, repository=entry["repository"], action="prune",
                            hint=report["error"].get("hint"))
        return report

    def _sync_result(self, result, copy_plan, attached, pruned):
        src_before, dest_before = copy_plan.requests_before
        src_now, dest_now = self._request_counts()
        result["requests"] = {"src": src_now - src_before, "dest": dest_now - dest_before}
        result["skipped_tags"] = sorted(plan.dest.tag for plan in copy_plan.skipped)
        result["backups"] = copy_plan.backups
        result["attachments"] = sorted(plan.dest.tag for plan in attached)
        result["pruned_tags"] = sorted(item["tag"] for item in (pruned or {}).get("removed_tags", []))
        result["pruned_manifests"] = list((pruned or {}).get("deleted", []))
        result["prune_refused"] = list((pruned or {}).get("refused", []))
        result["changed"] = bool(result["changed"] or result["attachments"] or result["pruned_tags"]
                                 or result["pruned_manifests"])
        result["diff"] = self._diff(result, copy_plan, attached, pruned)

    @staticmethod
    def _diff(result, copy_plan, attached, pruned):
        """Destination tags before and after: the copied ones, backups, attachments, pruned ones (absent after)."""
        before = dict((item["dest"], item["before"]) for item in result["tags"])
        after = dict((item["dest"], item["dest_digest"]) for item in result["tags"])
        for plan in attached:
            before[str(plan.dest)] = plan.dest_before
            after[str(plan.dest)] = plan.target_digest
        for item in result["backups"]:
            name = str(copy_plan.dest.with_tag(item["backup"]))
            before.setdefault(name, None)
            after[name] = item["digest"]
        for item in (pruned or {}).get("removed_tags", []):
            before[str(copy_plan.dest.with_tag(item["tag"]))] = item["digest"]
        return {"before": before, "after": after}

    @contextlib.contextmanager
    def _pooled(self):
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="oci-copy") as pool:
            self._pool = pool
            try:
                yield pool
            except BaseException:
                self._abort.set()
                raise
            finally:
                self._pool = None

    # ------------------------------------------------------------- planning

    def _plans(self, src, dest, tags, tag_pattern):
        if tags and tag_pattern:
            raise InvalidReferenceError("use either tags or tag_pattern, not both", action="copy")
        if not (tags or tag_pattern):
            if not src.tag and not src.digest:
                raise InvalidReferenceError(
                    "src %s has no tag or digest; give one, or use tags/tag_pattern to copy several" % (src,),
                    action="copy")
            if not dest.tag and not dest.digest and src.tag:
                dest = dest.with_tag(src.tag)
            return [_TagPlan(src, dest)], None
        for ref, name in ((src, "src"), (dest, "dest")):
            if ref.tag or ref.digest:
                raise InvalidReferenceError(
                    "%s must be a repository without tag or digest when tags or tag_pattern is used (got %s)"
                    % (name, ref), action="copy")
        if tag_pattern:
            try:
                pattern = re.compile(tag_pattern)
            except re.error as err:
                raise InvalidReferenceError("tag_pattern %r is not a valid regular expression: %s"
                                            % (tag_pattern, err), action="copy") from None
            src_tags = sorted(self.src.tags.iter_tags(src.repository))
            # Referrer tags (sha256-<hex>[.sig|.att|.sbom]) are not images: copied as plain tags they would
            # replace the destination's signatures. They travel with referrers, merged.
            names = [tag for tag in src_tags if pattern.search(tag) and referrer_subject(tag) is None]
            if not names:
                raise NotFoundError("no tag of %s matches %r" % (src, tag_pattern), action="copy",
                                    hint="check tag_pattern (a Python regular expression, searched anywhere in the tag)")
        else:
            src_tags = None
            names = list(dict.fromkeys(tags))
        return [_TagPlan(src.with_tag(name), dest.with_tag(name)) for name in names], src_tags

    def _resolve(self, plan, dest_tags=None, immutable=None):
        """HEAD both sides: the only requests of an up-to-date copy.

        ``dest_tags`` (a listing) spares the HEAD of a destination tag that does not exist. With
        ``immutable``, an existing destination tag that matches is skipped without reading the source.
        """
        if plan.dest.tag and (dest_tags is None or plan.dest.tag in dest_tags):
            before = self.dest.manifests.head_manifest(plan.dest.repository, plan.dest.tag)
            plan.dest_before = before.digest if before is not None else None
            if before is not None and immutable is not None and immutable.search(plan.dest.tag):
                plan.skipped = True
                return
        if plan.src.digest and plan.src.digest == plan.dest_before:
            plan.src_digest = plan.target_digest = plan.src.digest
            plan.src_media_type = plan.target_media_type = before.media_type
            return
        head = self.src.manifests.head_manifest(plan.src.repository, plan.src.reference)
        if head is None:
            raise NotFoundError("source manifest not found", registry=plan.src.registry,
                                repository=plan.src.repository, reference=plan.src.reference, action="copy")
        plan.src_digest = plan.target_digest = head.digest
        plan.src_media_type = plan.target_media_type = head.media_type

    def _resolve_untagged(self, plan):
        """A destination without tag is written by digest; whether it is there decides ``changed``."""
        if plan.dest.digest and plan.dest.digest != plan.target_digest:
            raise CopyError("the copy would produce %s, not the digest %s given in dest"
                            % (plan.target_digest, plan.dest.digest), registry=plan.dest.registry,
                            repository=plan.dest.repository, reference=plan.dest.reference)
        if not plan.dest.tag:
            present = self.dest.manifests.head_manifest(plan.dest.repository, plan.target_digest)
            plan.dest_before = present.digest if present is not None else None

    def _apply_platforms(self, plan, platforms):
        manifest = self.src.manifests.get_manifest(plan.src.repository, plan.src_digest).manifest
        if not manifest.is_index:
            self._check_single_platform(plan, manifest, platforms)
            return
        try:
            selected, raw = filter_index(manifest, platforms)
        except NotFoundError as err:
            err.registry, err.repository, err.reference = plan.src.registry, plan.src.repository, plan.src.reference
            raise
        if len(platforms) == 1:
            chosen = next(entry for entry in selected
                          if not is_attestation(Descriptor.from_dict(entry)))
            plan.target_digest = chosen["digest"]
            plan.target_media_type = chosen.get("mediaType")
            plan.target_raw = None
        elif raw is not None:
            plan.target_digest = sha256_digest(raw)
            plan.target_media_type = manifest.media_type
            plan.target_raw = raw
        plan.filtered = plan.target_digest != plan.src_digest

    def _check_single_platform(self, plan, manifest, platforms):
        for wanted in platforms:
            try:
                check_image_platform(self.src, plan.src.repository, manifest, parse_platform(wanted),
                                     plan.src.reference)
            except PlatformError as err:
                err.registry = plan.src.registry
                raise

    def _check_overwrite(self, plans):
        conflicts = [plan for plan in plans if plan.dest_before is not None and not plan.up_to_date]
        if conflicts:
            first = conflicts[0]
            raise CopyError(
                "destination tag already points to %s, the copy would change it to %s and overwrite is false"
                % (first.dest_before, first.target_digest)
                + (" (%d conflicting tags)" % len(conflicts) if len(conflicts) > 1 else ""),
                registry=first.dest.registry, repository=first.dest.repository, reference=first.dest.tag,
                hint="set overwrite: true to move the tag, or choose another destination tag")

    def _walk_plans(self, src_repo, dest_repo, plans):
        graph = {}
        roots = []
        for plan in plans:
            if plan.target_digest in graph:
                continue
            if plan.target_raw is not None:
                # A filtered index exists only here; its children are real source manifests.
                node = self._node(plan.target_digest, parse_manifest(plan.target_raw, plan.target_media_type))
                graph[node.digest] = node
                roots.extend(node.children)
            else:
                roots.append(plan.target_digest)
        self._walk(src_repo, dest_repo, roots, graph)
        return graph

    def _walk(self, src_repo, dest_repo, digests, graph, referrer=False):
        """Breadth-first over the manifest graph; each level is fetched concurrently."""
        frontier = list(dict.fromkeys(d for d in digests if d not in graph))
        while frontier:
            nodes = self._map(lambda digest: self._fetch_node(src_repo, dest_repo, digest, referrer), frontier)
            following = []
            for node in nodes:
                graph[node.digest] = node
                following.extend(child for child in node.children if child not in graph)
            frontier = list(dict.fromkeys(following))

    def _fetch_node(self, src_repo, dest_repo, digest, referrer=False):
        self._check_abort()
        present = self.dest.manifests.head_manifest(dest_repo, digest)
        if present is not None and present.digest == digest:
            # The registry validated its blobs and children when it accepted it.
            return _Node(digest, present.media_type, None, referrer=referrer, exists=True)
        result = self.src.manifests.get_manifest(src_repo, digest)
        return self._node(digest, result.manifest, referrer=referrer)

    def _node(self, digest, manifest, referrer=False):
        raw = manifest.raw
        if manifest.media_type in SCHEMA1_TYPES:
            raise CopyError("%s is a Docker schema 1 manifest; schema 1 images cannot be copied byte-exact to a "
                            "current registry" % digest, hint="rebuild or convert the image to schema 2 / OCI")
        subject = manifest.subject.digest if manifest.subject is not None else None
        if manifest.is_index:
            return _Node(digest, manifest.media_type, raw, children=[d.digest for d in manifest.manifests],
                         subject=subject, referrer=referrer)
        blobs = [b for b in manifest.blobs() if not _is_foreign(b)]
        return _Node(digest, manifest.media_type, raw, blobs=blobs, subject=subject, referrer=referrer)

    def _walk_referrers(self, src_repo, dest_repo, plans, graph):
        """Referrers of every manifest the destination tags will point at (recursively).

        With a platform filter the source index digest does not exist at the
        destination, so its own referrers are not copied; those of the kept
        platform manifests are.
        """
        subjects_to_scan = []
        for plan in plans:
            subjects_to_scan.append(plan.target_digest)
        for node in list(graph.values()):
            subjects_to_scan.extend(node.children)
        # Children of up-to-date or already present indexes were not walked; their
        # digests still matter for referrers, so read the index (from the source: no GET at the destination).
        for plan in plans:
            if plan.target_digest not in graph or graph[plan.target_digest].exists:
                subjects_to_scan.extend(self._children_of_target(plan))
        referrer_graph = {}
        subjects = {}
        scanned = set()
        frontier = list(dict.fromkeys(subjects_to_scan))
        depth = 0
        while frontier and depth < MAX_REFERRER_DEPTH:
            scanned.update(frontier)
            listings = self._map(lambda digest: (digest, self.src.referrers.list_referrers(src_repo, digest)),
                                 frontier)
            found = []
            for subject, listing in listings:
                for descriptor in listing.descriptors:
                    # Kept per subject with the source's descriptor: a referrer the destination
                    # already holds is not fetched again, but still belongs in its fallback index.
                    subjects.setdefault(subject, {}).setdefault(descriptor.digest, descriptor)
                    found.append(descriptor.digest)
            found = [d for d in dict.fromkeys(found) if d not in referrer_graph and d not in graph]
            self._walk(src_repo, dest_repo, found, referrer_graph, referrer=True)
            frontier = [d for d in found if d not in scanned]
            depth += 1
        return referrer_graph, subjects, scanned | set(frontier)

    def _children_of_target(self, plan):
        if plan.target_media_type not in INDEX_TYPES:
            return []
        if plan.target_raw is not None:
            return [d.digest for d in parse_manifest(plan.target_raw, plan.target_media_type).manifests]
        try:
            result = self.src.manifests.get_manifest(plan.src.repository, plan.target_digest)
        except NotFoundError:
            return []
        return [d.digest for d in result.manifest.manifests]

    # ------------------------------------------------------------- transfer

    def _unique_blobs(self, *graphs):
        blobs = {}
        for graph in graphs:
            for node in graph.values():
                for blob in node.blobs:
                    blobs.setdefault(blob.digest, blob)
        # Largest first: the long transfers start at once and small ones fill the gaps.
        return sorted(blobs.values(), key=lambda b: -(b.size or 0))

    def _predict_blobs(self, src_repo, dest_repo, *graphs):
        def predict(blob):
            if self.dest.blobs.blob_exists(dest_repo, blob.digest) is not None:
                self.stats.add(skipped=1)
            elif self.same_registry and src_repo != dest_repo:
                self.stats.add(mounted=1)
            else:
                self.stats.add(copied=1, bytes=blob.size or 0)
        self._map(predict, self._unique_blobs(*graphs))

    def _predict_manifests(self, graph, pending, referrer_graph, attached=()):
        # The same selections _transfer and _tag write from, so the count is exact: a
        # manifest behind several tags is PUT once per tag, its children once.
        pushes = (_push_levels(graph, skip={plan.target_digest for plan in pending})
                  + _push_levels(referrer_graph, skip={plan.target_digest for plan in attached}))
        self.stats.add(manifests=sum(len(level) for level in pushes) + len(_tag_writes(pending))
                       + len(_tag_writes(attached)))

    def _transfer(self, src_repo, dest_repo, graph, tagged_later=()):
        """Blobs, then manifests deepest first; ``tagged_later`` are pushed by the tag step instead."""
        self._map(lambda blob: self._copy_blob(src_repo, dest_repo, blob), self._unique_blobs(graph))
        for level in _push_levels(graph, skip=tagged_later):
            self._map(lambda node: self._push_node(dest_repo, node), level)

    def _push_node(self, dest_repo, node):
        self._check_abort()
        result = self.dest.manifests.put_manifest(dest_repo, node.digest, node.raw, node.media_type)
        self.stats.add(manifests=1)
        if node.subject is not None and result.subject_digest == node.subject:
            node.subject_indexed = True
        return result

    def _copy_blob(self, src_repo, dest_repo, blob):
        self._check_abort()
        if self.dest.blobs.blob_exists(dest_repo, blob.digest) is not None:
            self.stats.add(skipped=1)
            return
        mount_from = src_repo if self.same_registry and src_repo != dest_repo else None
        written = self.writer.write(
            dest_repo, blob.digest, blob.size, mount_from=mount_from,
            opener=lambda: self.src.blobs.get_blob(src_repo, blob.digest, expected_size=blob.size))
        if written.method == "mounted":
            self.stats.add(mounted=1)
        else:
            self.stats.add(copied=1, bytes=blob.size or 0)

    def _tag(self, dest_repo, plans, pending, graph):
        def push(plan):
            self._check_abort()
            if plan.target_raw is not None:
                raw, media_type = plan.target_raw, plan.target_media_type
            else:
                raw, media_type = self._raw_for(dest_repo, plan, graph)
            reference = plan.dest.tag or plan.target_digest
            result = self.dest.manifests.put_manifest(dest_repo, reference, raw, media_type)
            if result.digest != plan.target_digest:
                raise DigestMismatchError(
                    "destination registry stored %s, expected %s" % (result.digest, plan.target_digest),
                    registry=plan.dest.registry, repository=dest_repo, reference=reference, action="copy")
            self.stats.add(manifests=1)
        writes = _tag_writes(pending)
        # distribution rewrites a manifest's file on every PUT; an index PUT that runs at the same time as a
        # tag PUT of one of its children can read it half-written and refuse the index (MANIFEST_BLOB_UNKNOWN).
        listed = {child for node in graph.values() for child in node.children}
        self._map(push, [plan for plan in writes if plan.target_digest in listed])
        self._map(push, [plan for plan in writes if plan.target_digest not in listed])
        return {id(plan): plan.target_digest for plan in plans}

    def _raw_for(self, dest_repo, plan, graph):
        node = graph.get(plan.target_digest)
        if node is not None and node.raw is not None:
            return node.raw, node.media_type
        # Already at the destination under its digest (retag): read it back there.
        result = self.dest.manifests.get_manifest(dest_repo, plan.target_digest)
        return result.raw, result.media_type

    def _maintain_fallback_indexes(self, dest_repo, referrer_graph, subjects, dest_tags=None):
        """Keep ``sha256-<hex>`` tag indexes for registries without a referrers API.

        Registries that answered the manifest PUT with OCI-Subject index the
        referrer themselves; for the others the engine merges the referrers
        into whatever fallback index the destination already has. Returns True
        when a fallback index was written.
        """
        written = False
        for subject, listed in subjects.items():
            pushed, present = [], []
            for digest, source_descriptor in listed.items():
                node = referrer_graph.get(digest)
                if node is None or node.subject_indexed:
                    continue
                if node.raw is not None:
                    if node.subject == subject:
                        pushed.append(_referrer_descriptor(node))
                else:
                    present.append(source_descriptor.to_dict())
            if not pushed and dest_tags is not None and fallback_tag(subject) in dest_tags:
                # Nothing new for this subject and its fallback index exists: an earlier run wrote
                # it; reading it back would be a GET at the destination on every no-op run.
                continue
            if present and self._listed_by_referrers_api(dest_repo, subject, present):
                present = []
            if self._merge_fallback_index(dest_repo, subject, pushed + present):
                written = True
        return written

    def _listed_by_referrers_api(self, dest_repo, subject, descriptors):
        # Referrers the destination already held were pushed by an earlier run (or someone else):
        # a registry with the referrers API indexed them then, and wants no fallback tag.
        listing = self.dest.referrers.list_referrers(dest_repo, subject)
        known = {d.digest for d in listing.descriptors}
        return listing.via == "api" and all(d["digest"] in known for d in descriptors)

    def _merge_fallback_index(self, dest_repo, subject, descriptors):
        return merge_fallback_index(self.dest, dest_repo, subject, descriptors)

    # --------------------------------------------------------------- helpers

    def _map(self, fn, items, pool=None):
        items = list(items)
        pool = pool or self._pool
        if not items:
            return []
        if len(items) == 1 or pool is None or (self.concurrency == 1 and pool is self._pool):
            return [fn(item) for item in items]
        futures = [pool.submit(fn, item) for item in items]
        results = []
        first_error = None
        for future in futures:
            try:
                results.append(future.result())
            except BaseException as err:  # pylint: disable=broad-exception-caught
                if first_error is None or isinstance(first_error, CopyAborted):
                    first_error = err
                self._abort.set()
        if first_error is not None:
            raise first_error
        return results

    def _check_abort(self):
        if self._abort.is_set():
            raise CopyAborted()

    def _result(self, plans, after, multi, referrer_graph, fallback_written, duration):
        tag_results = [plan.as_result(after.get(id(plan))) for plan in plans]
        referrers = sorted(node.digest for node in referrer_graph.values() if not node.exists or node.raw is not None)
        changed = any(item["changed"] for item in tag_results) or bool(referrers) or fallback_written
        result = {
            "changed": changed,
            "manifests": self.stats.manifests,
            "blobs": self.stats.blobs(),
            "referrers": referrers,
            "tags": tag_results,
            "duration": round(duration, 3),
        }
        if multi:
            result.update(src_digest=None, dest_digest=None, media_type=None, digest_changed=False)
        elif not plans:
            # The one tag was skipped by immutable_tags: the source was not read.
            result.update(src_digest=None, dest_digest=None, media_type=None, digest_changed=False)
        else:
            plan = plans[0]
            result.update(src_digest=plan.src_digest, dest_digest=after.get(id(plan)),
                          media_type=plan.target_media_type, digest_changed=plan.filtered)
        return result
