# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Docker Hub API group: Docker Hub's own web API (hub.docker.com), not the registry API.

The password reaches Docker Hub's login only through ``Authenticator.login_credentials()``,
which applies the same rule as every other credential use (none for anonymous access).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading

try:
    from urllib.parse import urljoin
except ImportError:  # pragma: no cover
    from urlparse import urljoin  # type: ignore

from ansible_collections.oci.registry.plugins.module_utils._endpoint import ApiGroup
from ansible_collections.oci.registry.plugins.module_utils._errors import ProtocolError
from ansible_collections.oci.registry.plugins.module_utils._pagination import iterate_pages
from ansible_collections.oci.registry.plugins.module_utils._reference import DOCKER_HUB_REGISTRY, validate_repository
from ansible_collections.oci.registry.plugins.module_utils._transport import origin

HUB_API_URL = "https://hub.docker.com"


class HubApi(ApiGroup):
    """Docker Hub's own API (hub.docker.com), not the registry API."""

    def __init__(self, endpoint):
        super(HubApi, self).__init__(endpoint)
        self._token = None
        self._lock = threading.Lock()

    @property
    def base_url(self):
        if self.endpoint.registry == DOCKER_HUB_REGISTRY:
            return HUB_API_URL
        return self.endpoint.registry_url

    def _headers(self, url):
        login = self.endpoint.auth.login_credentials()
        if login is None or origin(url) != origin(self.base_url):
            return {}
        with self._lock:
            if self._token is None:
                response = self.endpoint.request(
                    "POST", self.base_url + "/v2/users/login", authenticate=False,
                    headers={"Content-Type": "application/json"},
                    data=json.dumps({"username": login[0], "password": login[1]}), trace_name="hub-login",
                    action="log in to Docker Hub")
                try:
                    self._token = response.json().get("token")
                except ValueError:
                    raise ProtocolError("Docker Hub login answered without JSON", action="log in to Docker Hub")
                if not self._token:
                    raise ProtocolError("Docker Hub login answered without a token", action="log in to Docker Hub")
            return {"Authorization": "Bearer " + self._token}

    def list_repository_tags(self, namespace, repository, page_size=100):
        """Every tag of ``namespace/repository`` with Docker Hub's fields (all pages, each tag once)."""
        validate_repository(namespace)
        validate_repository(repository)
        first_url = "%s/v2/namespaces/%s/repositories/%s/tags" % (self.base_url, namespace, repository)
        params = {"page_size": int(page_size)} if page_size else None
        action = "list Docker Hub tags"

        def fetch(_n, _last, next_url):
            url = next_url or first_url
            response = self.endpoint.request("GET", url, params=None if next_url else params, authenticate=False,
                                             headers=self._headers(url), trace_name="hub-tags",
                                             repository="%s/%s" % (namespace, repository), action=action)
            try:
                data = response.json()
            except ValueError:
                raise ProtocolError("Docker Hub tag list is not JSON", action=action)
            finally:
                response.close()
            if not isinstance(data, dict):
                raise ProtocolError("Docker Hub tag list is not a JSON object", action=action)
            # Docker Hub pages by position in a list ordered by update time: a tag pushed meanwhile
            # shifts the pages, so the paginator keeps the first record of each name.
            results = [entry for entry in data.get("results") or [] if isinstance(entry, dict) and entry.get("name")]
            next_link = data.get("next")
            return results, urljoin(response.url, next_link) if next_link else None, None

        return list(iterate_pages(fetch, key=lambda entry: entry["name"], registry=self.registry, action=action))


__all__ = ["HUB_API_URL", "HubApi"]
