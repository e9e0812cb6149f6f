# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""registry_tag_info's service: list the tags of one repository (with digests and details), read many
repositories at once, or list a repository through Docker Hub's tag API.

The listing is the client's paginator (``iter_tags``) cut by ``collect_names``; the manifest graph
and the tag details are ``_inventory``'s; tag grouping is ``group_tags_by_digest``'s. This file
decides which of them a task needs and shapes the result.

Pure Python on top of the registry client; no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.oci.registry.plugins.module_utils._inventory import (
    DEFAULT_CONCURRENCY,
    read_repositories,
    read_repository,
    tag_details,
)
from ansible_collections.oci.registry.plugins.module_utils._media import Descriptor, group_tags_by_digest
from ansible_collections.oci.registry.plugins.module_utils._options import check_number
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    DOCKER_HUB_API,
    split_registry_url,
    validate_repository,
)
from ansible_collections.oci.registry.plugins.module_utils._service import (
    Outcome,
    ServiceError,
    collect_names,
    compile_pattern,
)

# Docker Hub's tag API pages are capped at 100 entries.
HUB_PAGE_SIZE = 100
SINGLE_REPOSITORY_OPTIONS = ('page_size', 'last', 'limit', 'pattern')


def group_by_digest(entries):
    """``[{tag, digest, media_type, manifest_size}]`` as RV(tags_by_digest)."""
    return group_tags_by_digest((entry['tag'], Descriptor(entry.get('media_type'), entry['digest'],
                                                          entry.get('manifest_size'))) for entry in entries)


def hub_platform(image):
    """``os/architecture[/variant]`` of one entry of Docker Hub's ``images``; None when it names none."""
    if not image.get('os') or not image.get('architecture'):
        return None
    text = '%s/%s' % (image['os'], image['architecture'])
    if image.get('variant'):
        text += '/' + image['variant']
    return text


def hub_detail(entry):
    """A RV(tag_details) entry from Docker Hub's tag API entry (Docker Hub's own fields kept)."""
    images = entry.get('images') or []
    platforms = [p for p in (hub_platform(image) for image in images) if p and p != 'unknown/unknown']
    return dict(tag=entry.get('name'), digest=entry.get('digest'), media_type=entry.get('media_type'), created=None,
                platforms=platforms, size=entry.get('full_size'), last_updated=entry.get('last_updated'),
                images=images, hub=entry)


def is_docker_hub(registry_url):
    return split_registry_url(registry_url)[1] == DOCKER_HUB_API


def repository_names(client, repositories=None, repository_pattern=None):
    """The repositories a bulk task works on: ``repositories`` (validated, first occurrence kept), else the
    catalog's names that ``repository_pattern`` matches (the catalog is listed only then)."""
    if repositories is not None:
        names = []
        for name in repositories:
            validate_repository(name)
            if name not in names:
                names.append(name)
        return names
    regex = compile_pattern(repository_pattern, 'repository_pattern')
    return [name for name in client.catalog.iter_catalog() if regex.search(name)]


