#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_tag_info
short_description: List the tags of a repository, grouped by digest or with per-tag details
version_added: 0.1.0
description:
  - Lists the tags of a repository with C(GET /v2/<repository>/tags/list), following every page unless O(limit)
    is set.
  - With O(include_digests), groups the tags by the manifest digest they point to (one C(HEAD) per tag, with
    bounded concurrency), so that aliases of the same image show up together.
  - With O(include_details), adds per tag the digest, media type, creation date (from the image configuration),
    platforms and total size.
  - When O(registry_url) is V(hub.docker.com) the Docker Hub tag API is used instead of the registry API; it
    returns every tag with its digest, C(last_updated) and images in one listing, without pull rate limits.
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_info
  - oci.registry.attributes.diff_mode_none
options:
  repository:
    description:
      - Repository name, without registry host, tag or digest, for example V(team/app).
      - On Docker Hub a one-part name means an official image (V(nginx) is V(library/nginx)).
    type: str
    required: true
  page_size:
    description:
      - Number of tags to ask for per request (the C(n) query parameter).
    type: int
  last:
    description:
      - Start after this tag (the C(last) query parameter), for example RV(next_last) of a previous run.
      - Not supported with the Docker Hub tag API.
    type: str
  limit:
    description:
      - Stop after this many tags (counted after O(pattern) filtering) and return RV(next_last).
      - By default every page is read.
    type: int
  pattern:
    description:
      - Python regular expression; only tags it matches (C(re.search)) are returned, grouped and detailed.
    type: str
  include_digests:
    description:
      - Also return RV(tags_by_digest), the tags grouped by the manifest digest they point to.
    type: bool
    default: false
  include_details:
    description:
      - Also return RV(tag_details), one entry per tag with digest, media type, creation date, platforms and
        size.
      - Costs one manifest request per distinct digest, one per platform of an index, and one configuration
        blob request per image.
    type: bool
    default: false
seealso:
  - module: oci.registry.registry_manifest_info
  - module: oci.registry.registry_manifest
'''

EXAMPLES = r'''
- name: List the tags of a repository
  oci.registry.registry_tag_info:
    registry_url: https://registry.example.com
    repository: team/app
  register: app_tags

- name: Show which tags are the same image
  oci.registry.registry_tag_info:
    registry_url: https://registry.example.com
    repository: team/app
    include_digests: true
  register: groups

- name: Release tags with their creation date and platforms
  oci.registry.registry_tag_info:
    registry_url: https://registry.example.com
    repository: team/app
    pattern: '^v[0-9]+\.[0-9]+\.[0-9]+$'
    include_details: true
  register: releases

- name: Newest release tag by creation date
  ansible.builtin.debug:
    msg: "{{ (releases.tag_details | sort(attribute='created') | last).tag }}"

- name: Tags of an official image through the Docker Hub API
  oci.registry.registry_tag_info:
    registry_url: hub.docker.com
    repository: library/alpine
    pattern: '^3\.'
  register: alpine
'''

RETURN = r'''
repository:
  description: The repository that was listed (with C(library/) added for official Docker Hub images).
  returned: success
  type: str
  sample: team/app
tags:
  description: Tag names, in the order the registry returns them (newest first for Docker Hub).
  returned: success
  type: list
  elements: str
  sample: ['1.0', '1.1', latest]
next_last:
  description:
    - When O(limit) stopped the listing early, the tag to pass as O(last) to continue; V(null) otherwise.
  returned: success
  type: str
  sample: '1.1'
tags_by_digest:
  description:
    - The returned tags grouped by the digest of the manifest they point to, sorted by digest.
  returned: when O(include_digests=true)
  type: list
  elements: dict
  sample:
    - digest: sha256:6b1d4f1d0e5b9c7c52ecfcb14b1e5b8e1b6f1b8a3e1fb0b1b0c0f1d4f1d0e5b9
      media_type: application/vnd.oci.image.index.v1+json
      size: 1609
      tags: ['1.1', latest]
  contains:
    digest:
      description: Manifest digest.
      type: str
      returned: always
    media_type:
      description: Manifest media type.
      type: str
      returned: always
    size:
      description: Manifest size in bytes.
      type: int
      returned: always
    tags:
      description: Tags pointing to this digest, sorted.
      type: list
      elements: str
      returned: always
