# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one public, stable entry point for using the registry client from plain Python.

DESIGN.md promises ``from ...module_utils.client import RegistryClient``; everything else in
module_utils is private (files named ``_*.py``). This file only re-exports: the client and the
errors a caller catches. No behaviour lives here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    DigestMismatchError,
    InvalidReferenceError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RegistryError,
    TLSError,
    TransportError,
    UnsupportedError,
)

__all__ = [
    "AuthenticationError",
    "DigestMismatchError",
    "InvalidReferenceError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RegistryClient",
    "RegistryError",
    "TLSError",
    "TransportError",
    "UnsupportedError",
]
