# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Catalog API group: ``/v2/_catalog``, one page or every repository name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.oci.registry.plugins.module_utils._auth import CATALOG_SCOPE
from ansible_collections.oci.registry.plugins.module_utils._endpoint import ApiGroup
from ansible_collections.oci.registry.plugins.module_utils._pagination import Listing

CatalogPage = namedtuple("CatalogPage", ["repositories", "next_last", "next_url"])


class CatalogApi(ApiGroup):
    def _listing(self):
        return Listing(self.endpoint, "/v2/_catalog", "repositories", [CATALOG_SCOPE], "list catalog")

    def get_catalog(self, n=None, last=None):
        _data, items, next_url, next_last = self._listing().page(n, last)
        return CatalogPage(items, next_last, next_url)

    def iter_catalog(self, page_size=None, last=None):
        return self._listing().iterate(page_size, last)


__all__ = ["CatalogApi", "CatalogPage"]
