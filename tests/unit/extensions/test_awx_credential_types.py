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
from ansible_collections.oci.registry.plugins.module_utils.ansible_module import connection_argument_spec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TYPES_DIR = os.path.join(ROOT, 'extensions', 'awx', 'credential_types')
SOURCE = 'registry.yml'
DESTINATION = 'registry_destination.yml'
DEST_PREFIX = 'OCI_DEST_REGISTRY_'
# Where the destination variables are consumed (with lookup('env', ...)).
NOT_INJECTED = {'REGISTRY_CA_PATH'}
SECRET_FIELDS = ('password', 'bearer_token', 'auth_json')


def _load(name):
    with open(os.path.join(TYPES_DIR, name)) as handle:
        return yaml.safe_load(handle)


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


def _render(definition, inputs):
    """What AWX does: unset booleans are false, other unset fields are undefined (render empty)."""
    env = ImmutableSandboxedEnvironment()
    namespace = {}
    for field in definition['inputs']['fields']:
        if field['id'] in inputs:
            namespace[field['id']] = inputs[field['id']]
        elif field['type'] == 'boolean':
            namespace[field['id']] = False
    files = dict((key, env.from_string(template).render(**namespace))
                 for key, template in definition['injectors'].get('file', {}).items())
    namespace['tower'] = {'filename': dict((key.split('.', 1)[1], '/runner/env/%s' % key) for key in files)}
    envs = dict((key, env.from_string(template).render(**namespace))
                for key, template in definition['injectors']['env'].items())
    return envs, files


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
    # And nothing the modules read from the environment is missing from the credential, except the
    # CA path: AWX always sets an injected variable, and an empty CA file would replace the system
    # trust store, so a private CA comes from the execution environment (or ca_path) instead.
    assert _module_env_names() - NOT_INJECTED <= injected


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


def test_set_fields_render_through(definition):
    auth = json.dumps({'auths': {'ghcr.io': {'auth': 'dXNlcjpwYXNz'}}})
    envs, files = _render(definition, {'registry_url': 'r.example.com', 'username': 'ci', 'password': 'pw',
                                       'bearer_token': 'tok', 'auth_json': auth, 'skip_tls_verify': True})
    values = sorted(envs.values())
    assert 'ci' in values and 'pw' in values and 'tok' in values
    assert boolean([value for key, value in envs.items() if key.endswith('VALIDATE_CERTS')][0]) is False
    assert files['template.auth_json'] == auth
