# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""RegistryClient: the Docker Registry HTTP API v2 / OCI Distribution API, grouped like the seed library.

Usable without Ansible::

    with RegistryClient("http://127.0.0.1:5000") as client:
        client.manifests.get_digest("team/app", "1.0")

The client owns the connection (transport, authenticator, the one request path in
``_endpoint.py``) and composes the API groups (``_api_*.py``). A group never reaches another
through the client: the few that build on another get it passed in here, so this constructor is
the whole dependency graph of the groups.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.oci.registry.plugins.module_utils._api_blobs import BlobStream, BlobsApi
from ansible_collections.oci.registry.plugins.module_utils._api_catalog import CatalogApi, CatalogPage
from ansible_collections.oci.registry.plugins.module_utils._api_hub import HubApi
from ansible_collections.oci.registry.plugins.module_utils._api_manifests import ManifestResult, ManifestsApi, PutResult
from ansible_collections.oci.registry.plugins.module_utils._api_referrers import ReferrersApi, ReferrersResult
from ansible_collections.oci.registry.plugins.module_utils._api_system import SystemApi
from ansible_collections.oci.registry.plugins.module_utils._api_tags import TagPage, TagsApi
from ansible_collections.oci.registry.plugins.module_utils._api_uploads import UploadSession, UploadsApi, parse_range_end
from ansible_collections.oci.registry.plugins.module_utils._auth import (
    AuthenticatedTransport,
    Authenticator,
    load_credentials,
)
from ansible_collections.oci.registry.plugins.module_utils._blob_writer import BlobWriter, UploadResult
from ansible_collections.oci.registry.plugins.module_utils._endpoint import Endpoint
from ansible_collections.oci.registry.plugins.module_utils._options import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    check_number,
)
from ansible_collections.oci.registry.plugins.module_utils._pagination import iterate_pages, parse_link_next
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    normalize_registry_url,
    split_registry_url,
)
from ansible_collections.oci.registry.plugins.module_utils._transport import Transport
from ansible_collections.oci.registry.plugins.module_utils._workers import DEFAULT_POOL_SIZE, WorkerPool


class RegistryClient(object):
    """One registry, one set of credentials, one connection pool."""

    def __init__(self, registry_url, username=None, password=None, bearer_token=None, auth_type="auto",
                 validate_certs=True, ca_path=None, client_cert=None, client_key=None, timeout=DEFAULT_TIMEOUT,
                 retries=DEFAULT_RETRIES, auth_file=None, trace=False, user_agent=None, **transport_options):
        self.registry_url = normalize_registry_url(registry_url)
        self.scheme, self.registry = split_registry_url(self.registry_url)
        timeout = check_number("timeout", DEFAULT_TIMEOUT if timeout is None else timeout)
        retries = check_number("retries", DEFAULT_RETRIES if retries is None else retries)
        identity_token = None
        self.credentials_source = "parameters" if (username or password or bearer_token) else None
        if not (username or password or bearer_token) and auth_type not in ("anonymous", "none"):
            creds = load_credentials(self.registry, auth_file=auth_file, timeout=timeout)
            if creds is not None:
                username, password, identity_token = creds.username, creds.password, creds.identity_token
                self.credentials_source = creds.source
        http = Transport(validate_certs=validate_certs, ca_path=ca_path, client_cert=client_cert,
                         client_key=client_key, timeout=timeout, retries=retries, user_agent=user_agent,
                         trace=trace, **transport_options)
        self.auth = Authenticator(self.registry_url, username=username, password=password,
                                  bearer_token=bearer_token, auth_type=auth_type, identity_token=identity_token,
                                  transport=http)
        self.transport = AuthenticatedTransport(http, self.auth)
        self.username = username
        # As many threads as connections: more requests in flight would only open and drop connections.
        self.workers = WorkerPool(transport_options.get("pool_size", DEFAULT_POOL_SIZE))
        self.endpoint = endpoint = Endpoint(self.registry_url, self.registry, self.transport, self.auth,
                                            self.workers)
        self.system = SystemApi(endpoint)
        self.catalog = CatalogApi(endpoint)
        self.blobs = BlobsApi(endpoint)
        self.uploads = UploadsApi(endpoint, self.blobs, writer=self._blob_writer)
        self.manifests = ManifestsApi(endpoint, self.blobs, self.uploads)
        self.tags = TagsApi(endpoint, self.manifests)
        self.referrers = ReferrersApi(endpoint, self.manifests)
        self.hub = HubApi(endpoint)

    def _blob_writer(self, chunk_size=None):
        return BlobWriter(self, chunk_size)

    # ----------------------------------------------------------------- lifecycle

    def close(self):
        self.workers.close()
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return "RegistryClient(%r, username=%r, auth_type=%r)" % (
            self.registry_url, self.username, self.auth.auth_type)

    @property
    def trace_records(self):
        return list(self.transport.trace.records)

    @property
    def request_count(self):
        return self.transport.trace.count

    @property
    def token_requests(self):
        return self.auth.token_requests

    # ----------------------------------------------------------------- the endpoint's request path

    def url(self, path):
        return self.endpoint.url(path)

    def request(self, method, path_or_url, scopes=None, expected=(200,), repository=None, reference=None,
                action=None, hint=None, **kwargs):
        """Send and return the response when its status is expected, else raise the typed error."""
        return self.endpoint.request(method, path_or_url, scopes=scopes, expected=expected, repository=repository,
                                     reference=reference, action=action, hint=hint, **kwargs)

    def error(self, response, repository=None, reference=None, action=None, hint=None):
        """The typed error of a failed response: the one status-to-error path of the client."""
        return self.endpoint.error(response, repository=repository, reference=reference, action=action, hint=hint)


# Re-exported: callers import these from here since before the split.
__all__ = [
    "BlobStream", "CatalogPage", "iterate_pages", "ManifestResult", "PutResult", "ReferrersResult", "RegistryClient",
    "TagPage", "UploadResult", "UploadSession", "parse_link_next", "parse_range_end",
]
