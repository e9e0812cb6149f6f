#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_manifest_info
short_description: Read a manifest or index from a registry, with its digest, platforms and image configuration
version_added: 0.1.0
description:
  - Fetches the manifest a tag or digest points to (OCI image manifest, OCI image index, Docker v2 manifest, Docker
    manifest list, or read-only Docker schema 1) and returns its digest, media type, size, the parsed manifest and
    the raw text byte for byte.
  - For an index returns its platforms; O(platform) selects the manifest of one platform instead.
  - With O(include_config) also reads the image configuration (creation date, history, labels, environment,
    OS and architecture).
  - Typical use is pinning a tag to a digest before a deployment.
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
    type: str
    required: true
  reference:
    description:
      - Tag (V(1.0)) or digest (V(sha256:...)) of the manifest.
      - When a digest is given, the content is verified against it.
    type: str
    default: latest
  platform:
    description:
      - When the reference is an index (multi-platform image), return the manifest of this platform instead,
        as C(os/architecture[/variant]), for example V(linux/arm64).
      - A platform without variant matches every variant (V(linux/arm64) matches V(linux/arm64/v8)).
      - When the reference is a single image manifest, the platform is checked against its configuration (a Docker
        schema 1 manifest against its C(architecture), on linux), and the module fails if it does not match, or
        if the image declares no platform (an artifact, a configuration without os and architecture).
      - The same rule as M(oci.registry.registry_copy)'s O(oci.registry.registry_copy#module:platforms) and the
        P(oci.registry.digest#lookup) lookup's C(platform).
      - Attestation manifests in an index never match.
    type: str
  include_config:
    description:
      - Also read the image configuration blob and return RV(config).
      - Needs a single image manifest, so for an index set O(platform) too.
    type: bool
    default: false
seealso:
  - module: oci.registry.registry_tag_info
  - module: oci.registry.registry_manifest
'''

EXAMPLES = r'''
- name: Pin the tag to a digest
  oci.registry.registry_manifest_info:
    registry_url: https://registry.example.com
    repository: team/app
    reference: '1.4'
  register: app

- name: Deploy exactly that image
  ansible.builtin.debug:
    msg: "registry.example.com/team/app@{{ app.digest }}"

- name: Which platforms does the image support?
  ansible.builtin.debug:
    msg: "{{ app.platforms }}"
  when: app.platforms | length > 0

- name: Creation date and labels of the arm64 image
  oci.registry.registry_manifest_info:
    registry_url: https://registry.example.com
    repository: team/app
    reference: '1.4'
    platform: linux/arm64
    include_config: true
  register: arm

- name: Show them
  ansible.builtin.debug:
    msg: "{{ arm.config.created }} {{ arm.config.labels }}"
'''

RETURN = r'''
digest:
  description:
    - Digest of the returned manifest (of the platform's manifest when O(platform) selected one from an index).
  returned: success
  type: str
  sample: sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
media_type:
  description: Media type of the returned manifest.
  returned: success
  type: str
  sample: application/vnd.oci.image.manifest.v1+json
size:
  description: Size of the returned manifest in bytes.
  returned: success
  type: int
  sample: 1025
manifest:
  description: The parsed manifest JSON.
  returned: success
  type: dict
  sample:
    schemaVersion: 2
    mediaType: application/vnd.oci.image.manifest.v1+json
    config:
      mediaType: application/vnd.oci.image.config.v1+json
      digest: sha256:6b1d4f1d0e5b9c7c52ecfcb14b1e5b8e1b6f1b8a3e1fb0b1b0c0f1d4f1d0e5b9
      size: 1469
    layers: []
raw:
  description:
    - The manifest exactly as the registry sent it, so that its SHA-256 is RV(digest).
  returned: success
  type: str
  sample: '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json", ...}'
is_index:
  description: Whether the returned manifest is an index (OCI image index or Docker manifest list).
  returned: success
  type: bool
  sample: false
platforms:
  description:
    - For an index, the platforms of its images as C(os/architecture[/variant]), attestations excluded.
    - For a single image, the platform from its configuration when it was read (O(include_config) or O(platform)),
      else an empty list.
  returned: success
  type: list
  elements: str
  sample: [linux/amd64, linux/arm64/v8]
index_digest:
  description: Digest of the index the platform's manifest was selected from.
  returned: when O(platform) selected a manifest from an index
  type: str
  sample: sha256:0f2e2b1a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7
index_media_type:
  description: Media type of that index.
  returned: when O(platform) selected a manifest from an index
  type: str
  sample: application/vnd.oci.image.index.v1+json
layers:
  description: Layer descriptors of an image manifest (digest, size, media type).
  returned: when the returned manifest is an image manifest
  type: list
  elements: dict
  sample:
    - digest: sha256:4abcf20661432fb2d719aaf90656f55c287f8ca915dc1c92ec14ff61e67fbaf8
      size: 3408729
      media_type: application/vnd.oci.image.layer.v1.tar+gzip
config:
  description: Summary of the image configuration.
  returned: when O(include_config=true)
  type: dict
  sample:
    digest: sha256:6b1d4f1d0e5b9c7c52ecfcb14b1e5b8e1b6f1b8a3e1fb0b1b0c0f1d4f1d0e5b9
    created: '2024-05-01T12:00:00Z'
    os: linux
    architecture: arm64
    variant: v8
    labels:
      org.opencontainers.image.version: '1.4'
    env: [PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin]
    history: [{created: '2024-05-01T12:00:00Z', created_by: 'ADD rootfs.tar /'}]
  contains:
    digest:
      description: Digest of the configuration blob.
      type: str
      returned: always
    media_type:
      description: Media type of the configuration blob.
      type: str
      returned: always
    created:
      description: Creation date (RFC 3339), V(null) if the configuration has none.
      type: str
      returned: always
    author:
      description: Author, V(null) if none.
      type: str
      returned: always
    os:
      description: Operating system.
      type: str
      returned: always
    architecture:
      description: CPU architecture.
      type: str
      returned: always
    variant:
      description: CPU variant, V(null) if none.
      type: str
      returned: always
    labels:
      description: Image labels (C(config.Labels)).
      type: dict
      returned: always
    env:
      description: Environment (C(config.Env)).
      type: list
      elements: str
      returned: always
    entrypoint:
      description: C(config.Entrypoint).
      type: list
      elements: str
      returned: always
    cmd:
      description: C(config.Cmd).
      type: list
      elements: str
      returned: always
    working_dir:
      description: C(config.WorkingDir).
      type: str
      returned: always
    user:
      description: C(config.User).
      type: str
      returned: always
    history:
      description: The configuration's C(history) entries.
      type: list
      elements: dict
      returned: always
    raw:
      description: The whole configuration JSON.
      type: dict
      returned: always
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
      path: /v2/team/app/manifests/1.4
      name: request
      attempt: 0
      status: 200
      duration_ms: 4.2
      bytes_sent: 0
      bytes_received: 1025
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    connection_argument_spec,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._lazy_client import LazyClient
from ansible_collections.oci.registry.plugins.module_utils._manifest_info import describe_manifest


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository=dict(type='str', required=True),
        reference=dict(type='str', default='latest'),
        platform=dict(type='str'),
        include_config=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    # Created on first use: a bad reference or platform fails before any request.
    client = LazyClient(lambda: client_from_params(module))
    run_module(module, lambda: describe_manifest(client, params['repository'], params['reference'],
                                                 params['platform'], params['include_config']))


if __name__ == '__main__':
    main()
