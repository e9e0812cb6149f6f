# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: registry_gc_readonly_config
short_description: A distribution registry configuration switched to read-only
version_added: 0.2.0
description:
  - Returns the configuration text with C(storage.maintenance.readonly.enabled) set to V(true) and every other
    setting kept. The registry then answers writes (push, delete) with an error while reads keep working.
  - Comments and layout are not kept; the P(oci.registry.registry_gc#role) role writes this text only for its
    read-only window and then puts the original file back byte for byte.
author:
  - oci.registry contributors
options:
  _input:
    description: The configuration file's text.
    type: string
    required: true
'''

EXAMPLES = r'''
---
- name: Switch the registry to read-only (restart it afterwards; it reads its configuration at start)
  ansible.builtin.copy:
    content: "{{ config.content | b64decode | oci.registry.registry_gc_readonly_config }}"
    dest: /etc/docker/registry/config.yml
    mode: preserve
'''

RETURN = r'''
_value:
  description: The read-only configuration as YAML text.
  type: string
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.oci.registry.plugins.module_utils._registry_gc import RegistryGcError, readonly_config


def registry_gc_readonly_config(text):
    try:
        return readonly_config(to_text(text))
    except RegistryGcError as err:
        raise AnsibleFilterError('registry_gc_readonly_config: %s' % to_native(err))


class FilterModule(object):

    def filters(self):
        return {
            'registry_gc_readonly_config': registry_gc_readonly_config,
        }
