# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' data shaping (filters over module_utils/_role_batches.py) and the shard function; pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.mirror_copy_items import mirror_copy_items
from ansible_collections.oci.registry.plugins.filter.mirror_failure import mirror_failure
from ansible_collections.oci.registry.plugins.filter.mirror_report import mirror_report
from ansible_collections.oci.registry.plugins.filter.promote_copy_items import promote_copy_items
from ansible_collections.oci.registry.plugins.filter.promote_failure import promote_failure
from ansible_collections.oci.registry.plugins.filter.promote_report import promote_report
from ansible_collections.oci.registry.plugins.module_utils._shard import ShardError, parse_shard, shard_of

D1 = 'sha256:' + '1' * 64
D2 = 'sha256:' + '2' * 64
RELEASE = [
    {'src': 'http://reg:5000/staging/api:2.0', 'dest': ['http://reg:5001/prod/api', {'dest': 'https://other.example/prod/api:2.0',
                                                                                     'auth': {'username': 'ci'}}],
     'expected_digest': D1, 'additional_tags': ['stable']},
    {'src': 'http://reg:5000/staging/web@' + D2, 'dest': 'http://reg:5001/prod/web:2.0'},
]


def test_shard_of_is_the_documented_stable_hash():
    name = 'team/app'
    assert shard_of(name, 8) == int(hashlib.sha256(name.encode()).hexdigest()[:16], 16) % 8
    assert shard_of(name, 1) == 0
    with pytest.raises(ShardError):
        shard_of(name, 0)


@pytest.mark.parametrize('spec', [{'index': 2, 'count': 2}, {'index': 0}, {'index': -1, 'count': 3}, 'x'])
def test_bad_shard_specs_are_refused(spec):
    with pytest.raises(ShardError):
        parse_shard(spec)


def test_n_mirror_shards_cover_exactly_the_entries_of_one_run():
    entries = [{'src': 'http://up:5000/lib/img-%d:1.0' % n, 'dest': 'http://mirror:5000/lib/img-%d' % (n % 37)}
               for n in range(120)]
    whole = mirror_copy_items(entries)
    for count in (1, 3, 8):
        parts = [mirror_copy_items(entries, shard={'index': index, 'count': count}) for index in range(count)]
        merged = sorted((item['src'], item['dest']) for part in parts for item in part)
        assert merged == sorted((item['src'], item['dest']) for item in whole)
        assert sum(len(part) for part in parts) == len(whole)  # disjoint
        # One destination repository never spans two shards.
        owners = {}
        for index, part in enumerate(parts):
            for item in part:
                assert owners.setdefault(item['dest'], index) == index


def test_mirror_items_carry_selection_and_defaults():
    items = mirror_copy_items([
        {'src': 'http://up:5000/lib/a', 'dest': 'http://m:5000/lib/a', 'semver': '>=1', 'tag_pattern': '^1'},
        {'src': 'http://up:5000/lib/b:3', 'dest': 'http://m:5000/lib/b', 'referrers': True, 'platforms': ['linux/arm64']},
    ], referrers=False, allow_empty=True, dest_auth={'username': 'u'})
    assert items[0]['semver'] == '>=1' and items[0]['tag_pattern'] == '^1' and items[0]['allow_empty'] is True
    assert items[0]['referrers'] is False and items[1]['referrers'] is True
    assert items[1]['platforms'] == ['linux/arm64'] and 'semver' not in items[1]
    assert items[1]['dest_auth'] == {'username': 'u'}


def test_mirror_bad_entry_is_named_by_position_never_by_its_credentials():
    with pytest.raises(AnsibleFilterError) as err:
        mirror_copy_items([{'src': 'https://alice:S3cr3t@up/lib/a', 'dest': 'http://m:5000/lib/a'}])
    assert 'mirror_images[0]' in str(err.value)
    assert 'S3cr3t' not in str(err.value) and 'alice' not in str(err.value)
    with pytest.raises(AnsibleFilterError, match=r'mirror_images\[0\]: give tags'):
        mirror_copy_items([{'src': 'http://up:5000/lib/a', 'dest': 'http://m:5000/lib/a'}])


def test_mirror_report_and_failure():
    entries = [{'src': 'http://up:5000/lib/a', 'dest': 'http://m:5000/lib/a', 'tags': ['1']},
               {'src': 'http://up:5000/lib/b', 'dest': 'http://m:5000/lib/b', 'semver': '^9'}]
    result = {'images': [
        {'status': 'done', 'changed': True, 'blobs': {'copied': 2},
         'tags': [{'dest': 'm/lib/a:1', 'dest_digest': D1, 'changed': True}]},
        {'status': 'failed', 'changed': False, 'msg': "copy failed: no tag of up/lib/b matches semver '^9'", 'tags': []}]}
    report = mirror_report(result, entries)
    assert report[0]['tags'] == ['m/lib/a:1'] and report[0]['digests'] == {'m/lib/a:1': D1}
    assert report[0]['tags_changed'] == ['m/lib/a:1'] and not report[0]['skipped']
    assert 'matched none of the upstream tags: mirror_images[1]' in mirror_failure(result, entries)


