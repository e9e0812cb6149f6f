# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Read the manifest graph of one or many repositories: the one owner of that behaviour.

Private to the collection, no compatibility promise; ``docs/dev`` holds the contract.

The reads run in phases over one thread pool (tag lists, tagged manifests, index children,
image configurations), so that many small repositories and one big repository both keep
``concurrency`` requests in flight over the client's pooled connections. A failure is kept
with the repository it belongs to; the other repositories are read to the end.
"""

from __future__ import absolute_import, division, print_function

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.oci.registry.plugins.module_utils._errors import NotFoundError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils._media import config_platform, index_platforms
from ansible_collections.oci.registry.plugins.module_utils._reference import referrer_subject

__metaclass__ = type  # pylint: disable=invalid-name

DEFAULT_CONCURRENCY = 8
# Configurations are read for every distinct image listed, so bigger blobs (artifact configs)
# are skipped rather than fetched.
MAX_DETAIL_CONFIG_SIZE = 4 * 1024 * 1024
# An index listing an index listing an index ... deeper than this is not followed.
MAX_INDEX_DEPTH = 4

_ERRORS = (RegistryError,)


class Repo(object):
    """What has been read of one repository so far."""

    def __init__(self, name, tags=None):
        self.name = name
        self.tags = tags
        self.error = None
        self.tag_digest = {}
        self.results = {}   # digest -> ManifestResult
        self.configs = {}   # config digest -> (created, platform)

    def fail(self, exc):
        if self.error is None:
            self.error = exc


class InventoryReader(object):
    """Reads repositories through one client; ``concurrency`` requests at most in flight."""

    def __init__(self, client, concurrency=DEFAULT_CONCURRENCY, details=True):
        self.client = client
        self.concurrency = max(1, int(concurrency or 1))
        self.details = details

    @staticmethod
    def _run(run, jobs):
        """Run ``(repo, fn, args)`` jobs; a failure marks its repository and skips its later jobs."""
        def call(job):
            repo, fn, args = job
            if repo.error is not None:
                return
            try:
                fn(repo, *args)
            except _ERRORS as exc:
                repo.fail(exc)
        run(call, jobs)

    def _list_tags(self, repo):
        repo.tags = list(self.client.tags.iter_tags(repo.name))

    def _read_tag(self, repo, tag):
        try:
            result = self.client.manifests.get_manifest(repo.name, tag)
        except NotFoundError:
            # Removed between the listing and now: nothing to describe.
            return
        repo.tag_digest[tag] = result.digest
        repo.results.setdefault(result.digest, result)

    def _read_digest(self, repo, digest):
        result = self.client.manifests.get_manifest(repo.name, digest)
        repo.results.setdefault(digest, result)

    def _read_config(self, repo, manifest):
        config = manifest.config
        if config.size is not None and config.size > MAX_DETAIL_CONFIG_SIZE:
            return
        data = self.client.blobs.get_config(repo.name, manifest)
        if data is None:
            return
        platform = config_platform(data)
        repo.configs[config.digest] = (data.get("created"), str(platform) if platform is not None else None)

    def read(self, repos, run=None):
        """Fill every ``Repo``; returns them.

        ``run(fn, items)`` calls ``fn`` on every item and returns when all are done; by default on a pool of
        ``concurrency`` threads. A caller reading repositories one by one from several threads passes its own,
        to share one pool.
        """
        if run is None:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                return self._read(repos, lambda fn, items: list(pool.map(fn, items)))
        return self._read(repos, run)

    def _read(self, repos, run):
        self._run(run, [(repo, self._list_tags, ()) for repo in repos if repo.tags is None])
        if not self.details:
            return repos
        self._run(run, [(repo, self._read_tag, (tag,)) for repo in repos if repo.error is None
                        for tag in repo.tags])
        for dummy in range(MAX_INDEX_DEPTH):
            wanted = []
            for repo in repos:
                if repo.error is not None:
                    continue
                missing = set()
                for result in list(repo.results.values()):
                    if result.manifest is not None and result.manifest.is_index:
                        missing.update(d.digest for d in result.manifest.manifests
                                       if d.digest and d.digest not in repo.results)
                wanted.extend((repo, self._read_digest, (digest,)) for digest in sorted(missing))
            if not wanted:
                break
            self._run(run, wanted)
        jobs = []
        for repo in repos:
            if repo.error is not None:
                continue
            seen = set()
            for result in repo.results.values():
                manifest = result.manifest
                config = manifest.config if manifest is not None else None
                if config is not None and config.digest and config.digest not in seen:
                    seen.add(config.digest)
                    jobs.append((repo, self._read_config, (manifest,)))
        self._run(run, jobs)
        return repos


def _image_facts(manifest, configs):
    """``(created, platform)`` of a single image: from its configuration when it was read, else the
    platform the manifest itself declares (schema 1 images have no configuration blob)."""
    config = manifest.config
    if config is not None:
        return configs.get(config.digest, (None, None))
    declared = manifest.declared_platform()
    return None, str(declared) if declared is not None else None


def _graph_entry(result, configs):
    manifest = result.manifest
    entry = {"media_type": result.media_type, "size": result.size, "children": [], "blobs": {},
             "created": None, "platform": None}
    if manifest is None:
        return entry
    if manifest.is_index:
        entry["children"] = [d.digest for d in manifest.manifests if d.digest]
        entry["attestations"] = [d.digest for d in manifest.attestations() if d.digest]
    else:
        for descriptor in manifest.blobs():
            if descriptor.digest:
                entry["blobs"][descriptor.digest] = descriptor.size if descriptor.size is not None else 0
        entry["created"], entry["platform"] = _image_facts(manifest, configs)
    subject = manifest.subject
    if subject is not None and subject.digest:
        entry["subject"] = subject.digest
    return entry


def _tag_detail(repo, digest):
    """digest, media type, created, platforms and size of what a tag points at."""
    result = repo.results[digest]
    manifest = result.manifest
    blobs = {digest: result.size}
    created = None
    platforms = []

    def image(image_manifest):
        for descriptor in image_manifest.blobs():
            if descriptor.digest and descriptor.size is not None:
                blobs[descriptor.digest] = descriptor.size
        return _image_facts(image_manifest, repo.configs)

    if manifest is None:
        pass
    elif manifest.is_index:
        platforms = index_platforms(manifest)
        dates = []
        for descriptor in manifest.image_manifests():
            child = repo.results.get(descriptor.digest)
            if child is None:
                continue
            blobs[child.digest] = child.size
            if child.manifest is not None and not child.manifest.is_index:
                child_created = image(child.manifest)[0]
                if child_created:
                    dates.append(child_created)
        # RFC 3339 strings in UTC sort chronologically; the newest image dates the index.
        created = max(dates) if dates else None
    else:
        created, platform = image(manifest)
        if platform:
            platforms = [platform]
    return dict(digest=result.digest, media_type=result.media_type, created=created, platforms=platforms,
                size=sum(blobs.values()))


def _error_dict(exc):
    text = " ".join((str(exc).strip() or exc.__class__.__name__).split())
    error = {"msg": text}
    for key in ("status", "code", "hint"):
        value = getattr(exc, key, None)
        if value is not None:
            error[key] = value
    return error


# What a retention plan reads (compact results): Ansible's handling of a module result costs about one
# unit per value in it, and at thousands of repositories the rest would be most of the role's time.
_COMPACT_TAG_KEYS = ("tag", "digest", "media_type", "created")
_COMPACT_MANIFEST_KEYS = ("media_type", "size", "children", "blobs")


def describe(repo, details=True, compact=False):
    """The result for one repository (see registry_tag_info's RETURN ``repositories``)."""
    result = {"repository": repo.name, "tags": list(repo.tags or []), "error": None, "exists": True}
    if repo.error is not None:
        result["error"] = _error_dict(repo.error)
        result["exists"] = not isinstance(repo.error, NotFoundError)
        result["tags"] = []
        return result
    if not details:
        return result
    result["tag_details"] = tag_details(repo)
    manifests = dict((digest, _graph_entry(res, repo.configs)) for digest, res in repo.results.items())
    result["manifests"] = manifests
    referrers = {}
    for tag in result["tags"]:
        subject = referrer_subject(tag)
        if subject is not None and subject in manifests and tag in repo.tag_digest:
            referrers.setdefault(subject, []).append({"tag": tag, "digest": repo.tag_digest[tag]})
    for digest, entry in manifests.items():
        if entry.get("subject") in manifests:
            referrers.setdefault(entry["subject"], []).append({"tag": None, "digest": digest})
    result["referrers"] = referrers
    objects = {}
    for digest, entry in manifests.items():
        objects[digest] = entry["size"]
        objects.update(entry["blobs"])
    result["size"] = sum(objects.values())
    if compact:
        result["tag_details"] = [dict((key, detail[key]) for key in _COMPACT_TAG_KEYS)
                                 for detail in result["tag_details"]]
        result["manifests"] = dict((digest, dict((key, entry[key]) for key in _COMPACT_MANIFEST_KEYS))
                                   for digest, entry in manifests.items())
        del result["referrers"], result["size"]
    return result


def tag_details(repo):
    details = []
    cache = {}
    for tag in repo.tags or []:
        digest = repo.tag_digest.get(tag)
        if digest is None:
            continue
        if digest not in cache:
            cache[digest] = _tag_detail(repo, digest)
        detail = dict(cache[digest])
        detail["tag"] = tag
        details.append(detail)
    return details


def read_repositories(client, names, concurrency=DEFAULT_CONCURRENCY, details=True, compact=False):
    """Per repository (in ``names`` order) its tags, tag details, manifest graph, size and error.

    ``compact``: only what a retention plan reads (see ``describe``).
    """
    repos = [Repo(name) for name in names]
    InventoryReader(client, concurrency, details).read(repos)
    return [describe(repo, details, compact) for repo in repos]


def read_repository(client, name, tags, concurrency=DEFAULT_CONCURRENCY):
    """``Repo`` of one repository whose tags are already listed; raises the first error."""
    repo = Repo(name, list(tags))
    InventoryReader(client, concurrency, True).read([repo])
    if repo.error is not None:
        raise repo.error
    return repo
