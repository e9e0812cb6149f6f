import pytest
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import TLSError


def test_https_to_plain_registry_says_use_http(registries):
    plain = registries["registries"]["plain"]["host"]
    client = RegistryClient("https://" + plain, retries=0, timeout=10)
    with pytest.raises(TLSError) as caught:
        client.system.ping()
    text = str(caught.value)
    assert "http://" in caught.value.hint and "plain HTTP" in text
    assert "SSLError(" not in text and "\n" not in text


def test_unknown_ca_keeps_the_ca_hint(registries):
    client = RegistryClient(registries["registries"]["tls"]["url"], retries=0, timeout=10)
    with pytest.raises(TLSError) as caught:
        client.system.ping()
    assert "certificate verify failed" in str(caught.value)
    assert "ca_path" in caught.value.hint
