# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""A registry client created on first use."""

from __future__ import annotations


class LazyClient(object):
    """Stands in for a client and builds it (``factory()``) on first attribute access.

    A task that finds nothing to do (a downloaded file that already has the digest) then
    sends no request at all, not even the ping a client makes when it is created.
    """

    def __init__(self, factory):
        self._factory = factory
        self._client = None

    def __getattr__(self, name):
        if self._client is None:
            self._client = self._factory()
        return getattr(self._client, name)
