# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The credential types of extensions/awx, loaded and rendered the way AWX renders injectors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.oci.registry.tests.unit.extensions import collection_paths

ROOT = collection_paths.ROOT
TYPES_DIR = os.path.join(ROOT, 'extensions', 'awx', 'credential_types')
SOURCE = 'registry.yml'
DESTINATION = 'registry_destination.yml'


def load(name):
    with open(os.path.join(TYPES_DIR, name)) as handle:
        return yaml.safe_load(handle)


def render(definition, inputs, files_dir='/runner/env'):
    """What AWX does: unset booleans are false, other unset fields are undefined (render empty).

    Returns (env, files): the injected environment variables, and file injector contents by
    `template.<name>` key; AWX writes each file into files_dir and names it in `tower.filename.<name>`.
    """
    env = ImmutableSandboxedEnvironment()
    namespace = {}
    for field in definition['inputs']['fields']:
        if field['id'] in inputs:
            namespace[field['id']] = inputs[field['id']]
        elif field['type'] == 'boolean':
            namespace[field['id']] = False
    files = dict((key, env.from_string(template).render(**namespace))
                 for key, template in definition['injectors'].get('file', {}).items())
    namespace['tower'] = {'filename': dict((key.split('.', 1)[1], os.path.join(files_dir, key)) for key in files)}
    envs = dict((key, env.from_string(template).render(**namespace))
                for key, template in definition['injectors']['env'].items())
    return envs, files
