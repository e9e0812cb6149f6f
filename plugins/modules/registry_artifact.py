#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_artifact
short_description: Push, pull or delete OCI artifacts (files such as SBOMs, reports, Helm charts) in a registry
version_added: 0.2.0
description:
  - With O(state=present) and O(files), pushes local files as one OCI 1.1 artifact, as C(oras push) does. Each file
    becomes a layer annotated with its file name (C(org.opencontainers.image.title)), the configuration is the OCI
    empty descriptor C({}) unless O(config) names a file, and the manifest carries O(artifact_type), O(annotations)
    and, with O(subject), the image it refers to.
  - The manifest has no timestamps, so the same files give the same digest. A repeated push finds that digest
    under O(tag) and sends no write request; only blobs the repository lacks are uploaded (monolithically below
    32 MiB, in resumable chunks above it or with O(chunk_size)).
  - With O(subject), the artifact becomes a referrer of that image (an SBOM, a scan report). When the registry does
    not implement the referrers API, the artifact is added to the C(sha256-<hex>) fallback index of the subject,
    as ORAS and cosign do, so C(oras discover) and M(oci.registry.registry_copy) with C(referrers) find it.
  - With O(dest), pulls the artifact O(tag) (or O(digest)) into the directory O(dest) - each layer to
    C(dest/<title>) through a temporary file in the same directory, digest and size verified while streaming, then
    renamed. A file that already has the layer's digest is left alone. Titles that would write outside O(dest)
    (absolute, C(..), through a symbolic link) fail the task before anything is written; a layer without a title
    is written under its digest's hex.
  - With O(state=absent), deletes the artifact's manifest (a tag is resolved to its digest first, so every tag on
    that digest goes with it). A referrer is also removed from its subject's C(sha256-<hex>) fallback index.
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_full
  - oci.registry.attributes.diff_mode
attributes:
  diff_mode:
    details:
      - Shows the digest O(tag) pointed to before and after a push, the artifact's digest in O(dest) before and
        after a pull, or the digest deleted.
options:
  repository:
    description:
      - Repository name, without registry host, tag or digest, for example V(team/app).
    type: str
    required: true
  state:
    description:
      - V(present) pushes O(files), or pulls into O(dest).
      - V(absent) deletes the artifact O(tag) or O(digest).
    type: str
    choices: [present, absent]
    default: present
  tag:
    description:
      - Tag to push to, pull or delete.
      - Optional for a push; without it the artifact is pushed by digest only (typical for referrers of an image
        given in O(subject)).
    type: str
  digest:
    description:
      - With O(files), the digest the manifest must have; the module fails before any write when the files build
        another one.
      - With O(dest) or O(state=absent), the artifact to pull or delete (instead of O(tag)).
    type: str
  files:
    description:
      - Local files to push, in this order, each a path or a dict with C(path) and C(media_type).
      - The media type defaults to V(application/vnd.oci.image.layer.v1.tar), as with C(oras push).
      - File names (without directory) must differ; they are the titles a pull writes the files under.
      - Files are hashed and uploaded streaming, so their size is not limited by memory.
      - Mutually exclusive with O(dest).
    type: list
    elements: raw
  artifact_type:
    description:
      - The manifest's C(artifactType), for example V(application/spdx+json) for an SPDX SBOM.
      - Defaults to V(application/vnd.unknown.artifact.v1) (what ORAS writes) when O(config) is not given, and to no
        C(artifactType) when it is (the configuration's media type then says what the artifact is, as for Helm
        charts).
    type: str
  annotations:
    description:
      - Annotations of the manifest (string values). Nothing else adds any, so a push stays reproducible unless
        these change (for example a date put here).
    type: dict
  config:
    description:
      - A local file to push as the configuration blob, a path or a dict with C(path) and C(media_type) (default
        V(application/vnd.oci.image.config.v1+json)).
      - Without it the configuration is the OCI empty descriptor (V(application/vnd.oci.empty.v1+json), C({})).
    type: raw
  subject:
    description:
      - Tag or digest of a manifest in O(repository) the artifact refers to (OCI 1.1 C(subject)).
    type: str
  dest:
    description:
      - Existing directory to pull the artifact into. Titles with C(/) create subdirectories below it.
      - Mutually exclusive with O(files).
    type: path
  chunk_size:
    description:
      - Upload files in chunks of this many bytes (resumable) instead of deciding by size.
      - Between 1 and 134217728 (128 MiB). Registries may ask for a minimum chunk size; the larger one wins.
    type: int
notes:
  - In check mode nothing is written; a push still hashes the files and asks the registry which blobs it has, so
    RV(uploaded) and C(changed) are what the real run would do.
  - Deleting needs a registry that allows it (distribution C(storage.delete.enabled=true)); others answer
    C(405 UNSUPPORTED) and the module says so. A deleted referrer also leaves its subject's fallback index.
  - 'Helm charts: push the packaged C(.tgz) as the one file with media type
    V(application/vnd.cncf.helm.chart.content.v1.tar+gzip) and the chart metadata as O(config) with media type
    V(application/vnd.cncf.helm.config.v1+json) (see the artifacts guide). C(helm pull) accepts the result; its
    digest differs from C(helm push)''s, which adds timestamps and no file title.'
seealso:
  - module: oci.registry.registry_blob
  - module: oci.registry.registry_manifest
  - module: oci.registry.registry_copy
  - name: ORAS
    description: OCI Registry As Storage, the client whose artifact layout this module follows.
    link: https://oras.land/docs/
