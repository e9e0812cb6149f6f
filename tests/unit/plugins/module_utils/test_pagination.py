"""The one paginator (_pagination.py) against the real distribution registry, with and without Link headers.

A registry that links no page is the real registry behind the fault proxy stripping ``Link``:
with ``page_size`` the paginator continues with ``last=<last name of the page>`` and reads every
name once, in the registry's order. The services take names from the client's listings with
``collect_names``, so the catalog module, the client and a hand-made fetcher agree.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._pagination import Listing, iterate_pages
from ansible_collections.oci.registry.plugins.module_utils._service import collect_names
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy

PAGE = 2


@pytest.fixture
def seeded(registries, unique_repo):
    prefix = unique_repo.replace("test/", "hcs/pages-") + "-"
    return [image.repository for image in images.seed_many_repositories(registries, "plain", 5, prefix=prefix)]


@pytest.fixture
def no_links(registries):
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        proxy.strip_headers = {"link"}
        yield proxy


def _catalog_queries(proxy):
    return [parse_qs(urlsplit(path).query) for method, path, _action in proxy.requests
            if method == "GET" and urlsplit(path).path == "/v2/_catalog"]


def _mine(names, seeded):
    return [name for name in names if name in seeded]


def test_without_link_the_catalog_continues_with_last(seeded, no_links, registries):
    linked = RegistryClient(registries["registries"]["plain"]["url"])
    unlinked = RegistryClient(no_links.url)
    page = unlinked.catalog.get_catalog(n=PAGE)
    assert page.next_url is None and page.next_last is None  # the proxy really strips the links
    assert linked.catalog.get_catalog(n=PAGE).next_last is not None

    names = list(unlinked.catalog.iter_catalog(page_size=PAGE))
    assert len(names) == len(set(names))
    assert _mine(names, seeded) == seeded == _mine(linked.catalog.iter_catalog(page_size=PAGE), seeded)
    queries = _catalog_queries(no_links)[1:]  # after the get_catalog above
    assert len(queries) >= 3
    assert all(query["n"] == [str(PAGE)] for query in queries)
    # Each page after the first asks for the names after the previous page's last one.
    assert "last" not in queries[0] and all("last" in query for query in queries[1:])
    continued = [query["last"][0] for query in queries[1:]]
    assert continued == sorted(set(continued), key=lambda name: name.split("/"))


def test_without_link_iteration_starts_after_last(seeded, no_links):
    client = RegistryClient(no_links.url)
    assert _mine(client.catalog.iter_catalog(page_size=PAGE, last=seeded[1]), seeded) == seeded[2:]


def test_services_and_listing_walk_the_same_pages(seeded, no_links):
    client = RegistryClient(no_links.url)
    listing = Listing(client.endpoint, "/v2/_catalog", "repositories", None, "list catalog")
    pattern = re.compile("^%s" % re.escape(seeded[0].rsplit("-", 1)[0]))

    names, next_last = collect_names(client.catalog.iter_catalog(page_size=PAGE), None, 3, pattern)
    assert names == seeded[:3] and next_last == seeded[2]
    rest, next_last = collect_names(client.catalog.iter_catalog(page_size=PAGE, last=seeded[2]), seeded[2], None,
                                    pattern)
    assert rest == seeded[3:] and next_last is None
    assert _mine(listing.iterate(PAGE), seeded) == seeded


def test_tags_of_a_registry_ignoring_n_are_read_once(registries, no_links, unique_repo):
    # distribution 2.8 answers tags/list whole whatever n says: one request, each tag once.
    repository = unique_repo.replace("test/", "hcs/")
    images.seed_many_tags(registries, "plain", repository, count=5)
    client = RegistryClient(no_links.url)
    before = client.request_count
    tags = list(client.tags.iter_tags(repository, page_size=PAGE))
    assert sorted(tags) == ["tag-%04d" % number for number in range(5)]
    assert client.request_count - before == 1


def test_paginator_follows_link_before_last_and_stops_on_a_repeat():
    calls = []
    pages = {
        (None, None): (["a", "b"], "https://r/v2/_catalog?n=2&last=b", "b"),
        ("https://r/v2/_catalog?n=2&last=b", "b"): (["c", "d"], None, None),
        (None, "d"): (["d", "e"], None, None),  # never asked: a linked listing ends where links end
    }

    def fetch(n, last, next_url):
        calls.append((n, last, next_url))
        return pages[(next_url, last)]

    assert list(iterate_pages(fetch, page_size=2)) == ["a", "b", "c", "d"]
    assert calls == [(2, None, None), (2, "b", "https://r/v2/_catalog?n=2&last=b")]

    def repeating(n, last, next_url):
        return ["x", "y"], "https://r/v2/_catalog?last=y", "y"

    assert list(iterate_pages(repeating, page_size=2)) == ["x", "y"]
