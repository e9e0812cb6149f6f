"""reference.py: image references, registry URLs, names, digests, platforms."""

import pytest
from hypothesis import given, strategies as st

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidReferenceError
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    Platform,
    normalize_registry_url,
    parse_platform,
    parse_reference,
    validate_digest,
    validate_repository,
    validate_tag,
)

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("text, expected", [
    ("ubuntu", ("registry-1.docker.io", "https", "library/ubuntu", None, None)),
    ("ubuntu:22.04", ("registry-1.docker.io", "https", "library/ubuntu", "22.04", None)),
    ("docker.io/bitnami/nginx:1", ("registry-1.docker.io", "https", "bitnami/nginx", "1", None)),
    ("index.docker.io/alpine", ("registry-1.docker.io", "https", "library/alpine", None, None)),
    ("localhost/app", ("localhost", "https", "app", None, None)),
    ("127.0.0.1:5000/team/app:1.0", ("127.0.0.1:5000", "https", "team/app", "1.0", None)),
    ("http://127.0.0.1:5000/team/app:1.0", ("127.0.0.1:5000", "http", "team/app", "1.0", None)),
    ("quay.io/org/app@" + DIGEST, ("quay.io", "https", "org/app", None, DIGEST)),
    ("quay.io/org/app:v1@" + DIGEST, ("quay.io", "https", "org/app", "v1", DIGEST)),
    ("ghcr.io/a/b/c/d:latest", ("ghcr.io", "https", "a/b/c/d", "latest", None)),
])
def test_parse_reference(text, expected):
    ref = parse_reference(text)
    assert (ref.registry, ref.scheme, ref.repository, ref.tag, ref.digest) == expected


def test_reference_properties_and_str():
    ref = parse_reference("http://127.0.0.1:5000/team/app:1.0@" + DIGEST)
    assert ref.registry_url == "http://127.0.0.1:5000"
    assert ref.reference == DIGEST
    assert str(ref) == "127.0.0.1:5000/team/app:1.0@" + DIGEST
    assert parse_reference("127.0.0.1:5000/team/app:1.0").reference == "1.0"


def test_default_registry_and_tag():
    ref = parse_reference("team/app", default_registry="http://127.0.0.1:5000", default_tag="latest")
    assert (ref.registry, ref.scheme, ref.repository, ref.tag) == ("127.0.0.1:5000", "http", "team/app", "latest")
    assert parse_reference("team/app@" + DIGEST, default_tag="latest").tag is None


@pytest.mark.parametrize("text", ["", "UPPER/app", "host:5000/app:bad tag", "app@sha256:abc", "http://app",
                                  "a//b", "app:" + "x" * 129, "app:-dash"])
def test_parse_reference_rejects(text):
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(text)
    assert isinstance(info.value, ValueError)
    assert str(info.value)


@pytest.mark.parametrize("url, expected", [
    ("127.0.0.1:5000", "https://127.0.0.1:5000"),
    ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
    ("https://reg.example/v2/", "https://reg.example"),
    ("https://reg.example/v2", "https://reg.example"),
    ("docker.io", "https://registry-1.docker.io"),
    ("https://index.docker.io", "https://registry-1.docker.io"),
    ("HTTPS://Reg.Example:443", "https://reg.example:443"),
])
def test_normalize_registry_url(url, expected):
    assert normalize_registry_url(url) == expected


@pytest.mark.parametrize("url", ["reg.example/a\nb", "reg.example:5000/x\r\nHost: evil", "a/b c", "reg.example/\x00"])
def test_normalize_registry_url_rejects_whitespace_and_control_characters(url):
    with pytest.raises(InvalidReferenceError, match="whitespace or control"):
        normalize_registry_url(url)


def test_normalize_registry_url_is_idempotent_with_repeated_v2():
    once = normalize_registry_url("https://reg.example/mirror/v2/v2/")
    assert once == "https://reg.example/mirror" and normalize_registry_url(once) == once


def test_normalize_registry_url_rejects_other_schemes():
    with pytest.raises(InvalidReferenceError, match="scheme"):
        normalize_registry_url("ftp://reg.example")


def test_validate_names_name_the_rule():
    with pytest.raises(InvalidReferenceError, match="lowercase"):
        validate_repository("Team/App")
    with pytest.raises(InvalidReferenceError, match="empty"):
        validate_repository("team//app")
    with pytest.raises(InvalidReferenceError, match="128"):
        validate_tag("x" * 129)
    with pytest.raises(InvalidReferenceError, match="64 lowercase hex"):
        validate_digest("sha256:" + "A" * 64)
    with pytest.raises(InvalidReferenceError, match="128 lowercase hex"):
        validate_digest("sha512:" + "a" * 64)
    assert validate_digest("sha512:" + "b" * 128).startswith("sha512:")
    assert validate_repository("a__b/c-d.e/f--g") == "a__b/c-d.e/f--g"


@given(st.from_regex(r"\A[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}(?:/[a-z0-9]{1,8}){0,2}\Z"),
       st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9._-]{0,20}\Z"))
def test_parse_reference_roundtrip(repository, tag):
    text = "reg.example:5000/%s:%s" % (repository, tag)
    ref = parse_reference(text)
    assert str(ref) == text
    assert parse_reference(str(ref)) == ref


def test_platform_matching():
    assert parse_platform("linux/arm64").matches(Platform("linux", "arm64", "v8"))
    assert parse_platform("linux/arm64/v8").matches(Platform("linux", "arm64"))
    assert parse_platform("linux/arm").matches(Platform("linux", "arm", "v7"))
    assert not parse_platform("linux/arm/v6").matches(Platform("linux", "arm", "v7"))
    assert not parse_platform("linux/amd64").matches(Platform("windows", "amd64"))
    assert parse_platform("linux/x86_64").matches(Platform("linux", "amd64"))
    assert str(parse_platform("linux/arm64/v8")) == "linux/arm64/v8"
    assert parse_platform({"os": "linux", "architecture": "amd64"}) == Platform("linux", "amd64")
    with pytest.raises(InvalidReferenceError):
        parse_platform("linux")
