"""connect(options): one credential and connection rule for modules, the lookup and both sides of registry_copy."""

from __future__ import annotations

import pytest

from ansible_collections.oci.registry.plugins.module_utils import _connect as connect_mod
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidOptionError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils._options import (
    MAX_CHUNK_SIZE,
    check_number,
    chunk_size_for,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import parse_reference
from ansible_collections.oci.registry.plugins.modules import registry_copy


def _copy_params(**options):
    params = dict((name, None) for name in registry_copy.argument_spec())
    params.update(options)
    return params


# ----------------------------------------------------------------------------- environment scoping (moved)

def test_env_credentials_are_not_sent_to_another_registry(monkeypatch):
    """An AWX-injected credential for REGISTRY_URL must not reach a registry the task names itself."""
    monkeypatch.setenv('REGISTRY_URL', 'https://staging.example.com')
    monkeypatch.setenv('REGISTRY_USERNAME', 'ci')
    monkeypatch.setenv('REGISTRY_PASSWORD', 'env-secret')
    from_env = {'username': 'ci', 'password': 'env-secret', 'bearer_token': None}

    other = connect_mod.connection_params(dict(from_env, registry_url='https://elsewhere.example.com'))
    assert (other['username'], other['password'], other['bearer_token']) == (None, None, None)

    same = connect_mod.connection_params(dict(from_env, registry_url='staging.example.com/'))
    assert (same['username'], same['password']) == ('ci', 'env-secret')

    explicit = connect_mod.connection_params({'registry_url': 'https://elsewhere.example.com',
                                              'username': 'deployer', 'password': 'task-secret'})
    assert explicit['username'] == 'deployer' and explicit['password'] == 'task-secret'


def test_explicit_credentials_sharing_the_env_user_name_are_kept(monkeypatch):
    """AWX source and destination credentials with the same user name: the task's password must go with it.

    Before, the user name was dropped because it equalled REGISTRY_USERNAME while the task's own
    password was kept, so the destination answered 401.
    """
    monkeypatch.setenv('REGISTRY_URL', 'https://staging.example.com')
    monkeypatch.setenv('REGISTRY_USERNAME', 'admin')
    monkeypatch.setenv('REGISTRY_PASSWORD', 'env-secret')
    got = connect_mod.connection_params({'registry_url': 'https://prod.example.com',
                                         'username': 'admin', 'password': 'prod-secret'})
    assert (got['username'], got['password']) == ('admin', 'prod-secret')
    # Both values injected by the environment still stay away from another registry.
    got = connect_mod.connection_params({'registry_url': 'https://prod.example.com',
                                         'username': 'admin', 'password': 'env-secret'})
    assert (got['username'], got['password']) == (None, None)


def test_env_credentials_apply_anywhere_without_registry_url(monkeypatch):
    monkeypatch.delenv('REGISTRY_URL', raising=False)
    params = {'username': 'ci', 'password': 'env-secret', 'bearer_token': None}
    got = connect_mod.connection_params(params, target='https://elsewhere.example.com')
    assert (got['username'], got['password']) == ('ci', 'env-secret')


# ----------------------------------------------------------------------------- registry_copy sides

def test_copy_top_level_timeout_and_retries_apply_without_registry_url(monkeypatch):
    """timeout: 3, retries: 0 must not become 60 s and 3 retries because registry_url is unset."""
    monkeypatch.delenv('REGISTRY_URL', raising=False)
    params = _copy_params(timeout=3, retries=0)
    src = parse_reference('127.0.0.1:5000/a/b:1')
    side = registry_copy.side_params(params, src, None)
    assert side['timeout'] == 3 and side['retries'] == 0


def test_copy_ca_path_from_environment_applies_without_registry_url(monkeypatch, tmp_path):
    monkeypatch.delenv('REGISTRY_URL', raising=False)
    ca = tmp_path / 'ca.pem'
    ca.write_text('x')
    params = _copy_params(ca_path=str(ca))  # what the REGISTRY_CA_PATH fallback fills in
    side = registry_copy.side_params(params, parse_reference('registry.example.com/a:1'), None)
    assert side['ca_path'] == str(ca)


def test_copy_secrets_stay_on_the_registry_url_side_but_timeouts_apply_to_both(monkeypatch):
    monkeypatch.delenv('REGISTRY_URL', raising=False)
    params = _copy_params(registry_url='https://home.example.com', username='u', password='p', timeout=5,
                          ca_path='/home-ca.pem')
    home = registry_copy.side_params(params, parse_reference('home.example.com/a:1'), None)
    other = registry_copy.side_params(params, parse_reference('other.example.com/a:1'),
                                      {'username': 'o', 'password': 'q'})
    assert (home['username'], home['password'], home['ca_path']) == ('u', 'p', '/home-ca.pem')
    assert (other['username'], other['password'], other['ca_path']) == ('o', 'q', None)
    assert home['timeout'] == other['timeout'] == 5


def test_copy_and_lookup_pick_the_registry_url_scheme_for_its_host():
    """`registry_url: http://h:p` and `src: h:p/repo` mean plain HTTP, as in the digest lookup."""
    params = _copy_params(registry_url='http://127.0.0.1:5999')
    side = registry_copy.side_params(params, parse_reference('127.0.0.1:5999/a/b:1'), None, '127.0.0.1:5999/a/b:1')
    assert side['registry_url'] == 'http://127.0.0.1:5999'
    explicit = registry_copy.side_params(params, parse_reference('https://127.0.0.1:5999/a/b:1'), None,
                                         'https://127.0.0.1:5999/a/b:1')
    assert explicit['registry_url'] == 'https://127.0.0.1:5999'
    ref, url = connect_mod.resolve_reference('127.0.0.1:5999/a/b:1', home='http://127.0.0.1:5999')
    assert url == side['registry_url'] and ref.repository == 'a/b'


def test_copy_with_short_timeout_against_real_registry(registries, tmp_path, capsys, monkeypatch):
    """The honoured values reach the client: a registry_copy from a closed port fails without 3 retries."""
    from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

    monkeypatch.delenv('REGISTRY_URL', raising=False)
    plain = registries['registries']['plain']['host']
    result = run(registry_copy, capsys, verbosity=3, src='http://127.0.0.1:9/a/b:1',
                 dest='http://%s/sec/copy-timeout:1' % plain, timeout=3, retries=0)
    assert result['failed'] is True
    attempts = [record for record in result.get('trace', []) if record.get('host', '').endswith(':9')]
    assert len(attempts) == 1, attempts


# ----------------------------------------------------------------------------- numbers

@pytest.mark.parametrize('name, value', [
    ('timeout', -1), ('timeout', 0), ('retries', -1), ('chunk_size', 0), ('chunk_size', MAX_CHUNK_SIZE + 1),
    ('page_size', 0), ('concurrency', 0), ('timeout', 'soon'), ('retries', True),
])
def test_numbers_out_of_range_are_one_line_errors(name, value):
    with pytest.raises(InvalidOptionError) as info:
        check_number(name, value)
    text = str(info.value)
    assert name in text and '\n' not in text


def test_numbers_in_range_pass():
    assert check_number('timeout', '3') == 3
    assert check_number('retries', 0) == 0
    assert check_number('chunk_size', MAX_CHUNK_SIZE) == MAX_CHUNK_SIZE
    assert check_number('page_size', None) is None


def test_chunk_size_for_registry_minimum():
    assert chunk_size_for(None) is None
    assert chunk_size_for(1000, registry_minimum=5 * 1024 * 1024) == 5 * 1024 * 1024
    assert chunk_size_for(8192, registry_minimum='bogus') == 8192
    with pytest.raises(InvalidOptionError):
        chunk_size_for(MAX_CHUNK_SIZE * 2)


@pytest.mark.parametrize('options', [dict(timeout=-1), dict(timeout=0), dict(retries=-1)])
def test_client_refuses_bad_timeout_and_retries(options):
    """timeout: 0 used to mean 60 and timeout: -1 raised a ValueError from requests."""
    with pytest.raises(InvalidOptionError):
        RegistryClient('http://127.0.0.1:9', **options)


def test_module_reports_bad_timeout_in_one_line(capsys):
    from ansible_collections.oci.registry.plugins.modules import registry_info
    from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

    result = run(registry_info, capsys, registry_url='http://127.0.0.1:9', timeout=-1)
    assert result['failed'] is True
    assert 'timeout is -1' in result['msg'] and 'between 1 and 3600' in result['msg']
    assert 'Traceback' not in result['msg'] and 'Unexpected' not in result['msg']


def test_invalid_option_error_is_a_registry_error():
    assert issubclass(InvalidOptionError, RegistryError)
