# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Base descriptions; combine with one check_mode and one diff_mode fragment
    # below, which only add support and details (attribute dicts are merged).
    # The action group and platform attributes are complete here, since they
    # are the same for every module of the collection.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(diff_mode)) when in diff mode.
  action_group:
    description: Use C(group/oci.registry.registry) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - oci.registry.registry
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
'''

    CHECK_MODE_FULL = r'''
options: {}
attributes:
  check_mode:
    support: full
    details:
      - Reads the registry to predict C(changed) exactly, and sends no write request.
'''

    CHECK_MODE_INFO = r'''
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
'''

    DIFF_MODE = r'''
options: {}
attributes:
  diff_mode:
    support: full
'''

    DIFF_MODE_NONE = r'''
options: {}
attributes:
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
'''

    # Kept as a separate name because the contract lists it; DOCUMENTATION
    # already contains the action_group attribute.
    ACTIONGROUP = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/oci.registry.registry) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - oci.registry.registry
'''
