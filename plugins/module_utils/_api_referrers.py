# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Referrers API group: manifests whose subject is a digest (referrers API, else the tag schema)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.oci.registry.plugins.module_utils._endpoint import ANY_STATUS, ApiGroup, pull_scopes
from ansible_collections.oci.registry.plugins.module_utils._errors import NotFoundError
from ansible_collections.oci.registry.plugins.module_utils._media import OCI_INDEX, Descriptor
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    fallback_tag,
    validate_digest,
    validate_repository,
)

ReferrersResult = namedtuple("ReferrersResult", ["descriptors", "via"])


class ReferrersApi(ApiGroup):
    """``manifests`` (given by the client) reads the ``sha256-<hex>`` tag of registries without the API."""

    def __init__(self, endpoint, manifests):
        super(ReferrersApi, self).__init__(endpoint)
        self._manifests = manifests

    def list_referrers(self, repository, digest, artifact_type=None, known_tags=None):
        """Manifests whose subject is ``digest``: referrers API, else the ``sha256-<hex>`` tag.

        ``known_tags``: the repository's whole tag list, when the caller has just read it; the fallback
        tag is then read only when it is listed (one request less per digest on registries without the API).
        """
        validate_repository(repository)
        validate_digest(digest)
        params = {"artifactType": artifact_type} if artifact_type else None
        response = self.endpoint.request("GET", "/v2/%s/referrers/%s" % (repository, digest),
                                         scopes=pull_scopes(repository), params=params,
                                         headers={"Accept": OCI_INDEX}, expected=ANY_STATUS)
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError:
                data = None
            finally:
                response.close()
            if isinstance(data, dict) and isinstance(data.get("manifests"), list):
                descriptors = [Descriptor.from_dict(m) for m in data["manifests"]]
                filtered = "artifactType" in (response.headers.get("OCI-Filters-Applied") or "")
                if artifact_type and not filtered:
                    descriptors = [d for d in descriptors if d.artifact_type == artifact_type]
                return ReferrersResult(descriptors, "api")
        else:
            # The spec forbids 404 from registries that implement the API; anything
            # but auth errors means "no API here".
            if response.status_code in (401, 403):
                raise self.endpoint.error(response, repository=repository, reference=digest,
                                          action="list referrers")
            response.close()
        return self._from_tag(repository, digest, artifact_type, known_tags)

    def _from_tag(self, repository, digest, artifact_type, known_tags):
        tag = fallback_tag(digest)
        if known_tags is not None and tag not in known_tags:
            return ReferrersResult([], "none")
        try:
            result = self._manifests.get_manifest(repository, tag)
        except NotFoundError:
            return ReferrersResult([], "none")
        manifest = result.manifest
        if manifest is None or not manifest.is_index:
            return ReferrersResult([], "none")
        descriptors = list(manifest.manifests)
        if artifact_type:
            descriptors = [d for d in descriptors if d.artifact_type == artifact_type]
        return ReferrersResult(descriptors, "tag")


__all__ = ["ReferrersApi", "ReferrersResult"]
