# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX credential types inject only what the collection reads, and render the way AWX renders them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest
import yaml

from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.oci.registry.plugins.lookup import digest as digest_lookup
from ansible_collections.oci.registry.plugins.module_utils._ansible_module import connection_argument_spec
from ansible_collections.oci.registry.plugins.modules import registry_info
from ansible_collections.oci.registry.tests.unit.extensions import awx_rendering
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

ROOT = awx_rendering.ROOT
SOURCE = awx_rendering.SOURCE
DESTINATION = awx_rendering.DESTINATION
DEST_PREFIX = 'OCI_DEST_REGISTRY_'
SECRET_FIELDS = ('password', 'bearer_token', 'auth_json')
PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


def _module_env_names():
    names = set()
    for option in connection_argument_spec().values():
        fallback = option.get('fallback')
        if fallback:
            names.update(fallback[1])
    return names


def _lookup_env_names():
    doc = yaml.safe_load(digest_lookup.DOCUMENTATION)
    options = dict(doc['options'])
    if 'oci.registry.connection.plugins' in doc.get('extends_documentation_fragment', []):
        # The lookup's connection options live in the doc fragment's plugins variant.
        from ansible_collections.oci.registry.plugins.doc_fragments.connection import ModuleDocFragment
        options.update(yaml.safe_load(ModuleDocFragment.PLUGINS)['options'])
    return set(entry['name'] for option in options.values() for entry in option.get('env', []))


_render = awx_rendering.render
_load = awx_rendering.load


@pytest.fixture(params=[SOURCE, DESTINATION])
def definition(request):
    return _load(request.param)


def test_both_types_exist_with_distinct_names():
    names = [_load(SOURCE)['name'], _load(DESTINATION)['name']]
    assert names == ['OCI registry', 'OCI registry (destination)']


def test_shape(definition):
    assert definition['kind'] == 'cloud'
    fields = dict((field['id'], field) for field in definition['inputs']['fields'])
    assert set(definition['inputs']['required']) <= set(fields)
    for field in fields.values():
        assert field['type'] in ('string', 'boolean')
        assert field.get('label')
    for name in SECRET_FIELDS:
        assert fields[name].get('secret') is True, '%s must be a secret field' % name
    assert set(definition['injectors']) <= set(['env', 'file', 'extra_vars'])


def test_templates_use_only_declared_fields(definition):
    fields = set(field['id'] for field in definition['inputs']['fields'])
    env = ImmutableSandboxedEnvironment()
    templates = list(definition['injectors']['env'].values()) + list(definition['injectors'].get('file', {}).values())
    used = set()
    for template in templates:
        used |= meta.find_undeclared_variables(env.parse(template))
    assert used - set(['tower']) <= fields
    # Every field is injected somewhere, or it would be a setting that does nothing.
    assert fields <= used


def test_no_reserved_names(definition):
    for name in definition['injectors']['env']:
        assert not name.startswith('ANSIBLE_')
        assert re.match(r'^[A-Z][A-Z0-9_]*$', name)


def test_source_injects_exactly_what_modules_and_lookup_read():
    injected = set(_load(SOURCE)['injectors']['env'])
    assert injected <= _module_env_names(), 'not read by the modules: %s' % sorted(injected - _module_env_names())
    assert injected <= _lookup_env_names(), 'not read by the lookup: %s' % sorted(injected - _lookup_env_names())
    # And nothing the modules read from the environment is missing from the credential.
    assert _module_env_names() <= injected


def test_destination_mirrors_the_source_names():
    source = set(_load(SOURCE)['injectors']['env'])
    destination = set(_load(DESTINATION)['injectors']['env'])
    assert all(name.startswith(DEST_PREFIX) for name in destination)
    assert set(DEST_PREFIX + name[len('REGISTRY_'):] for name in source) == destination


def test_destination_names_are_used_by_the_awx_guide():
    """The destination type's variables reach a role only through the guide's playbook: keep them in step."""
    guide = os.path.join(ROOT, 'docs', 'docsite', 'rst', 'guide_awx.rst')
    with open(guide) as handle:
        text = handle.read()
    missing = sorted(name for name in _load(DESTINATION)['injectors']['env'] if "'%s'" % name not in text)
    assert not missing, 'injected but never passed on by the AWX guide: %s' % missing