'''

EXAMPLES = r'''
- name: Push a release's files as an artifact
  oci.registry.registry_artifact:
    registry_url: https://registry.example.com
    username: ci
    password: "{{ registry_password }}"
    repository: team/app-docs
    tag: '1.4.2'
    artifact_type: application/vnd.example.docs.v1
    files:
      - /tmp/build/manual.pdf
      - path: /tmp/build/openapi.json
        media_type: application/vnd.oai.openapi+json
    annotations:
      org.opencontainers.image.version: '1.4.2'
  register: docs

- name: Attach an SBOM to the image team/app:1.4.2 (a referrer, pushed by digest)
  oci.registry.registry_artifact:
    registry_url: https://registry.example.com
    repository: team/app
    subject: '1.4.2'
    artifact_type: application/spdx+json
    files:
      - path: /tmp/build/sbom.spdx.json
        media_type: application/spdx+json

- name: Pull the release's files into a directory
  oci.registry.registry_artifact:
    registry_url: https://registry.example.com
    repository: team/app-docs
    tag: '1.4.2'
    dest: /tmp/docs

- name: Delete the artifact
  oci.registry.registry_artifact:
    registry_url: https://registry.example.com
    repository: team/app-docs
    tag: '1.4.2'
    state: absent
'''

RETURN = r'''
digest:
  description:
    - Digest of the artifact's manifest.
    - V(null) in check mode when O(subject) does not exist yet, and with O(state=absent) when nothing was there.
  returned: success
  type: str
  sample: sha256:0d3f8c2b5e7a9d1c3e5f7a9b1d3c5e7f9a1b3d5c7e9f1a3b5d7c9e1f3a5b7d9c
media_type:
  description: Media type of the manifest.
  returned: success, when known
  type: str
  sample: application/vnd.oci.image.manifest.v1+json
artifact_type:
  description:
    - The artifact's type, its manifest's C(artifactType); after a pull of a manifest without one, its
      configuration's media type.
  returned: with O(files) or O(dest)
  type: str
  sample: application/spdx+json
files:
  description: The pushed or pulled files, in layer order.
  returned: with O(files) or O(dest)
  type: list
  elements: dict
  contains:
    name:
      description: The layer's title (the file name a pull writes).
      type: str
      sample: sbom.spdx.json
    path:
      description: The local file (absolute).
      type: str
      sample: /tmp/build/sbom.spdx.json
    digest:
      description: Digest of the file.
      type: str
      sample: sha256:3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b
    size:
      description: Size in bytes.
      type: int
      sample: 48213
    media_type:
      description: Media type of the layer.
      type: str
      sample: application/spdx+json
  sample:
    - name: sbom.spdx.json
      path: /tmp/build/sbom.spdx.json
      digest: sha256:3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b
      size: 48213
      media_type: application/spdx+json
uploaded:
  description: Digests of the blobs (configuration and files) uploaded, or in check mode to be uploaded.
  returned: with O(files)
  type: list
  elements: str
  sample: [sha256:3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b]
subject:
  description: Digest of the image the artifact refers to.
  returned: with O(files), and with O(state=absent) when something was deleted
  type: str
  sample: sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
fallback_index:
  description:
    - Whether the artifact was (in check mode, would be) added to the subject's C(sha256-<hex>) fallback index,
      because the registry has no referrers API; with O(state=absent), removed from it.
  returned: with O(files) or O(state=absent)
  type: bool
  sample: true
tag:
  description: The tag pushed to.
  returned: with O(files) and O(tag)
  type: str
  sample: 1.4.2
previous_digest:
  description: Digest O(tag) pointed to before the push; V(null) when the tag did not exist.
  returned: with O(files) and O(tag)
  type: str
  sample: sha256:1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e
msg:
  description: What was done, in one line.
  returned: success
  type: str
  sample: Artifact team/app-docs:1.4.2 is now sha256:0d3f8c2b5e7a9d1c3e5f7a9b1d3c5e7f9a1b3d5c7e9f1a3b5d7c9e1f3a5b7d9c
diff:
  description: Before and after state, with C(--diff).
  returned: when diff mode is on
  type: dict
  sample:
    before: {repository: team/app-docs, tag: '1.4.2', digest: null}
    after: {repository: team/app-docs, tag: '1.4.2', digest: 'sha256:0d3f...'}
trace:
  description:
    - Requests sent to the registry (method, path, status, duration, bytes), without header values.
    - Only at verbosity 3 (C(-vvv)) and above.
  returned: when verbosity >= 3
  type: list
  elements: dict
  sample:
    - method: HEAD
      host: registry.example.com
      path: /v2/team/app-docs/manifests/1.4.2
      name: request
      attempt: 0
      status: 200
      duration_ms: 4.2
      bytes_sent: 0
      bytes_received: 0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    connection_argument_spec,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._artifact_service import ArtifactService
from ansible_collections.oci.registry.plugins.module_utils._lazy_client import LazyClient


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        tag=dict(type='str'),
        digest=dict(type='str'),
        files=dict(type='list', elements='raw'),
        artifact_type=dict(type='str'),
        annotations=dict(type='dict'),
        config=dict(type='raw'),
        subject=dict(type='str'),
        dest=dict(type='path'),
        chunk_size=dict(type='int'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('files', 'dest')],
        supports_check_mode=True,
    )
    # Created on first use: missing files and options that do not fit together fail before any request.
    client = LazyClient(lambda: client_from_params(module))
    run_module(module, lambda: ArtifactService(client, module.check_mode, module.params['chunk_size']).apply(
        module.params, move=module.atomic_move))


if __name__ == '__main__':
    main()
