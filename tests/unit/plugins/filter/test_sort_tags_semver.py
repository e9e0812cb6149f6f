# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.sort_tags_semver import FilterModule, sort_tags_semver

TAGS = ['latest', '1.10.0', '1.9.0', 'v1.9.1', '1.0.0', '1.0.0-rc.10', '1.0.0-rc.2', '1.0.0-beta', '2',
        '1.25.3-alpine', '1.25.3', 'stable', '1.2.3.4', '0.9']


def test_numeric_semver_order_drops_non_versions():
    assert sort_tags_semver(TAGS) == [
        '0.9', '1.0.0-beta', '1.0.0-rc.2', '1.0.0-rc.10', '1.0.0', '1.9.0', 'v1.9.1', '1.10.0',
        '1.25.3-alpine', '1.25.3', '2']


def test_reverse():
    assert sort_tags_semver(TAGS, reverse=True) == list(reversed(sort_tags_semver(TAGS)))
    assert sort_tags_semver(TAGS, reverse=True)[0] == '2'


def test_equal_precedence_is_stable_whatever_the_input_order():
    tags = ['v1.2.0', '1.2', '1.2.0']
    assert sort_tags_semver(tags) == sort_tags_semver(list(reversed(tags))) == ['1.2', '1.2.0', 'v1.2.0']


def test_ignore_invalid_false_names_the_offenders():
    with pytest.raises(AnsibleFilterError) as excinfo:
        sort_tags_semver(TAGS, ignore_invalid=False)
    message = str(excinfo.value)
    assert '3 tag(s) are not versions' in message
    for tag in ('latest', 'stable', '1.2.3.4'):
        assert tag in message
    assert sort_tags_semver(['2.0', 'v1'], ignore_invalid=False) == ['v1', '2.0']


def test_long_lists_of_offenders_are_cut():
    tags = ['nightly-%d' % number for number in range(50)]
    with pytest.raises(AnsibleFilterError) as excinfo:
        sort_tags_semver(tags, ignore_invalid=False)
    assert 'and 45 more' in str(excinfo.value)
    assert 'nightly-49' not in str(excinfo.value)


def test_tuple_input_and_empty_list():
    assert sort_tags_semver(('1.1', '1.0')) == ['1.0', '1.1']
    assert sort_tags_semver([]) == []


@pytest.mark.parametrize('value, message', [
    ('1.0', 'input must be a list'),
    ({'1.0': 'x'}, 'input must be a list'),
    (None, 'input must be a list'),
    (['1.0', 2], 'every tag must be a string'),
])
def test_bad_input(value, message):
    with pytest.raises(AnsibleFilterError, match=message):
        sort_tags_semver(value)


def test_bad_flags():
    with pytest.raises(AnsibleFilterError, match='must be booleans'):
        sort_tags_semver(['1.0'], reverse='yes')


def test_registered_name():
    assert FilterModule().filters() == {'sort_tags_semver': sort_tags_semver}
