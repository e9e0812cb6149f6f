# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Tags API group: ``/v2/<name>/tags/list``, and tags grouped by the manifest they point at."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.oci.registry.plugins.module_utils._endpoint import ApiGroup, pull_scopes
from ansible_collections.oci.registry.plugins.module_utils._media import group_tags_by_digest
from ansible_collections.oci.registry.plugins.module_utils._pagination import Listing
from ansible_collections.oci.registry.plugins.module_utils._reference import validate_repository

DEFAULT_CONCURRENCY = 8

TagPage = namedtuple("TagPage", ["name", "tags", "next_last", "next_url"])


class TagsApi(ApiGroup):
    """``manifests`` (the manifests group, given by the client) answers the HEAD per tag of
    ``list_tags_by_digests``."""

    def __init__(self, endpoint, manifests):
        super(TagsApi, self).__init__(endpoint)
        self._manifests = manifests

    def _listing(self, repository):
        validate_repository(repository)
        return Listing(self.endpoint, "/v2/%s/tags/list" % repository, "tags", pull_scopes(repository), "list tags",
                       repository)

    def list_tags(self, repository, n=None, last=None):
        data, items, next_url, next_last = self._listing(repository).page(n, last)
        return TagPage(data.get("name") or repository, items, next_last, next_url)

    def iter_tags(self, repository, page_size=None, last=None):
        return self._listing(repository).iterate(page_size, last)

    def list_tags_by_digests(self, repository, concurrency=DEFAULT_CONCURRENCY, page_size=None):
        """Tags grouped by the manifest they point at: one HEAD per tag, at most ``concurrency`` at once."""
        tags = list(self.iter_tags(repository, page_size=page_size))
        if not tags:
            return []
        manifests = self._manifests
        heads = self.endpoint.workers.map(lambda tag: (tag, manifests.head_manifest(repository, tag)), tags,
                                          concurrency=max(1, int(concurrency or 1)))
        return group_tags_by_digest(heads)  # a tag deleted between listing and HEAD has None


__all__ = ["DEFAULT_CONCURRENCY", "TagPage", "TagsApi"]
