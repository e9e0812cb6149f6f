# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: semver_filter
short_description: Select the image tags that are versions within a semantic-version range
version_added: 0.1.0
description:
  - Keeps the tags of a list that are versions and match a range such as V(>=1.2,<2), and returns them in
    version order (lowest first), so C(| last) is the newest.
  - 'Versions: an optional V(v), one to three numbers (V(1.2) is V(1.2.0)), an optional V(-prerelease) and
    V(+build). Tags like V(latest), V(stable) or V(1.2.3.4) never match.'
  - 'Ranges: comparators V(>=1.2), V(>1.2), V(<=2), V(<2), V(=1.2.3), V(!=1.3.0); a partial version or
    x-range (V(1.2), V(1.2.x), V(1.*)) means that prefix; V(~1.2.3) means V(>=1.2.3,<1.3.0); V(^1.2.3) means
    V(>=1.2.3,<2.0.0) (V(^0.2.3) means V(>=0.2.3,<0.3.0)); V(1.2 - 1.4) is inclusive; comparators separated by
    commas or spaces must all hold; V(||) separates alternatives; V(*) matches every version.'
  - Pre-releases, and suffixed tags such as V(1.25.3-alpine) which semver reads as pre-releases, only match
    with O(include_prerelease=true); they sort before their release.
author:
  - oci.registry contributors
options:
  _input:
    description: Tags, for example RV(oci.registry.registry_tag_info#module:tags).
    type: list
    elements: string
    required: true
  range:
    description: The version range.
    type: string
    default: '*'
  include_prerelease:
    description: Also match pre-release versions.
    type: bool
    default: false
  limit:
    description: Return only the N highest matching versions.
    type: int
seealso:
  - plugin: oci.registry.parse_reference
    plugin_type: filter
  - module: oci.registry.registry_tag_info
'''

EXAMPLES = r'''
---
- name: Tags of the 1.x series from 1.2 on
  ansible.builtin.debug:
    msg: "{{ ['1.0', '1.2.0', 'v1.3.1', '2.0.0', 'latest'] | oci.registry.semver_filter('>=1.2,<2') }}"
  # => ['1.2.0', 'v1.3.1']

- name: The three newest 3.x releases of an upstream repository
  ansible.builtin.set_fact:
    wanted: "{{ upstream.tags | oci.registry.semver_filter('^3', limit=3) }}"

- name: Newest version, pre-releases included
  ansible.builtin.debug:
    msg: "{{ upstream.tags | oci.registry.semver_filter('*', include_prerelease=true) | last }}"
'''

RETURN = r'''
_value:
  description: Matching tags, lowest version first; tags that are not versions are left out.
  type: list
  elements: string
  sample: ['1.2.0', 'v1.3.1']
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.oci.registry.plugins.module_utils._semver import SemverError, filter_versions


def semver_filter(tags, range='*', include_prerelease=False, limit=None):  # pylint: disable=redefined-builtin
    if isinstance(tags, str) or not hasattr(tags, '__iter__'):
        raise AnsibleFilterError('semver_filter: input must be a list of tags, got %s' % type(tags).__name__)
    try:
        return filter_versions([to_native(tag) for tag in tags], to_native(range) if range is not None else '*',
                               include_prerelease=bool(include_prerelease), limit=limit)
    except (SemverError, ValueError) as err:
        raise AnsibleFilterError('semver_filter: %s' % to_native(err))


class FilterModule(object):

    def filters(self):
        return {
            'semver_filter': semver_filter,
        }
