# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: event_to_reference
short_description: Turn a registry event into the image references the promote role needs
version_added: 0.2.0
description:
  - Takes one event of the C(oci.registry.registry_events) event source (for Event-Driven Ansible) and returns
    the pushed image as references the modules and roles of this collection accept.
  - RV(_value.reference) pins the image by digest, so that a promotion started by the event copies exactly what
    was pushed even if the tag has moved since; RV(_value.expected_digest) is the same digest for
    C(promote_expected_digest) of the P(oci.registry.promote#role) role.
  - A Quay push notification carries no digest. Its RV(_value.reference) is then the tag, and
    RV(_value.expected_digest) is empty (no check).
  - Names are validated as the modules validate them, so a forged event cannot smuggle options into a reference.
  - No registry is contacted.
author:
  - oci.registry contributors (@oci-registry)
options:
  _input:
    description:
      - An event as the C(oci.registry.registry_events) source queues it (C(event) in a rulebook,
        C(ansible_eda.event) in a playbook run by a rulebook). A dict with at least C(registry) or
        C(registry_url), C(repository), and C(digest) or C(tag).
    type: dict
    required: true
  registry_url:
    description:
      - Use this registry URL (C(https://host[:port]) or C(http://host[:port])) instead of the event's own,
        for example when Ansible reaches the registry by another name than the one in the event.
    type: string
seealso:
  - plugin: oci.registry.parse_reference
    plugin_type: filter
  - ref: ansible_collections.oci.registry.docsite.guide_events
    description: Event-driven promotion
'''

EXAMPLES = r'''
---
- name: Promote exactly what the event says was pushed
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    pushed: "{{ ansible_eda.event | oci.registry.event_to_reference }}"
  roles:
    - role: oci.registry.promote
      vars:
        promote_src: "{{ pushed.reference }}"
        promote_dest: "prod.example.com/{{ pushed.repository }}:{{ pushed.tag }}"
        promote_expected_digest: "{{ pushed.expected_digest }}"

- name: What the filter returns for a distribution push event
  ansible.builtin.debug:
    msg: "{{ event | oci.registry.event_to_reference }}"
  vars:
    event:
      registry: 127.0.0.1:5000
      registry_url: http://127.0.0.1:5000
      repository: team/app
      tag: "1.4"
      digest: sha256:4c5e8a3d0b1f2a6e9d7c8b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e
  # => reference: http://127.0.0.1:5000/team/app@sha256:4c5e..., tagged: http://127.0.0.1:5000/team/app:1.4,
  #    expected_digest: sha256:4c5e..., pinned: true
'''

RETURN = r'''
_value:
  description:
    - The image of the event.
  type: dict
  contains:
    reference:
      description:
        - V([http://]registry/repository@digest), or V([http://]registry/repository:tag) when the event has no digest.
        - V(http://) is kept for registries without TLS, as the C(src) of M(oci.registry.registry_copy) and
          C(promote_src) of the promote role expect it; HTTPS registries get a bare host.
      type: string
      returned: always
      sample: registry.example.com:5000/team/app@sha256:4c5e8a3d0b1f2a6e9d7c8b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e
    tagged:
      description:
        - V([http://]registry/repository:tag), or V(null) when the event has no tag (a delete by digest).
      type: string
      returned: always
      sample: registry.example.com:5000/team/app:1.4
    pinned:
      description:
        - Whether RV(_value.reference) names a digest.
      type: bool
      returned: always
      sample: true
    expected_digest:
      description:
        - The digest, or an empty string without one; meant for C(promote_expected_digest).
      type: string
      returned: always
      sample: sha256:4c5e8a3d0b1f2a6e9d7c8b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e
    registry:
      description:
        - The registry host, with the port if it has one.
      type: string
      returned: always
      sample: registry.example.com:5000
    registry_url:
      description:
        - The registry URL, as the modules' C(registry_url) option expects it.
      type: string
      returned: always
      sample: https://registry.example.com:5000
    repository:
      description:
        - The repository name.
      type: string
      returned: always
      sample: team/app
    tag:
      description:
        - The tag of the event, or V(null).
      type: string
      returned: always
      sample: '1.4'
    digest:
      description:
        - The digest of the event, or V(null).
      type: string
      returned: always
      sample: sha256:4c5e8a3d0b1f2a6e9d7c8b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e
'''

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidReferenceError
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    _looks_like_registry,
    normalize_registry_url,
    split_registry_url,
    validate_digest,
    validate_repository,
    validate_tag,
)


def _optional(event, key):
    value = event.get(key)
    if value in (None, ''):
        return None
    if not isinstance(value, str):
        raise AnsibleFilterError('event_to_reference: the event\'s %s must be a string, got %s' % (key, type(value).__name__))
    return value


def event_to_reference(event, registry_url=None):
    if not isinstance(event, Mapping):
        raise AnsibleFilterError('event_to_reference: input must be an event (a dict) of the oci.registry.registry_events '
                                 'source, got %s' % type(event).__name__)
    try:
        url = registry_url or _optional(event, 'registry_url') or _optional(event, 'registry')
        if not url:
            raise AnsibleFilterError('event_to_reference: the event has neither registry_url nor registry; '
                                     'pass registry_url to the filter')
        scheme, registry = split_registry_url(url)
        repository = validate_repository(_optional(event, 'repository'))
        tag = _optional(event, 'tag')
        digest = _optional(event, 'digest')
        if tag is not None:
            validate_tag(tag)
        if digest is not None:
            validate_digest(digest)
    except InvalidReferenceError as err:
        raise AnsibleFilterError('event_to_reference: %s' % ' '.join(to_native(err).split()))
    if tag is None and digest is None:
        raise AnsibleFilterError('event_to_reference: the event for %s has neither tag nor digest, so it names no image'
                                 % repository)
    if not _looks_like_registry(registry):
        # A bare first component would read as a Docker Hub namespace in an image reference.
        raise AnsibleFilterError('event_to_reference: registry host %r has neither a dot nor a port, so a reference '
                                 'to it would name Docker Hub; pass registry_url with the port, e.g. https://%s:443'
                                 % (registry, registry))
    # References accept http:// for plain-HTTP registries; a bare host means HTTPS.
    prefix = 'http://' if scheme == 'http' else ''
    name = '%s%s/%s' % (prefix, registry, repository)
    tagged = '%s:%s' % (name, tag) if tag else None
    return {
        'reference': '%s@%s' % (name, digest) if digest else tagged,
        'tagged': tagged,
        'pinned': digest is not None,
        'expected_digest': digest or '',
        'registry': registry,
        'registry_url': normalize_registry_url('%s://%s' % (scheme, registry)),
        'repository': repository,
        'tag': tag,
        'digest': digest,
    }


class FilterModule(object):

    def filters(self):
        return {
            'event_to_reference': event_to_reference,
        }
