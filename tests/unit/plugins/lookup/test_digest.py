# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""oci.registry.digest with a fake client: option handling, credential scoping, platform choice, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import yaml

from ansible import constants as C
from ansible.errors import AnsibleLookupError, AnsibleOptionsError

from ansible_collections.oci.registry.plugins.doc_fragments.connection import ModuleDocFragment as ConnectionFragment
from ansible_collections.oci.registry.plugins.lookup import digest as digest_module
from ansible_collections.oci.registry.plugins.module_utils import _connect as connect_module
from ansible_collections.oci.registry.plugins.module_utils import _media as media
from ansible_collections.oci.registry.plugins.module_utils._errors import NotFoundError, PermissionDeniedError

PLUGIN = 'oci.registry.digest'
SECRET = 's3cr3t-Pa55word'
ENV_NAMES = ('REGISTRY_URL', 'REGISTRY_USERNAME', 'REGISTRY_PASSWORD', 'REGISTRY_TOKEN', 'REGISTRY_AUTH_FILE',
             'REGISTRY_VALIDATE_CERTS')


def _digest(seed):
    return 'sha256:' + ('%02x' % seed) * 32


AMD64, ARM64, ARMV7, ATTESTATION, CONFIG, INDEX, SINGLE = (_digest(n) for n in range(1, 8))

INDEX_BODY = json.dumps({
    'schemaVersion': 2,
    'mediaType': media.OCI_INDEX,
    'manifests': [
        {'mediaType': media.OCI_MANIFEST, 'digest': AMD64, 'size': 500,
         'platform': {'os': 'linux', 'architecture': 'amd64'}},
        {'mediaType': media.OCI_MANIFEST, 'digest': ARM64, 'size': 500,
         'platform': {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}},
        {'mediaType': media.OCI_MANIFEST, 'digest': ARMV7, 'size': 500,
         'platform': {'os': 'linux', 'architecture': 'arm', 'variant': 'v7'}},
        {'mediaType': media.OCI_MANIFEST, 'digest': ATTESTATION, 'size': 500,
         'platform': {'os': 'unknown', 'architecture': 'unknown'},
         'annotations': {'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': AMD64}},
    ],
}).encode()