class TagInfoService(object):
    """One registry_tag_info task on ``client``, which talks to ``registry_url``."""

    def __init__(self, client, registry_url):
        self.client = client
        self.registry_url = registry_url

    def apply(self, options):
        concurrency = check_number('concurrency', options.get('concurrency', DEFAULT_CONCURRENCY))
        if options.get('repository') is None:
            if is_docker_hub(self.registry_url):
                raise ServiceError('the Docker Hub tag API reads one repository at a time: use repository')
            for name in SINGLE_REPOSITORY_OPTIONS:
                if options.get(name) is not None:
                    raise ServiceError('%s works with repository only, not with repositories or repository_pattern'
                                       % name)
            return self.many(options.get('repositories'), options.get('repository_pattern'), concurrency,
                             options.get('include_details', False), options.get('include_digests', False),
                             options.get('compact_details', False))
        repository = validate_repository(options['repository'])
        page_size = check_number('page_size', options.get('page_size'))
        limit = check_number('limit', options.get('limit'), minimum=0, maximum=2 ** 31)
        regex = compile_pattern(options.get('pattern'))
        if is_docker_hub(self.registry_url):
            if options.get('last') is not None:
                raise ServiceError('last is not supported with the Docker Hub tag API (it lists by update time); '
                                   'use limit and pattern')
            return self.hub(repository, page_size, limit, regex, options.get('include_digests', False))
        return self.one(repository, page_size, options.get('last'), limit, regex, concurrency,
                        options.get('include_details', False), options.get('include_digests', False))

    # ------------------------------------------------------------------ one repository

    def one(self, repository, page_size=None, last=None, limit=None, regex=None, concurrency=DEFAULT_CONCURRENCY,
            include_details=False, include_digests=False):
        tags, next_last = collect_names(self.client.tags.iter_tags(repository, page_size=page_size, last=last),
                                        last, limit, regex)
        result = dict(changed=False, repository=repository, tags=tags, next_last=next_last)
        repo = None
        if include_details:
            repo = read_repository(self.client, repository, tags, concurrency=concurrency)
            result['tag_details'] = tag_details(repo)
        if include_digests:
            if repo is None and regex is None and limit is None and last is None:
                # Every tag: the client HEADs them all with bounded concurrency.
                groups = self.client.tags.list_tags_by_digests(repository, concurrency=concurrency)
                result['tags_by_digest'] = [dict(group, tags=sorted(group['tags']))
                                            for group in groups if group.get('tags')]
            else:
                result['tags_by_digest'] = group_by_digest(self._digest_entries(repository, tags, repo))
        return Outcome(result)

    def _digest_entries(self, repository, tags, repo):
        """Digest, media type and manifest size of each tag: from the graph already read, else by HEAD."""
        entries = []
        for tag in tags:
            if repo is not None:
                digest = repo.tag_digest.get(tag)
                if digest is None:
                    continue  # removed between the listing and its read
                read = repo.results[digest]
                entries.append(dict(tag=tag, digest=digest, media_type=read.media_type, manifest_size=read.size))
                continue
            descriptor = self.client.manifests.head_manifest(repository, tag)
            if descriptor is None:
                continue  # removed between the listing and the HEAD
            entries.append(dict(tag=tag, digest=descriptor.digest, media_type=descriptor.media_type,
                                manifest_size=descriptor.size))
        return entries

    # ------------------------------------------------------------------ many repositories

    def many(self, repositories=None, repository_pattern=None, concurrency=DEFAULT_CONCURRENCY,
             include_details=False, include_digests=False, compact_details=False):
        if repositories is None and repository_pattern is None:
            raise ServiceError('give repository, repositories or repository_pattern')
        names = repository_names(self.client, repositories, repository_pattern)
        results = read_repositories(self.client, names, concurrency=concurrency,
                                    details=include_details or include_digests, compact=compact_details)
        for entry in results:
            if include_digests and entry['error'] is None:
                entry['tags_by_digest'] = group_by_digest([
                    dict(detail, manifest_size=entry['manifests'][detail['digest']]['size'])
                    for detail in entry['tag_details']])
            if not include_details:
                for key in ('tag_details', 'manifests', 'referrers', 'size'):
                    entry.pop(key, None)
        return Outcome(dict(changed=False, repositories=results,
                            failed_repositories=[entry['repository'] for entry in results if entry['error'] is not None]))

    # ------------------------------------------------------------------ Docker Hub

    def hub(self, repository, page_size=None, limit=None, regex=None, include_digests=False):
        namespace, dummy, name = repository.partition('/')
        if not name:
            namespace, name = 'library', repository
        entries = self.client.hub.list_repository_tags(namespace, name, page_size=page_size or HUB_PAGE_SIZE)
        selected = [entry for entry in entries if regex is None or regex.search(entry.get('name') or '')]
        if limit is not None:
            selected = selected[:limit]
        details = [hub_detail(entry) for entry in selected]
        result = dict(changed=False, repository='%s/%s' % (namespace, name), tags=[d['tag'] for d in details],
                      next_last=None, tag_details=details)
        if include_digests:
            result['tags_by_digest'] = group_by_digest([d for d in details if d['digest']])
        return Outcome(result)


__all__ = ['TagInfoService', 'group_by_digest', 'hub_detail', 'hub_platform', 'is_docker_hub']
