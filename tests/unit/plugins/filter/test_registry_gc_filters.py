# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry_gc filters turn the owner's errors (_registry_gc) into one-line filter errors."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.registry_gc_config import registry_gc_config
from ansible_collections.oci.registry.plugins.filter.registry_gc_readonly_config import registry_gc_readonly_config


def test_filters_turn_errors_into_one_line_filter_errors():
    with pytest.raises(AnsibleFilterError, match=r"^registry_gc_config: registry_gc supports the filesystem"):
        registry_gc_config("storage: {inmemory: {}}\n")
    with pytest.raises(AnsibleFilterError, match=r"^registry_gc_readonly_config: the registry configuration is not"):
        registry_gc_readonly_config("- a\n")
