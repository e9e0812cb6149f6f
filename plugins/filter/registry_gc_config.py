# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: registry_gc_config
short_description: Read what garbage collection needs from a distribution registry's config.yml
version_added: 0.2.0
description:
  - Parses the text of a CNCF distribution registry configuration (C(docker-registry) / C(registry)) and returns
    the filesystem storage root, whether the registry is already read-only, whether deletes are enabled, and
    where it listens.
  - Fails with one line when the configuration is not YAML or uses another storage driver than C(filesystem).
  - Used by the P(oci.registry.registry_gc#role) role.
author:
  - oci.registry contributors
options:
  _input:
    description: The configuration file's text (for example C(slurp) content, base64-decoded).
    type: string
    required: true
'''

EXAMPLES = r'''
---
- name: Read the registry configuration
  ansible.builtin.slurp:
    src: /etc/docker/registry/config.yml
  register: config

- name: Where the storage is
  ansible.builtin.debug:
    msg: "{{ (config.content | b64decode | oci.registry.registry_gc_config).storage_root }}"
'''

RETURN = r'''
_value:
  description: C(storage_root) (default V(/var/lib/registry)), C(readonly), C(delete_enabled) and C(listen)
    (C({host, port, tls}); V(null) for a unix socket; an empty host or C(0.0.0.0) becomes V(127.0.0.1)).
  type: dict
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.oci.registry.plugins.module_utils._registry_gc import RegistryGcError, config_facts


def registry_gc_config(text):
    try:
        return config_facts(to_text(text))
    except RegistryGcError as err:
        raise AnsibleFilterError('registry_gc_config: %s' % to_native(err))


class FilterModule(object):

    def filters(self):
        return {
            'registry_gc_config': registry_gc_config,
        }