tag_details:
  description:
    - One entry per returned tag, in the order of RV(tags).
    - With the Docker Hub tag API the entries also carry Docker Hub's own fields.
  returned: when O(include_details=true), or always with the Docker Hub tag API
  type: list
  elements: dict
  sample:
    - tag: latest
      digest: sha256:6b1d4f1d0e5b9c7c52ecfcb14b1e5b8e1b6f1b8a3e1fb0b1b0c0f1d4f1d0e5b9
      media_type: application/vnd.oci.image.index.v1+json
      created: '2024-05-01T12:00:00Z'
      platforms: [linux/amd64, linux/arm64/v8]
      size: 7341532
  contains:
    tag:
      description: Tag name.
      type: str
      returned: always
    digest:
      description: Digest of the manifest (or index) the tag points to.
      type: str
      returned: always
    media_type:
      description: Media type of that manifest.
      type: str
      returned: always
    created:
      description:
        - The C(created) date of the image configuration (RFC 3339); for an index the newest of its images.
        - V(null) when no configuration has one (artifacts, schema 1 manifests).
      type: str
      returned: always
    platforms:
      description:
        - C(os/architecture[/variant]) of the image, or of every image of an index (attestations excluded).
      type: list
      elements: str
      returned: always
    size:
      description:
        - Total bytes of the distinct manifests, configurations and layers the tag references (attestation
          manifests excluded).
        - With the Docker Hub tag API, Docker Hub's C(full_size).
      type: int
      returned: always
    last_updated:
      description: When the tag was last pushed (Docker Hub tag API only).
      type: str
      returned: with the Docker Hub tag API
      sample: '2024-05-01T12:00:03.123456Z'
    images:
      description: Docker Hub's per-platform image entries (Docker Hub tag API only).
      type: list
      elements: dict
      returned: with the Docker Hub tag API
    hub:
      description: The complete entry Docker Hub returned for the tag (Docker Hub tag API only).
      type: dict
      returned: with the Docker Hub tag API
trace:
  description:
    - Requests sent to the registry (method, path, status, duration, bytes), without header values.
    - Only at verbosity 3 (C(-vvv)) and above.
  returned: when verbosity >= 3
  type: list
  elements: dict
  sample:
    - method: GET
      host: registry.example.com
      path: /v2/team/app/tags/list
      name: request
      attempt: 0
      status: 200
      duration_ms: 4.2
      bytes_sent: 0
      bytes_received: 51
