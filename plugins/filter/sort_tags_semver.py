# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: sort_tags_semver
short_description: Sort image tags by semantic version
version_added: 0.1.0
description:
  - Sorts a list of image tags by semantic version precedence (semver 2.0), numerically and not as text,
    so V(1.10.0) comes after V(1.9.0) and V(1.0.0-rc.2) before V(1.0.0-rc.10) and V(1.0.0).
  - Tags are read leniently, as image tags are written. An optional V(v) or V(V) prefix is allowed, and one to
    three numeric components, missing ones counting as V(0) (V(1.2) is V(1.2.0)). Then an optional
    V(-prerelease) and V(+build).
  - Suffixed tags such as V(1.25.3-alpine) are pre-releases in semver terms, so they sort before V(1.25.3).
  - Tags with equal precedence (V(1.2) and V(v1.2.0)) are ordered by their text, so the result is stable.
  - Tags that are not versions (V(latest), V(stable), V(1.2.3.4)) are left out, or make the filter fail when
    O(ignore_invalid=false).
author:
  - oci.registry contributors (@oci-registry)
options:
  _input:
    description:
      - The tags, for example the RV(oci.registry.registry_tag_info#module:tags) result of M(oci.registry.registry_tag_info).
    type: list
    elements: string
    required: true
  reverse:
    description:
      - Sort from the highest version to the lowest.
    type: boolean
    default: false
  ignore_invalid:
    description:
      - If V(true), tags that are not versions are silently left out of the result.
      - If V(false), the filter fails and names them.
    type: boolean
    default: true
seealso:
  - plugin: oci.registry.parse_reference
    plugin_type: filter
  - module: oci.registry.registry_tag_info
'''

EXAMPLES = r'''
---
- name: Sort tags
  ansible.builtin.debug:
    msg: "{{ ['1.10.0', 'latest', '1.9.0', 'v1.9.1', '1.0.0-rc.1'] | oci.registry.sort_tags_semver }}"
  # => ["1.0.0-rc.1", "1.9.0", "v1.9.1", "1.10.0"]

- name: List the tags of a repository
  oci.registry.registry_tag_info:
    registry_url: https://registry.example.com
    repository: team/app
  delegate_to: localhost
  register: app_tags

- name: The highest version tag
  ansible.builtin.set_fact:
    newest_tag: "{{ (app_tags.tags | oci.registry.sort_tags_semver(reverse=true)) | first }}"

- name: Fail on tags that do not follow the versioning scheme
  ansible.builtin.debug:
    msg: "{{ app_tags.tags | reject('in', ['latest']) | oci.registry.sort_tags_semver(ignore_invalid=false) }}"
'''

RETURN = r'''
_value:
  description:
    - The version tags, unchanged (prefixes and suffixes kept), in ascending version order
      (descending with O(reverse=true)).
  type: list
  elements: string
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.oci.registry.plugins.module_utils._semver import parse_version, sort_versions

# How many offending tags an error message names; a repository can have thousands.
_MAX_NAMED = 5


def sort_tags_semver(tags, reverse=False, ignore_invalid=True):
    if not is_sequence(tags):
        raise AnsibleFilterError('sort_tags_semver: input must be a list of tags, got %s' % type(tags).__name__)
    tags = list(tags)
    not_strings = [tag for tag in tags if not isinstance(tag, str)]
    if not_strings:
        raise AnsibleFilterError('sort_tags_semver: every tag must be a string, got %s'
                                 % ', '.join(repr(tag) for tag in not_strings[:_MAX_NAMED]))
    if not isinstance(reverse, bool) or not isinstance(ignore_invalid, bool):
        raise AnsibleFilterError('sort_tags_semver: reverse and ignore_invalid must be booleans')
    if not ignore_invalid:
        invalid = [tag for tag in tags if parse_version(tag) is None]
        if invalid:
            more = len(invalid) - _MAX_NAMED
            raise AnsibleFilterError('sort_tags_semver: %d tag(s) are not versions: %s%s'
                                     % (len(invalid), ', '.join(to_native(tag) for tag in invalid[:_MAX_NAMED]),
                                        ' and %d more' % more if more > 0 else ''))
    return sort_versions(tags, reverse=reverse)


class FilterModule(object):

    def filters(self):
        return {
            'sort_tags_semver': sort_tags_semver,
        }