SINGLE_BODY = json.dumps({
    'schemaVersion': 2,
    'mediaType': media.OCI_MANIFEST,
    'config': {'mediaType': media.OCI_CONFIG, 'digest': CONFIG, 'size': 60},
    'layers': [],
}).encode()
SINGLE_CONFIG = json.dumps({'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}).encode()


class FakeResult(object):
    def __init__(self, digest, raw):
        self.digest = digest
        self.raw = raw
        self.manifest = media.parse_manifest(raw)
        self.media_type = self.manifest.media_type
        self.size = len(raw)


class FakeClient(object):
    """Stands in for RegistryClient; records how it was built and what it was asked."""

    instances = []
    # (registry_url, repository, reference) -> digest or exception
    digests = {}
    manifests = {}

    def __init__(self, registry_url, **kwargs):
        self.registry_url = registry_url
        self.kwargs = kwargs
        self.calls = []
        self.closed = False
        self.manifests = self
        self.blobs = self
        FakeClient.instances.append(self)

    def _answer(self, table, repository, reference):
        key = (self.registry_url, repository, reference)
        self.calls.append(key)
        if key not in table:
            raise NotFoundError('manifest unknown', status=404, registry=self.registry_url, repository=repository,
                                reference=reference)
        value = table[key]
        if isinstance(value, Exception):
            raise value
        return value

    def get_digest(self, repository, reference):
        return self._answer(FakeClient.digests, repository, reference)

    def get_manifest(self, repository, reference):
        return self._answer(FakeClient.manifests, repository, reference)

    def get_config(self, repository, manifest):
        assert manifest.config.digest == CONFIG
        return json.loads(SINGLE_CONFIG)

    def close(self):
        self.closed = True


@pytest.fixture(scope='module')
def loader():
    """Register the option definitions the way the plugin loader does.

    Going through lookup_loader would need the collection finder installed
    before anything imported ansible_collections, which plain pytest (and
    the shared conftest) do not guarantee.
    """
    if not C.config.has_configuration_definition('lookup', PLUGIN):
        doc = yaml.safe_load(digest_module.DOCUMENTATION)
        # The connection options come from the doc fragment's plugins variant, as with the plugin loader.
        assert doc['extends_documentation_fragment'] == ['oci.registry.connection.plugins']
        options = yaml.safe_load(ConnectionFragment.PLUGINS)['options']
        options.update(doc['options'])
        C.config.initialize_plugin_configuration_definitions('lookup', PLUGIN, options)


@pytest.fixture
def lookup(loader, monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(digest_module, 'RegistryClient', FakeClient)
    monkeypatch.setattr(connect_module, 'RegistryClient', FakeClient)
    monkeypatch.setattr(FakeClient, 'instances', [])
    monkeypatch.setattr(FakeClient, 'digests', {
        ('https://registry-1.docker.io', 'library/nginx', 'latest'): INDEX,
        ('https://registry-1.docker.io', 'library/nginx', '1.27'): _digest(9),
        ('https://ghcr.io', 'org/app', '1.0'): _digest(10),
        ('http://127.0.0.1:5000', 'team/app', '1.0'): _digest(11),
        ('http://127.0.0.1:5000', 'team/app', _digest(11)): _digest(11),
        ('https://127.0.0.1:5000', 'team/app', '1.0'): _digest(12),
        ('https://quay.io', 'org/denied', '1'): PermissionDeniedError(
            'access to org/denied denied', status=403, registry='quay.io', repository='org/denied', reference='1'),
        ('https://quay.io', 'org/broken', '1'): RuntimeError('line one\nline two'),
    })
    monkeypatch.setattr(FakeClient, 'manifests', {
        ('https://registry-1.docker.io', 'library/nginx', 'latest'): FakeResult(INDEX, INDEX_BODY),
        ('https://ghcr.io', 'org/single', '1'): FakeResult(SINGLE, SINGLE_BODY),
    })
    plugin = digest_module.LookupModule()
    plugin._load_name = PLUGIN
    return plugin


def test_one_term_per_result_in_order(lookup):
    assert lookup.run(['nginx:1.27', 'ghcr.io/org/app:1.0', 'docker.io/library/nginx']) == \
        [_digest(9), _digest(10), INDEX]


def test_one_client_per_registry_all_closed(lookup):
    lookup.run(['nginx:1.27', 'nginx', 'ghcr.io/org/app:1.0'])
    assert sorted(client.registry_url for client in FakeClient.instances) == \
        ['https://ghcr.io', 'https://registry-1.docker.io']
    assert all(client.closed for client in FakeClient.instances)


def test_options_reach_the_client(lookup):
    lookup.run(['ghcr.io/org/app:1.0'], username='ci', password=SECRET, auth_type='basic', validate_certs=False,
               ca_path='/tmp/ca.pem', timeout=5, retries=0, auth_file='/tmp/auth.json')
    kwargs = FakeClient.instances[0].kwargs
    assert kwargs['username'] == 'ci' and kwargs['password'] == SECRET
    assert kwargs['auth_type'] == 'basic'
    assert kwargs['validate_certs'] is False
    assert kwargs['ca_path'] == '/tmp/ca.pem' and kwargs['auth_file'] == '/tmp/auth.json'
    assert (kwargs['timeout'], kwargs['retries']) == (5, 0)


def test_defaults(lookup):
    lookup.run(['ghcr.io/org/app:1.0'])
    kwargs = FakeClient.instances[0].kwargs
    assert kwargs['validate_certs'] is True
    assert (kwargs['auth_type'], kwargs['timeout'], kwargs['retries']) == ('auto', 60, 3)
    assert kwargs['username'] is None and kwargs['password'] is None and kwargs['bearer_token'] is None


def test_environment_fallbacks(lookup, monkeypatch):
    monkeypatch.setenv('REGISTRY_URL', 'http://127.0.0.1:5000')
    monkeypatch.setenv('REGISTRY_USERNAME', 'env-user')
    monkeypatch.setenv('REGISTRY_PASSWORD', SECRET)
    monkeypatch.setenv('REGISTRY_TOKEN', 'env-token')
    monkeypatch.setenv('REGISTRY_AUTH_FILE', '/tmp/env-auth.json')
    monkeypatch.setenv('REGISTRY_VALIDATE_CERTS', 'false')
    # A name without registry host goes to REGISTRY_URL, with its scheme.
    assert lookup.run(['team/app:1.0']) == [_digest(11)]
    client = FakeClient.instances[0]
    assert client.registry_url == 'http://127.0.0.1:5000'
    assert (client.kwargs['username'], client.kwargs['password'], client.kwargs['bearer_token']) == \
        ('env-user', SECRET, 'env-token')
    assert client.kwargs['auth_file'] == '/tmp/env-auth.json'
    assert client.kwargs['validate_certs'] is False


def test_direct_options_win_over_environment(lookup, monkeypatch):
    monkeypatch.setenv('REGISTRY_USERNAME', 'env-user')
    monkeypatch.setenv('REGISTRY_VALIDATE_CERTS', 'false')
    lookup.run(['ghcr.io/org/app:1.0'], username='direct', password=SECRET, validate_certs=True)
    assert FakeClient.instances[0].kwargs['username'] == 'direct'
    assert FakeClient.instances[0].kwargs['validate_certs'] is True


def test_registry_url_scheme_applies_to_its_host(lookup):
    assert lookup.run(['127.0.0.1:5000/team/app:1.0'], registry_url='http://127.0.0.1:5000') == [_digest(11)]
    # Without registry_url a bare host means HTTPS.
    assert lookup.run(['127.0.0.1:5000/team/app:1.0']) == [_digest(12)]
    # An explicit scheme in the term wins.
    assert lookup.run(['http://127.0.0.1:5000/team/app:1.0']) == [_digest(11)]


def test_credentials_only_go_to_registry_url(lookup):
    result = lookup.run(['team/app:1.0', 'ghcr.io/org/app:1.0'], registry_url='http://127.0.0.1:5000',
                        username='ci', password=SECRET, bearer_token='tok', auth_file='/tmp/auth.json')
    assert result == [_digest(11), _digest(10)]
    by_url = dict((client.registry_url, client.kwargs) for client in FakeClient.instances)
    assert (by_url['http://127.0.0.1:5000']['username'], by_url['http://127.0.0.1:5000']['password']) == ('ci', SECRET)
    other = by_url['https://ghcr.io']
    assert other['username'] is None and other['password'] is None and other['bearer_token'] is None
    # The auth file holds credentials per host, so it still applies to the other registry.
    assert other['auth_file'] == '/tmp/auth.json'


def test_digest_reference_is_checked(lookup):
    assert lookup.run(['127.0.0.1:5000/team/app@' + _digest(11)], registry_url='http://127.0.0.1:5000') == [_digest(11)]
    assert FakeClient.instances[0].calls == [('http://127.0.0.1:5000', 'team/app', _digest(11))]


@pytest.mark.parametrize('platform, expected', [
    ('linux/amd64', AMD64),
    ('linux/arm64', ARM64),
    ('linux/arm64/v8', ARM64),
    ('linux/aarch64', ARM64),
    ('linux/arm/v7', ARMV7),
])
def test_platform_from_index(lookup, platform, expected):
    assert lookup.run(['nginx'], platform=platform) == [expected]


def test_empty_platform_means_none(lookup):
    assert lookup.run(['nginx'], platform='') == [INDEX]


def test_missing_platform_lists_available(lookup):
    with pytest.raises(AnsibleLookupError) as excinfo:
        lookup.run(['nginx'], platform='linux/s390x')
    message = str(excinfo.value)
    assert message.startswith('oci.registry.digest: registry-1.docker.io/library/nginx:latest: ')
    assert 'linux/s390x' in message
    assert 'linux/amd64' in message and 'linux/arm64' in message
    # Attestation manifests are not platforms.
    assert 'unknown/unknown' not in message


def test_platform_of_single_image_is_checked(lookup):
    assert lookup.run(['ghcr.io/org/single:1'], platform='linux/arm64') == [SINGLE]
    with pytest.raises(AnsibleLookupError, match='single-platform image for linux/arm64/v8, not linux/amd64'):
        lookup.run(['ghcr.io/org/single:1'], platform='linux/amd64')


@pytest.mark.parametrize('platform', ['linux', 'linux/arm64/v8/extra', '/amd64'])
def test_invalid_platform(lookup, platform):
    with pytest.raises(AnsibleLookupError, match='invalid platform'):
        lookup.run(['nginx'], platform=platform)
    assert FakeClient.instances == []


def test_not_found_is_one_clean_line(lookup):
    with pytest.raises(AnsibleLookupError) as excinfo:
        lookup.run(['ghcr.io/org/app:missing'], username='ci', password=SECRET)
    message = str(excinfo.value)
    assert message.startswith('oci.registry.digest: ')
    assert 'org/app' in message and 'missing' in message
    assert '\n' not in message
    assert SECRET not in message


def test_registry_error_message(lookup):
    with pytest.raises(AnsibleLookupError, match='denied'):
        lookup.run(['quay.io/org/denied:1'])


def test_unexpected_error_is_one_line_with_the_cause_attached(lookup):
    with pytest.raises(AnsibleLookupError) as excinfo:
        lookup.run(['quay.io/org/broken:1'])
    assert 'RuntimeError: line one line two' in str(excinfo.value)
    assert isinstance(excinfo.value.orig_exc, RuntimeError)


def test_clients_closed_after_failure(lookup):
    with pytest.raises(AnsibleLookupError):
        lookup.run(['ghcr.io/org/app:1.0', 'quay.io/org/denied:1'])
    assert len(FakeClient.instances) == 2
    assert all(client.closed for client in FakeClient.instances)


@pytest.mark.parametrize('term, message', [
    ('Team/App:1', 'must be lowercase'),
    ('app@sha256:12', 'invalid sha256 digest'),
])
def test_invalid_reference(lookup, term, message):
    with pytest.raises(AnsibleLookupError, match=message):
        lookup.run([term])
    assert FakeClient.instances == []


def test_invalid_registry_url(lookup):
    with pytest.raises(AnsibleLookupError, match='scheme must be http or https'):
        lookup.run(['app:1'], registry_url='ftp://example.com')


def test_non_string_term(lookup):
    with pytest.raises(AnsibleLookupError, match='must be an image reference string'):
        lookup.run([{'name': 'nginx'}])


def test_invalid_auth_type_is_rejected_by_the_option_spec(lookup):
    # The wording differs between ansible-core versions; both name the value and the option.
    with pytest.raises(AnsibleOptionsError, match="kerberos.*auth_type"):
        lookup.run(['nginx'], auth_type='kerberos')


def test_missing_requests_is_reported(lookup, monkeypatch):
    monkeypatch.setattr(digest_module, 'RegistryClient', None)
    monkeypatch.setattr(digest_module, 'CLIENT_IMPORT_ERROR', "Traceback...\nModuleNotFoundError: No module named 'requests'\n")
    with pytest.raises(AnsibleLookupError, match="needs the Python library requests.*No module named 'requests'"):
        lookup.run(['nginx'])


def test_userinfo_is_never_echoed(lookup):
    secret = 'S3cr3t-in-url'
    with pytest.raises(AnsibleLookupError) as info:
        lookup.run(['team/app:1'], registry_url='https://alice:%s@registry.example.com' % secret)
    assert secret not in str(info.value) and 'username/password' in str(info.value)
    with pytest.raises(AnsibleLookupError) as info:
        lookup.run(['alice:%s@registry.example.com/team/app:1' % secret])
    assert secret not in str(info.value) and 'credentials do not belong in URLs' in str(info.value)
    assert FakeClient.instances == []


def test_bad_timeout_fails_before_any_term(lookup):
    with pytest.raises(AnsibleLookupError, match='timeout is 0'):
        lookup.run(['ghcr.io/org/app:1.0'], timeout=0)
    assert FakeClient.instances == []


def test_same_scheme_as_the_modules_for_the_registry_url_host(lookup):
    """registry_url http://127.0.0.1:5000 and a term on that host without scheme: plain HTTP, credentials sent."""
    assert lookup.run(['127.0.0.1:5000/team/app:1.0'], registry_url='http://127.0.0.1:5000', username='ci',
                      password=SECRET) == [_digest(11)]
    assert FakeClient.instances[0].kwargs['password'] == SECRET
