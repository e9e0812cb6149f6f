"""One paginator: the catalog module and the client walk pages the same way, also without Link headers.

A registry that sends no Link header is the real distribution registry behind the fault proxy
with ``strip_headers = {"link"}``.
"""

from __future__ import annotations

import pytest

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.modules import registry_catalog_info
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run


@pytest.fixture
def seeded(registries, unique_repo):
    prefix = unique_repo.replace("test/", "sec-pages/") + "-"
    return [image.repository for image in images.seed_many_repositories(registries, "plain", 5, prefix=prefix)]


@pytest.fixture
def no_links(registries):
    with FaultProxy(registries["registries"]["plain"]["url"]) as proxy:
        proxy.strip_headers = {"link"}
        yield proxy


def test_catalog_module_reads_every_page_without_link_headers(seeded, no_links, capsys):
    direct = run(registry_catalog_info, capsys, registry_url=no_links.url, page_size=2)
    assert not direct.get("failed"), direct
    assert set(seeded) <= set(direct["repositories"])
    assert direct["next_last"] is None
    assert len(direct["repositories"]) > 2
    # The proxy really stripped the links: the client's iterator agrees page for page.
    client = RegistryClient(no_links.url)
    assert client.catalog.get_catalog(n=2).next_url is None
    # Other tests add repositories meanwhile: compare the ones this test owns.
    mine = [name for name in client.catalog.iter_catalog(page_size=2) if name in seeded]
    assert mine == [name for name in direct["repositories"] if name in seeded] == seeded


def test_catalog_module_limit_continues_without_link_headers(seeded, no_links, capsys):
    pattern = "^%s" % seeded[0].rsplit("-", 1)[0]
    first = run(registry_catalog_info, capsys, registry_url=no_links.url, page_size=2, limit=3, pattern=pattern)
    assert first["repositories"] == seeded[:3] and first["next_last"] == seeded[2]
    rest = run(registry_catalog_info, capsys, registry_url=no_links.url, page_size=2, last=first["next_last"],
               pattern=pattern)
    assert rest["repositories"] == seeded[3:] and rest["next_last"] is None


def test_catalog_module_and_client_agree_with_link_headers(seeded, registries, capsys):
    url = registries["registries"]["plain"]["url"]
    result = run(registry_catalog_info, capsys, registry_url=url, page_size=2)
    mine = [name for name in RegistryClient(url).catalog.iter_catalog(page_size=2) if name in seeded]
    assert mine == [name for name in result["repositories"] if name in seeded] == seeded
    assert set(seeded) <= set(result["repositories"]) and result["next_last"] is None


def test_catalog_module_refuses_page_size_zero(capsys):
    result = run(registry_catalog_info, capsys, registry_url="http://127.0.0.1:9", page_size=0)
    assert result["failed"] is True and "page_size is 0" in result["msg"]
