# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""The one paginator of registry listings (catalog, tags, Docker Hub tags), and the page reader.

``iterate_pages`` walks any listing given a page fetcher: the catalog and tags groups use it
through ``Listing``, the Docker Hub group with its own fetcher; services take names from those
listings with ``_service.collect_names``. Registries differ: most send a ``Link`` header, some only honour ``n``/``last``, some
ignore both; the rules for each live here only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import parse_qs, urljoin, urlsplit
except ImportError:  # pragma: no cover
    from urlparse import parse_qs, urljoin, urlsplit  # type: ignore

from ansible_collections.oci.registry.plugins.module_utils._errors import ProtocolError
from ansible_collections.oci.registry.plugins.module_utils._transport import origin

# A registry linking page after page without end would otherwise hold a task forever.
MAX_PAGES = 100000

_LINK_PART_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def parse_link_next(header, base_url):
    """The absolute URL of rel=next in a Link header (quoted or unquoted rel), or None."""
    if not header:
        return None
    for match in _LINK_PART_RE.finditer(header):
        target, params = match.group(1), match.group(2)
        for param in params.split(";"):
            key, _sep, value = param.strip().partition("=")
            if key.strip().lower() == "rel" and "next" in value.strip().strip('"').lower().split():
                return urljoin(base_url, target.strip())
    return None


def query_value(url, name):
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


def iterate_pages(fetch, page_size=None, last=None, registry=None, action=None, key=None):
    """Yield every entry of a paginated listing once, in the registry's order: the one paginator.

    ``fetch(n, last, next_url)`` returns ``(entries, next_url, next_last)`` for one page: the page
    at ``next_url`` when given, else the page of ``n`` entries after ``last``. The next page is
    the ``Link`` URL when the registry sends one, else ``next_last``; with neither, a full
    page (exactly ``page_size`` entries) may still be followed by more, so the next page is
    asked for after its last name. A registry that ignores ``last`` (distribution 2.x for
    tags) or repeats itself ends the listing instead of looping. Entries are names, or records
    whose name ``key(entry)`` gives (Docker Hub's tag objects).
    """
    name_of = key or (lambda entry: entry)
    next_url = None
    cursor = last
    seen = set()
    yielded = set()
    linked = False
    for page_number in range(MAX_PAGES):
        items, link_url, link_last = fetch(page_size, cursor, next_url)
        items = list(items or [])
        names = [name_of(item) for item in items]
        full_page = bool(page_size) and len(items) == page_size
        if page_number == 0 and last is not None and last in names:
            # The registry ignored `last` and sent the list from the start: skip up to it.
            skip = names.index(last) + 1
            items, names = items[skip:], names[skip:]
        fresh = 0
        for item, name in zip(items, names):
            if name not in yielded:
                yielded.add(name)
                fresh += 1
                yield item
        if link_url or link_last:
            link_key = link_url or ("last", link_last)
            if link_key in seen or (not link_url and link_last == cursor):
                return  # a registry pointing back to a page it already served
            seen.add(link_key)
            linked = True
            next_url, cursor = link_url, link_last
            continue
        # A registry that links its pages says so on the last one by not linking.
        if not linked and full_page and fresh and fresh == len(items) and names[-1] != cursor:
            next_url, cursor = None, names[-1]
            continue
        return
    raise ProtocolError("more than %d pages" % MAX_PAGES, registry=registry, action=action)


class Listing(object):
    """One paginated listing of a registry (``/v2/_catalog`` or ``/v2/<name>/tags/list``).

    ``page(n, last)`` reads one page, ``iterate(page_size, last)`` every name through
    ``iterate_pages``. A Link to another origin is not followed: it would carry our token there.
    """

    def __init__(self, endpoint, path, key, scopes, action, repository=None):
        self.endpoint = endpoint
        self.path = path
        self.key = key
        self.scopes = scopes
        self.action = action
        self.repository = repository

    def _fail(self, message):
        return ProtocolError(message, registry=self.endpoint.registry, repository=self.repository,
                             action=self.action)

    def read(self, path_or_url, params=None):
        """``(data, names, next_url, next_last)`` of the page at ``path_or_url``."""
        response = self.endpoint.request("GET", path_or_url, scopes=self.scopes, params=params,
                                         repository=self.repository, action=self.action)
        try:
            data = response.json()
        except ValueError:
            raise self._fail("answer is not JSON")
        finally:
            response.close()
        if not isinstance(data, dict):
            raise self._fail("answer is not a JSON object")
        items = data.get(self.key) or []
        next_url = parse_link_next(response.headers.get("Link"), response.url)
        if next_url is not None and origin(next_url) != origin(self.endpoint.registry_url):
            next_url = None
        next_last = query_value(next_url, "last") if next_url else None
        return data, list(items), next_url, next_last

    def page(self, n=None, last=None):
        params = {}
        if n:
            params["n"] = int(n)
        if last:
            params["last"] = str(last)
        return self.read(self.path, params or None)

    def iterate(self, page_size=None, last=None):
        def fetch(n, cursor, next_url):
            if next_url is not None:
                _data, items, link_url, link_last = self.read(next_url)
            else:
                _data, items, link_url, link_last = self.page(n, cursor)
            return items, link_url, link_last

        return iterate_pages(fetch, page_size, last, registry=self.endpoint.registry, action=self.action)


__all__ = ["Listing", "MAX_PAGES", "iterate_pages", "parse_link_next", "query_value"]