def test_promote_items_one_per_destination_tag():
    items = promote_copy_items(RELEASE, dest_auth={'username': 'default'}, immutable=True, platforms=['linux/amd64'])
    assert [(item['src'], item['dest']) for item in items] == [
        ('http://reg:5000/staging/api:2.0', 'http://reg:5001/prod/api:2.0'),
        ('http://reg:5000/staging/api:2.0', 'http://reg:5001/prod/api:stable'),
        ('http://reg:5000/staging/api:2.0', 'https://other.example/prod/api:2.0'),
        ('http://reg:5000/staging/api:2.0', 'https://other.example/prod/api:stable'),
        ('http://reg:5000/staging/web@' + D2, 'http://reg:5001/prod/web:2.0'),
    ]
    assert [item['referrers'] for item in items] == [True, False, True, False, True]
    assert all(item['overwrite'] is False and item['platforms'] == ['linux/amd64'] for item in items)
    assert items[0]['dest_auth'] == {'username': 'default'} and items[2]['dest_auth'] == {'username': 'ci'}
    assert items[0]['expected_digest'] == D1 and 'expected_digest' not in items[4]


@pytest.mark.parametrize('image, message', [
    ({'src': 'http://r:5000/a@' + D1, 'dest': 'http://r:5000/b'}, 'needs a tag'),
    ({'src': 'http://r:5000/a:1', 'dest': 'http://r:5000/b@' + D1}, 'has a digest'),
    ({'src': 'http://r:5000/a:1', 'dest': None}, 'needs src and dest'),
])
def test_promote_bad_destinations(image, message):
    with pytest.raises(AnsibleFilterError, match=message):
        promote_copy_items([image])


def _copy_result(statuses, refused=None):
    images = []
    for status in statuses:
        images.append({'status': status, 'changed': status == 'done', 'src_digest': D1, 'dest_digest': D1,
                       'referrers': [], 'tags': [{'before': None}], 'refused': None})
    if refused is not None:
        images[refused[0]]['refused'] = refused[1]
    return {'images': images}


def test_promote_report_keeps_the_single_image_shape():
    result = _copy_result(['done'] * 5)
    result['images'][1]['changed'] = False
    reports = promote_report(result, RELEASE, platforms=[], check_mode=False)
    assert len(reports) == 2
    first = reports[0]
    assert first['src_digest'] == D1 and first['expected_digest'] == D1 and first['changed']
    assert [d['tags'] for d in first['destinations']] == [['2.0', 'stable'], ['2.0', 'stable']]
    assert first['destinations'][0]['tags_changed'] == ['2.0']
    assert first['destinations'][0]['previous'] == {'2.0': None, 'stable': None}
    assert first['destinations'][1]['registry_url'] == 'https://other.example'


def test_promote_backup_tag_reaches_every_entry_and_an_image_may_set_its_own():
    release = [dict(RELEASE[0]), dict(RELEASE[1], backup_tag='{tag}-{date}')]
    items = promote_copy_items(release, backup_tag='{tag}-prev')
    assert [item['backup_tag'] for item in items] == ['{tag}-prev'] * 4 + ['{tag}-{date}']
    assert all('backup_tag' not in item for item in promote_copy_items(RELEASE))


def test_promote_report_lists_the_backups_per_destination():
    result = _copy_result(['done'] * 5)
    moved = {'tag': 'stable', 'backup': 'stable-prev', 'digest': D2}
    result['images'][1]['backups'] = [moved]
    reports = promote_report(result, RELEASE)
    assert [d['backups'] for d in reports[0]['destinations']] == [[moved], []]
    assert reports[1]['destinations'][0]['backups'] == []


def test_promote_failure_names_guard_digests_and_nothing_written():
    refusal = {'guard': 'expected_digest', 'src_digest': D2, 'expected_digest': D1}
    msg = promote_failure(_copy_result(['not_started', 'refused', 'not_started', 'not_started', 'not_started'],
                                       refused=(1, refusal)), RELEASE, single=True)
    assert msg.startswith('promote refused by promote_expected_digest: http://reg:5000/staging/api:2.0 now resolves')
    assert D1 in msg and D2 in msg and msg.endswith('nothing was written.')
    conflict = {'guard': 'overwrite', 'conflicts': [{'dest': 'reg:5001/prod/web:2.0', 'before': D2, 'after': D1}]}
    msg = promote_failure(_copy_result(['not_started'] * 4 + ['refused'], refused=(4, conflict)), RELEASE)
    assert 'promote refused by promote_immutable: reg:5001/prod/web:2.0 points to %s, promotion would set %s' % (
        D2, D1) in msg
    # A write that failed part-way: not "nothing was written".
    msg = promote_failure(_copy_result(['done', 'failed', 'done', 'done', 'done']), RELEASE)
    assert 'written before the failure' in msg
