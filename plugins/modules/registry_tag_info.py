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
  - With O(repositories) or O(repository_pattern) instead of O(repository), reads many repositories in one run,
    O(concurrency) requests at a time over reused connections, and returns RV(repositories), one entry per
    repository with its own RV(repositories[].error); one repository that fails does not fail the module.
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
      - Exactly one of O(repository), O(repositories) and O(repository_pattern) is required.
    type: str
  repositories:
    description:
      - Read these repositories in one run and return RV(repositories). Duplicates are read once.
      - O(page_size), O(last), O(limit) and O(pattern) apply to O(repository) only.
      - Not available with the Docker Hub tag API.
    type: list
    elements: str
  repository_pattern:
    description:
      - Python regular expression searched (C(re.search)) in every repository name of the catalog
        (C(GET /v2/_catalog), every page); the matching repositories are read as with O(repositories).
    type: str
  concurrency:
    description:
      - Most requests in flight at once, over the connections of one client (reused).
      - With O(repository), used by O(include_details) and O(include_digests).
      - From 1 to 64.
    type: int
    default: 8
  page_size:
    description:
      - Number of tags to ask for per request (the C(n) query parameter), from V(1) to V(100000).
      - Pages are followed through the C(Link) header. A registry that sends none but answers a full page
        (exactly O(page_size) tags) is asked for the tags after the last one, until a page is short.
    type: int
  last:
    description:
      - Start after this tag (the C(last) query parameter), for example RV(next_last) of a previous run.
      - Not supported with the Docker Hub tag API.
    type: str
  limit:
    description:
      - Stop after this many tags (counted after O(pattern) filtering) and return RV(next_last), from V(0) to
        V(2147483648).
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
  compact_details:
    description:
      - With O(include_details) and O(repositories) or O(repository_pattern), return per repository only what a
        retention plan reads, for example with the P(oci.registry.cleanup_plan#filter) filter.
        RV(repositories[].tag_details) entries then have C(tag), C(digest), C(media_type) and C(created);
        RV(repositories[].manifests) entries have C(media_type), C(size), C(children) and C(blobs); there is no
        RV(repositories[].referrers) and no RV(repositories[].size).
      - Ansible's handling of a module result costs about one unit per value in it; at thousands of repositories
        this saves seconds. The P(oci.registry.cleanup#role) role sets it.
    type: bool
    default: false
seealso:
  - module: oci.registry.registry_manifest_info
  - module: oci.registry.registry_manifest
  - module: oci.registry.registry_delete
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

- name: Every repository of a team, with its manifest graph, in one run
  oci.registry.registry_tag_info:
    registry_url: https://registry.example.com
    repository_pattern: '^team/'
    include_details: true
    concurrency: 16
  register: team

- name: Repositories that could not be read
  ansible.builtin.debug:
    msg: "{{ team.repositories | selectattr('error') | map(attribute='repository') }}"

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
  returned: when O(repository) is set
  type: str
  sample: team/app
tags:
  description: Tag names, in the order the registry returns them (newest first for Docker Hub).
  returned: when O(repository) is set
  type: list
  elements: str
  sample: ['1.0', '1.1', latest]
next_last:
  description:
    - When O(limit) stopped the listing early, the tag to pass as O(last) to continue; V(null) otherwise.
  returned: when O(repository) is set
  type: str
  sample: '1.1'
tags_by_digest:
  description:
    - The returned tags grouped by the digest of the manifest they point to, sorted by digest.
  returned: when O(include_digests=true) and O(repository) is set
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
  returned: when O(include_details=true) and O(repository) is set, or always with the Docker Hub tag API
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
        - A schema 1 image declares only its architecture; its platform is C(linux/<architecture>).
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
repositories:
  description:
    - One entry per repository read, in the order of O(repositories) (catalog order for O(repository_pattern)).
    - The tags are listed (every page); with O(include_details) or O(include_digests) every tag is read
      (C(GET) manifest), then every index child at any depth (attestation manifests included), then the
      configuration of every distinct image (up to 4 MiB).
    - A tag removed between the listing and its read is left out of RV(repositories[].tag_details).
  returned: when O(repositories) or O(repository_pattern) is set
  type: list
  elements: dict
  contains:
    repository:
      description: Repository name.
      type: str
      returned: always
    exists:
      description: V(false) when the registry answered 404 (no such repository, or no tags).
      type: bool
      returned: always
    error:
      description:
        - V(null) when the repository was read completely; otherwise what failed, with C(msg) (one line) and,
          when known, C(status), C(code) and C(hint). Then RV(repositories[].tags) is empty and no other
          key is set.
      type: dict
      returned: always
      sample: {msg: 'NAME_UNKNOWN: repository name not known to registry', status: 404, code: NAME_UNKNOWN}
    tags:
      description: Tag names, in the order the registry returns them.
      type: list
      elements: str
      returned: always
    tag_details:
      description: As RV(tag_details), for this repository.
      type: list
      elements: dict
      returned: when O(include_details=true) and RV(repositories[].error) is null
    tags_by_digest:
      description: As RV(tags_by_digest), for this repository.
      type: list
      elements: dict
      returned: when O(include_digests=true) and RV(repositories[].error) is null
    manifests:
      description:
        - The manifest graph, by manifest digest, of every manifest the tags reach (tagged manifests and
          index children at any depth).
        - Each entry has C(media_type), C(size) (bytes of the manifest itself), C(children) (digests an index
          lists, attestations included; V([]) for an image), C(attestations) (the attestation manifests among
          C(children), indexes only), C(blobs) (dict of config and layer digest to size, V(0) when the
          manifest gives none; V({}) for an index), C(created) and C(platform) (from the image
          configuration, the platform of a schema 1 image from its manifest; V(null) when unknown),
          and C(subject) (the digest it refers to, only when the manifest has a C(subject)).
      type: dict
      returned: when O(include_details=true) and RV(repositories[].error) is null
      sample:
        'sha256:5770...':
          media_type: application/vnd.oci.image.manifest.v1+json
          size: 528
          children: []
          blobs: {'sha256:0a3c...': 1470, 'sha256:9c1e...': 3149876}
          created: '2024-05-01T12:00:00Z'
          platform: linux/amd64
    referrers:
      description:
        - Subject digest to the manifests in RV(repositories[].manifests) that refer to it, each
          C({tag, digest}), found through referrer tags (C(sha256-<hex>[.suffix]), with C(tag) set) and
          through the C(subject) field of the manifests read (C(tag) V(null)).
        - The referrers API is not queried (it would cost one request per manifest).
      type: dict
      returned: when O(include_details=true), RV(repositories[].error) is null and O(compact_details=false)
    size:
      description: Bytes of the distinct manifests, configurations and layers in RV(repositories[].manifests).
      type: int
      returned: when O(include_details=true), RV(repositories[].error) is null and O(compact_details=false)
failed_repositories:
  description: Names of the repositories whose RV(repositories[].error) is set.
  returned: when O(repositories) or O(repository_pattern) is set
  type: list
  elements: str
  sample: []
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

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    connection_argument_spec,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._inventory import DEFAULT_CONCURRENCY
from ansible_collections.oci.registry.plugins.module_utils._lazy_client import LazyClient
from ansible_collections.oci.registry.plugins.module_utils._tag_info import TagInfoService


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository=dict(type='str'),
        repositories=dict(type='list', elements='str'),
        repository_pattern=dict(type='str'),
        concurrency=dict(type='int', default=DEFAULT_CONCURRENCY),
        page_size=dict(type='int'),
        last=dict(type='str', no_log=False),
        limit=dict(type='int'),
        pattern=dict(type='str'),
        include_digests=dict(type='bool', default=False),
        include_details=dict(type='bool', default=False),
        compact_details=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[('repository', 'repositories', 'repository_pattern')],
                           required_one_of=[('repository', 'repositories', 'repository_pattern')])
    # Created on first use: options that do not fit together fail before any request.
    client = LazyClient(lambda: client_from_params(module))
    service = TagInfoService(client, module.params['registry_url'])
    run_module(module, lambda: service.apply(module.params))


if __name__ == '__main__':
    main()
