# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.parse_reference import FilterModule, parse_reference_filter

DIGEST = 'sha256:' + 'ab' * 32


def _parts(text, **kwargs):
    result = parse_reference_filter(text, **kwargs)
    return (result['registry'], result['registry_url'], result['repository'], result['tag'], result['digest'],
            result['reference'])


@pytest.mark.parametrize('text, expected', [
    ('nginx', ('registry-1.docker.io', 'https://registry-1.docker.io', 'library/nginx', 'latest', None, 'latest')),
    ('docker.io/nginx:1.27', ('registry-1.docker.io', 'https://registry-1.docker.io', 'library/nginx', '1.27', None, '1.27')),
    ('index.docker.io/bitnami/redis:7', ('registry-1.docker.io', 'https://registry-1.docker.io', 'bitnami/redis', '7', None, '7')),
    ('bitnami/redis', ('registry-1.docker.io', 'https://registry-1.docker.io', 'bitnami/redis', 'latest', None, 'latest')),
    ('ghcr.io/org/app:1.0', ('ghcr.io', 'https://ghcr.io', 'org/app', '1.0', None, '1.0')),
    ('localhost/app', ('localhost', 'https://localhost', 'app', 'latest', None, 'latest')),
    ('127.0.0.1:5000/team/app:v2', ('127.0.0.1:5000', 'https://127.0.0.1:5000', 'team/app', 'v2', None, 'v2')),
    ('http://127.0.0.1:5000/team/app:v2', ('127.0.0.1:5000', 'http://127.0.0.1:5000', 'team/app', 'v2', None, 'v2')),
    ('registry.example.com:5000/a/b/c@' + DIGEST,
     ('registry.example.com:5000', 'https://registry.example.com:5000', 'a/b/c', None, DIGEST, DIGEST)),
    ('quay.io/org/app:1.2@' + DIGEST, ('quay.io', 'https://quay.io', 'org/app', '1.2', DIGEST, DIGEST)),
    # A port-like suffix on a one-part Docker Hub name is a tag, not a port.
    ('busybox:1.36', ('registry-1.docker.io', 'https://registry-1.docker.io', 'library/busybox', '1.36', None, '1.36')),
])
def test_parts(text, expected):
    assert _parts(text) == expected


def test_name_and_image_are_normalised():
    result = parse_reference_filter('docker.io/nginx')
    assert result['name'] == 'registry-1.docker.io/library/nginx'
    assert result['image'] == 'registry-1.docker.io/library/nginx:latest'
    pinned = parse_reference_filter('quay.io/org/app:1.2@' + DIGEST)
    assert pinned['image'] == 'quay.io/org/app:1.2@' + DIGEST


def test_default_registry_takes_names_without_host():
    assert _parts('team/app:1', default_registry='http://127.0.0.1:5000') == \
        ('127.0.0.1:5000', 'http://127.0.0.1:5000', 'team/app', '1', None, '1')
    # No library/ prefix: that is a Docker Hub convention only.
    assert _parts('app', default_registry='registry.example.com') == \
        ('registry.example.com', 'https://registry.example.com', 'app', 'latest', None, 'latest')
    # A reference naming its own registry ignores the default.
    assert _parts('ghcr.io/org/app:1', default_registry='http://127.0.0.1:5000')[:2] == ('ghcr.io', 'https://ghcr.io')


def test_default_tag():
    assert parse_reference_filter('nginx', default_tag='stable')['tag'] == 'stable'
    empty = parse_reference_filter('nginx', default_tag='')
    assert empty['tag'] is None and empty['reference'] is None
    # A digest needs no tag, so none is invented.
    assert parse_reference_filter('nginx@' + DIGEST)['tag'] is None


@pytest.mark.parametrize('text, message', [
    ('', 'empty'),
    ('Team/App:1', 'must be lowercase'),
    ('app:-bad', 'invalid tag'),
    ('app@sha256:1234', 'invalid sha256 digest'),
    ('http://app:1', 'no registry host'),
])
def test_invalid_references_fail_on_one_line(text, message):
    with pytest.raises(AnsibleFilterError) as excinfo:
        parse_reference_filter(text)
    assert message in str(excinfo.value)
    assert str(excinfo.value).startswith('parse_reference: ')
    assert '\n' not in str(excinfo.value)


@pytest.mark.parametrize('value', [None, 42, ['nginx'], {'name': 'nginx'}])
def test_non_string_input(value):
    with pytest.raises(AnsibleFilterError, match='input must be a string'):
        parse_reference_filter(value)


def test_registered_name():
    assert FilterModule().filters() == {'parse_reference': parse_reference_filter}