'''


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils.ansible_module import (
    client_from_params,
    compile_pattern,
    connection_argument_spec,
    fail,
    paginate,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils.reference import (
    DOCKER_HUB_API,
    split_registry_url,
    validate_repository,
)
from ansible_collections.oci.registry.plugins.module_utils.media import (
    Descriptor,
    config_platform,
    group_tags_by_digest,
    index_platforms,
)

# Configurations are read for every distinct image listed, so bigger blobs (artifact configs)
# are skipped rather than fetched.
MAX_DETAIL_CONFIG_SIZE = 4 * 1024 * 1024


def config_summary(client, repository, manifest):
    """(created, platform) of an image manifest's configuration, (None, None) when it has none."""
    config = manifest.config
    if config is None or (config.size is not None and config.size > MAX_DETAIL_CONFIG_SIZE):
        return None, None
    data = client.blobs.get_config(repository, manifest)
    if data is None:
        return None, None
    platform = config_platform(data)
    return data.get('created'), str(platform) if platform is not None else None


class DetailCollector(object):
    """Per-digest details, cached because many tags usually share a digest."""

    def __init__(self, client, repository):
        self.client = client
        self.repository = repository
        self.cache = {}
        self.manifest_sizes = {}

    def _image(self, manifest, blobs):
        for descriptor in manifest.blobs():
            if descriptor.digest and descriptor.size is not None:
                blobs[descriptor.digest] = descriptor.size
        if manifest.config is None:
            return None, None
        return config_summary(self.client, self.repository, manifest)

    def for_digest(self, digest, result):
        if digest in self.cache:
            return self.cache[digest]
        self.manifest_sizes[digest] = result.size
        manifest = result.manifest
        blobs = {result.digest: result.size}
        created = None
        platforms = []
        if manifest is None:
            pass
        elif manifest.is_index:
            platforms = index_platforms(manifest)
            dates = []
            for descriptor in manifest.image_manifests():
                child = self.client.manifests.get_manifest(self.repository, descriptor.digest)
                blobs[child.digest] = child.size
                if child.manifest is not None and not child.manifest.is_index:
                    child_created, dummy = self._image(child.manifest, blobs)
                    if child_created:
                        dates.append(child_created)
            # RFC 3339 strings in UTC sort chronologically; the newest image dates the index.
            created = max(dates) if dates else None
        else:
            created, platform = self._image(manifest, blobs)
            if platform:
                platforms = [platform]
        detail = dict(
            digest=result.digest,
            media_type=result.media_type,
            created=created,
            platforms=platforms,
            size=sum(blobs.values()),
        )
        self.cache[digest] = detail
        return detail

    def for_tag(self, tag):
        result = self.client.manifests.get_manifest(self.repository, tag)
        detail = dict(self.for_digest(result.digest, result))
        detail['tag'] = tag
        return detail


def group_by_digest(entries):
    return group_tags_by_digest((entry['tag'], Descriptor(entry.get('media_type'), entry['digest'],
                                                          entry.get('manifest_size'))) for entry in entries)


def hub_platform(image):
    if not image.get('os') or not image.get('architecture'):
        return None
    text = '%s/%s' % (image['os'], image['architecture'])
    if image.get('variant'):
        text += '/' + image['variant']
    return text


def run_hub(module, client, repository, regex):
    params = module.params
    if params['last'] is not None:
        fail(module, 'last is not supported with the Docker Hub tag API (it lists by update time); use limit and pattern')
    namespace, dummy, name = repository.partition('/')
    if not name:
        namespace, name = 'library', repository
    repository = '%s/%s' % (namespace, name)
    entries = client.hub.list_repository_tags(namespace, name, page_size=params['page_size'] or 100)
    selected = [entry for entry in entries if regex is None or regex.search(entry.get('name') or '')]
    next_last = None
    if params['limit'] is not None and len(selected) > params['limit']:
        selected = selected[:params['limit']]
    details = []
    for entry in selected:
        images = entry.get('images') or []
        platforms = [p for p in (hub_platform(image) for image in images) if p and p != 'unknown/unknown']
        details.append(dict(
            tag=entry.get('name'),
            digest=entry.get('digest'),
            media_type=entry.get('media_type'),
            created=None,
            platforms=platforms,
            size=entry.get('full_size'),
            last_updated=entry.get('last_updated'),
            images=images,
            hub=entry,
        ))
    result = dict(changed=False, repository=repository, tags=[d['tag'] for d in details], next_last=next_last,
                  tag_details=details)
    if params['include_digests']:
        result['tags_by_digest'] = group_by_digest([d for d in details if d['digest']])
    return result


def run(module):
    params = module.params
    repository = validate_repository(params['repository'])
    if params['page_size'] is not None and params['page_size'] < 1:
        fail(module, 'page_size must be a positive integer, got %d' % params['page_size'])
    if params['limit'] is not None and params['limit'] < 0:
        fail(module, 'limit must not be negative, got %d' % params['limit'])
    regex = compile_pattern(module, params['pattern'])
    client = client_from_params(module)
    if split_registry_url(params['registry_url'])[1] == DOCKER_HUB_API:
        return run_hub(module, client, repository, regex)

    tags, next_last = paginate(
        lambda n, last: client.tags.list_tags(repository, n=n, last=last),
        lambda page: list(page.tags or []),
        params['page_size'], params['last'], params['limit'], regex)
    result = dict(changed=False, repository=repository, tags=tags, next_last=next_last)

    details = None
    if params['include_details']:
        collector = DetailCollector(client, repository)
        details = [collector.for_tag(tag) for tag in tags]
        result['tag_details'] = details

    if params['include_digests']:
        unfiltered = params['pattern'] is None and params['limit'] is None and params['last'] is None
        if unfiltered and details is None:
            # The client HEADs every tag with bounded concurrency.
            groups = client.tags.list_tags_by_digests(repository)
            result['tags_by_digest'] = [dict(group, tags=sorted(group['tags'])) for group in groups if group.get('tags')]
        else:
            entries = []
            for tag in tags:
                if details is not None:
                    detail = next(d for d in details if d['tag'] == tag)
                    descriptor_digest, media_type = detail['digest'], detail['media_type']
                    manifest_size = collector.manifest_sizes.get(descriptor_digest)
                else:
                    descriptor = client.manifests.head_manifest(repository, tag)
                    if descriptor is None:
                        # deleted between listing and HEAD: nothing to group
                        continue
                    descriptor_digest, media_type, manifest_size = descriptor.digest, descriptor.media_type, descriptor.size
                entries.append(dict(tag=tag, digest=descriptor_digest, media_type=media_type, manifest_size=manifest_size))
            result['tags_by_digest'] = group_by_digest(entries)
    return result


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository=dict(type='str', required=True),
        page_size=dict(type='int'),
        last=dict(type='str', no_log=False),
        limit=dict(type='int'),
        pattern=dict(type='str'),
        include_digests=dict(type='bool', default=False),
        include_details=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
