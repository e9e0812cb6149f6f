# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""The one request path of the API groups: send, then turn an unexpected status into its typed error.

Every registry request of the client goes through ``Endpoint.request``; only the transport and
the authenticator (token requests) talk to the network otherwise. Keeping the status-to-error
mapping here is what lets a hint (deletes disabled, missing credentials) be attached once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.oci.registry.plugins.module_utils._auth import repository_scope
from ansible_collections.oci.registry.plugins.module_utils._errors import UnsupportedError, error_from_response
from ansible_collections.oci.registry.plugins.module_utils._workers import WorkerPool

DELETE_HINT = ("deletes are disabled on this registry; for the distribution registry set "
               "REGISTRY_STORAGE_DELETE_ENABLED=true (storage.delete.enabled: true)")


class _AnyStatus(object):
    """``expected`` for callers that read the status themselves (``status in ANY_STATUS`` is always true)."""

    def __contains__(self, status):
        return True

    def __repr__(self):
        return "ANY_STATUS"


ANY_STATUS = _AnyStatus()


def pull_scopes(repository):
    return [repository_scope(repository, "pull")]


def push_scopes(repository):
    return [repository_scope(repository, "pull", "push")]


def delete_scopes(repository):
    return [repository_scope(repository, "delete")]


def int_header(headers, name):
    """An integer header (Content-Length, OCI-Chunk-Min-Length), or None when absent or not a number."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except (TypeError, ValueError):
        return None


class Endpoint(object):
    """One registry as the API groups see it: its URL, the authenticated transport, one request path,
    and the client's worker threads (``workers.map``) for requests sent concurrently."""

    def __init__(self, registry_url, registry, transport, auth, workers=None):
        self.registry_url = registry_url
        self.registry = registry
        self.transport = transport
        self.auth = auth
        self.workers = workers if workers is not None else WorkerPool()

    # The groups' retry waits follow the transport's policy, so every wait in a run is tuned in one place.
    @property
    def retries(self):
        return self.transport.retries

    def sleep(self, seconds):
        self.transport.sleep(seconds)

    def backoff(self, attempt):
        return self.transport.backoff(attempt)

    def url(self, path):
        return self.registry_url + path

    def request(self, method, path_or_url, scopes=None, expected=(200,), repository=None, reference=None,
                action=None, hint=None, **kwargs):
        """Send and return the response when its status is in ``expected``, else raise the typed error.

        ``path_or_url``: a path below the registry URL, or an absolute URL (upload locations, Link
        targets, Docker Hub). ``expected=ANY_STATUS`` returns every response; the caller then
        passes the ones it cannot use to ``error``. Other keywords go to the transport.
        """
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        response = self.transport.request(method, url, scopes=scopes, **kwargs)
        if response.status_code in expected:
            return response
        raise self.error(response, repository=repository, reference=reference, action=action, hint=hint)

    def error(self, response, repository=None, reference=None, action=None, hint=None):
        """The typed error of a failed response (closes it): the one status-to-error mapping."""
        try:
            err = error_from_response(response, registry=self.registry, repository=repository,
                                      reference=reference, action=action, hint=hint)
        finally:
            response.close()
        if response.status_code == 401:
            return self.auth.explain_unauthorized(err, response, repository=repository, reference=reference,
                                                  action=action, hint=hint)
        request = getattr(response, "request", None)
        if isinstance(err, UnsupportedError) and hint is None and getattr(request, "method", None) == "DELETE":
            err.hint = DELETE_HINT
        return err


class ApiGroup(object):
    """Base of the API groups: each holds the endpoint, never the client, so no group reaches another
    through it; a group that builds on another gets it passed in when the client composes them."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    @property
    def registry(self):
        return self.endpoint.registry


__all__ = ["ANY_STATUS", "ApiGroup", "DELETE_HINT", "Endpoint", "delete_scopes", "int_header", "pull_scopes",
           "push_scopes"]
