# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: parse_reference
short_description: Split a container image reference into registry, repository, tag and digest
version_added: 0.1.0
description:
  - Parses an image reference such as V(registry.example.com:5000/team/app:1.2@sha256:...) the way
    container engines and registries do, and returns its parts.
  - The first path component is a registry host only if it contains a V(.) or a V(:), or is V(localhost);
    otherwise the reference names a Docker Hub image (or one on O(default_registry)).
  - Docker Hub names are normalised the way the modules of this collection need them. The registry
    V(docker.io) (and V(index.docker.io)) becomes V(registry-1.docker.io), and a one-part name such as
    V(nginx) becomes V(library/nginx).
  - RV(_value.registry_url), RV(_value.repository) and RV(_value.reference) are what the C(registry_url), C(repository)
    and C(reference) options of the modules expect, for example those of M(oci.registry.registry_manifest_info).
  - Parsing only; no registry is contacted.
author:
  - oci.registry contributors (@oci-registry)
options:
  _input:
    description:
      - The image reference, for example V(nginx), V(ghcr.io/org/app:1.0), V(localhost:5000/app@sha256:...).
      - An V(http://) or V(https://) prefix is accepted and sets RV(_value.registry_url)'s scheme;
        without it the scheme is V(https).
    type: string
    required: true
  default_registry:
    description:
      - Registry for references without a registry host, instead of Docker Hub.
      - A bare host (V(registry.example.com:5000)) or a URL (V(http://127.0.0.1:5000)); a URL's scheme is used
        for RV(_value.registry_url).
      - One-part names get V(library/) only when this is a Docker Hub name, because that is a Docker Hub convention.
    type: string
  default_tag:
    description:
      - Tag assumed when the reference has neither a tag nor a digest, as container engines assume V(latest).
      - Set to an empty string to get V(null) as RV(_value.tag) for such references instead.
    type: string
    default: latest
seealso:
  - plugin: oci.registry.digest
    plugin_type: lookup
  - module: oci.registry.registry_manifest_info
'''

EXAMPLES = r'''
---
- name: Parse a Docker Hub short name
  ansible.builtin.debug:
    msg: "{{ 'nginx' | oci.registry.parse_reference }}"
  # => {"registry": "registry-1.docker.io", "registry_url": "https://registry-1.docker.io",
  #     "repository": "library/nginx", "tag": "latest", "digest": null, "reference": "latest",
  #     "name": "registry-1.docker.io/library/nginx", "image": "registry-1.docker.io/library/nginx:latest"}

- name: Feed the parts of a reference to a module
  vars:
    image: "{{ 'registry.example.com:5000/team/app:1.2' | oci.registry.parse_reference }}"
  oci.registry.registry_manifest_info:
    registry_url: "{{ image.registry_url }}"
    repository: "{{ image.repository }}"
    reference: "{{ image.reference }}"
  delegate_to: localhost
  register: manifest

- name: Names without a registry host belong to a private registry here
  ansible.builtin.set_fact:
    app: "{{ 'team/app:1.2' | oci.registry.parse_reference(default_registry='http://127.0.0.1:5000') }}"
  # => app.registry_url == "http://127.0.0.1:5000", app.repository == "team/app"

- name: Tell a pinned reference from a floating one
  ansible.builtin.assert:
    that:
      - (deploy_image | oci.registry.parse_reference).digest is not none
    fail_msg: "{{ deploy_image }} is not pinned to a digest"
'''

RETURN = r'''
_value:
  description:
    - The parts of the reference.
  type: dict
  contains:
    registry:
      description:
        - Registry host, with the port if the reference has one. Docker Hub is V(registry-1.docker.io).
      type: string
      returned: always
      sample: registry.example.com:5000
    registry_url:
      description:
        - URL of the registry, as the modules' C(registry_url) option expects it.
      type: string
      returned: always
      sample: https://registry.example.com:5000
    repository:
      description:
        - Repository name, with V(library/) added to one-part Docker Hub names.
      type: string
      returned: always
      sample: team/app
    tag:
      description:
        - The tag, O(default_tag) if the reference has neither a tag nor a digest, else V(null).
      type: string
      returned: always
      sample: '1.2'
    digest:
      description:
        - The digest after V(@), or V(null).
      type: string
      returned: always
      sample: sha256:4c5e8a3d0b1f2a6e9d7c8b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e
    reference:
      description:
        - What identifies the manifest in its repository, the digest if there is one, else the tag.
        - Suitable for the C(reference) option of M(oci.registry.registry_manifest_info).
      type: string
      returned: always
      sample: '1.2'
    name:
      description:
        - V(registry/repository), without tag or digest.
      type: string
      returned: always
      sample: registry.example.com:5000/team/app
    image:
      description:
        - The normalised full reference, V(registry/repository[:tag][@digest]).
      type: string
      returned: always
      sample: registry.example.com:5000/team/app:1.2
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidReferenceError
from ansible_collections.oci.registry.plugins.module_utils._reference import parse_reference


def parse_reference_filter(reference, default_registry=None, default_tag='latest'):
    if not isinstance(reference, str):
        raise AnsibleFilterError('parse_reference: input must be a string, got %s' % type(reference).__name__)
    if default_registry is not None and not isinstance(default_registry, str):
        raise AnsibleFilterError('parse_reference: default_registry must be a string')
    if default_tag is not None and not isinstance(default_tag, str):
        raise AnsibleFilterError('parse_reference: default_tag must be a string')
    try:
        ref = parse_reference(to_native(reference), default_registry=default_registry or None,
                              default_tag=default_tag or None)
    except InvalidReferenceError as err:
        raise AnsibleFilterError('parse_reference: %s' % ' '.join(to_native(err).split()))
    return {
        'registry': ref.registry,
        'registry_url': ref.registry_url,
        'repository': ref.repository,
        'tag': ref.tag,
        'digest': ref.digest,
        'reference': ref.reference,
        'name': ref.name,
        'image': str(ref),
    }


class FilterModule(object):

    def filters(self):
        return {
            'parse_reference': parse_reference_filter,
        }