def test_unset_fields_render_safe_values(definition):
    envs, files = _render(definition, {'registry_url': 'https://registry.example.com'})
    by_suffix = dict((re.sub('^(REGISTRY_|%s)' % DEST_PREFIX, '', key), value) for key, value in envs.items())
    assert by_suffix['URL'] == 'https://registry.example.com'
    # An unset "skip verification" box keeps TLS verification on.
    assert boolean(by_suffix['VALIDATE_CERTS']) is True
    assert by_suffix['USERNAME'] == by_suffix['PASSWORD'] == by_suffix['TOKEN'] == ''
    # The auth file always exists and is valid JSON, so pointing at it never breaks a run.
    assert by_suffix['AUTH_FILE'] == '/runner/env/template.auth_json'
    assert json.loads(files['template.auth_json']) == {'auths': {}}
    # No CA given: the variable is empty (unset for the modules), not a path to an empty file.
    assert by_suffix['CA_PATH'] == ''


def test_set_fields_render_through(definition):
    auth = json.dumps({'auths': {'ghcr.io': {'auth': 'dXNlcjpwYXNz'}}})
    envs, files = _render(definition, {'registry_url': 'r.example.com', 'username': 'ci', 'password': 'pw',
                                       'bearer_token': 'tok', 'auth_json': auth, 'skip_tls_verify': True,
                                       'ca_cert': PEM})
    values = sorted(envs.values())
    assert 'ci' in values and 'pw' in values and 'tok' in values
    assert boolean([value for key, value in envs.items() if key.endswith('VALIDATE_CERTS')][0]) is False
    assert files['template.auth_json'] == auth
    assert [value for key, value in envs.items() if key.endswith('CA_PATH')] == ['/runner/env/template.ca_cert']
    assert files['template.ca_cert'] == PEM


def _inject(monkeypatch, tmp_path, inputs):
    """Render the source type as AWX would, write its files and set its environment variables."""
    envs, files = _render(_load(SOURCE), inputs, files_dir=str(tmp_path))
    for key, content in files.items():
        (tmp_path / key).write_text(content)
    for key, value in envs.items():
        monkeypatch.setenv(key, value)
    return envs


@pytest.fixture
def clean_env(monkeypatch):
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE') + tuple(sorted(_module_env_names())):
        monkeypatch.delenv(name, raising=False)


def test_empty_ca_field_keeps_the_trust_store(registries, clean_env, monkeypatch, tmp_path, capsys):
    """An empty CA field must not replace the trust the execution environment already has.

    REQUESTS_CA_BUNDLE stands in for the execution environment's trust store here: it holds the test
    CA, so the TLS registry is reachable exactly when that trust store is still in use.
    """
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', registries['ca_path'])
    envs = _inject(monkeypatch, tmp_path, {'registry_url': registries['registries']['tls']['url']})
    assert envs['REGISTRY_CA_PATH'] == ''
    result = run(registry_info, capsys)
    assert not result.get('failed'), result.get('msg')
    assert result['api_version'] == 'registry/2.0'


def test_ca_field_is_trusted(registries, clean_env, monkeypatch, tmp_path, capsys):
    """With only the CA field (no trust store knows the test CA), the TLS registry is trusted."""
    with open(registries['ca_path']) as handle:
        pem = handle.read()
    envs = _inject(monkeypatch, tmp_path, {'registry_url': registries['registries']['tls']['url'], 'ca_cert': pem})
    assert envs['REGISTRY_CA_PATH'] == str(tmp_path / 'template.ca_cert')
    result = run(registry_info, capsys)
    assert not result.get('failed'), result.get('msg')
    assert result['api_version'] == 'registry/2.0'


def test_an_empty_ca_file_would_break_trust(registries, clean_env, monkeypatch, tmp_path, capsys):
    """Why the injector leaves the variable empty: a path to an empty CA file trusts nothing."""
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', registries['ca_path'])
    _inject(monkeypatch, tmp_path, {'registry_url': registries['registries']['tls']['url']})
    (tmp_path / 'empty.pem').write_text('')
    monkeypatch.setenv('REGISTRY_CA_PATH', str(tmp_path / 'empty.pem'))
    result = run(registry_info, capsys)
    assert result.get('failed')
