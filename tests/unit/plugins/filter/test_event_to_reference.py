# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.event_to_reference import FilterModule, event_to_reference
from ansible_collections.oci.registry.plugins.filter.parse_reference import parse_reference_filter

DIGEST = 'sha256:' + '4c' * 32


def _event(**overrides):
    event = {'id': 'e1', 'registry': 'registry.example.com:5000', 'registry_url': 'https://registry.example.com:5000',
             'repository': 'team/app', 'tag': '1.4', 'digest': DIGEST, 'action': 'push', 'source': 'distribution'}
    event.update(overrides)
    return event


def test_push_event_is_pinned_by_digest():
    result = event_to_reference(_event())
    assert result == {
        'reference': 'registry.example.com:5000/team/app@' + DIGEST,
        'tagged': 'registry.example.com:5000/team/app:1.4',
        'pinned': True,
        'expected_digest': DIGEST,
        'registry': 'registry.example.com:5000',
        'registry_url': 'https://registry.example.com:5000',
        'repository': 'team/app',
        'tag': '1.4',
        'digest': DIGEST,
    }
    # What the roles parse it into is what the event said.
    parsed = parse_reference_filter(result['reference'])
    assert (parsed['registry'], parsed['repository'], parsed['digest']) == ('registry.example.com:5000', 'team/app', DIGEST)


def test_plain_http_registry_keeps_its_scheme():
    result = event_to_reference(_event(registry='127.0.0.1:5000', registry_url='http://127.0.0.1:5000'))
    assert result['reference'] == 'http://127.0.0.1:5000/team/app@' + DIGEST
    assert result['tagged'] == 'http://127.0.0.1:5000/team/app:1.4'
    assert parse_reference_filter(result['reference'])['registry_url'] == 'http://127.0.0.1:5000'


def test_registry_url_argument_wins():
    result = event_to_reference(_event(), registry_url='http://10.0.0.5:5000/')
    assert result['reference'] == 'http://10.0.0.5:5000/team/app@' + DIGEST
    assert result['registry_url'] == 'http://10.0.0.5:5000'


def test_event_with_registry_only_means_https():
    result = event_to_reference(_event(registry_url=None, registry='harbor.example.com'))
    assert result['registry_url'] == 'https://harbor.example.com'
    assert result['reference'] == 'harbor.example.com/team/app@' + DIGEST


def test_quay_push_without_digest_falls_back_to_the_tag():
    result = event_to_reference(_event(registry='quay.io', registry_url='https://quay.io', digest=None))
    assert result['reference'] == result['tagged'] == 'quay.io/team/app:1.4'
    assert result['pinned'] is False
    assert result['expected_digest'] == ''


def test_delete_by_digest_has_no_tagged_reference():
    result = event_to_reference(_event(tag=None))
    assert result['tagged'] is None
    assert result['reference'].endswith('@' + DIGEST)


def test_registered_as_filter():
    assert FilterModule().filters()['event_to_reference'] is event_to_reference


@pytest.mark.parametrize('event, message', [
    ('registry.example.com/team/app:1', 'input must be an event'),
    (_event(registry=None, registry_url=None), 'neither registry_url nor registry'),
    (_event(tag=None, digest=None), 'neither tag nor digest'),
    (_event(repository='Team/App'), 'must be lowercase'),
    (_event(repository='team/app --rm'), 'invalid repository name'),
    (_event(tag='1.4 && rm'), 'invalid tag'),
    (_event(digest='sha256:abc'), 'invalid sha256 digest'),
    (_event(digest=7), 'digest must be a string'),
    (_event(registry_url='ftp://registry.example.com'), 'scheme must be http or https'),
    (_event(registry_url='https://user:pw@registry.example.com'), 'credentials'),
    (_event(registry_url='https://registry'), 'neither a dot nor a port'),
])
def test_bad_events_name_the_problem(event, message):
    with pytest.raises(AnsibleFilterError, match=message) as info:
        event_to_reference(event)
    assert 'pw' not in str(info.value)
