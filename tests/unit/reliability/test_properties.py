# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests of every parser that reads user input or registry answers.

Arbitrary text only ever yields a value or one of our own errors (RegistryError
subclasses, InvalidReferenceError for user input) whose message is one non-empty line;
valid values round-trip."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from ansible_collections.oci.registry.plugins.module_utils._auth import parse_challenges
from ansible_collections.oci.registry.plugins.module_utils._client import parse_link_next, parse_range_end
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    InvalidReferenceError,
    RegistryError,
    error_from_response,
)
from ansible_collections.oci.registry.plugins.module_utils._media import Descriptor, parse_manifest
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    normalize_registry_url,
    parse_platform,
    parse_reference,
    validate_digest,
    validate_repository,
    validate_tag,
)
from ansible_collections.oci.registry.plugins.module_utils._transport import parse_retry_after
from ansible_collections.oci.registry.tests.unit.reliability.reliability_helpers import count_bad_inputs

EXAMPLES = 200
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    database=None)

# Text that looks like references more often than uniform unicode would.
REFERENCE_ALPHABET = st.sampled_from(list("abcxyzABZ0189/:@._-+ \t\n%[]?#=") + [
    "sha256:", "sha512:", "http://", "https://", "localhost", "docker.io", "\u00e9", "\x00", "//", "::"])
reference_like = st.lists(REFERENCE_ALPHABET, max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=300), reference_like)

component = st.from_regex(r"\A[a-z0-9]{1,6}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,6}){0,2}\Z")
repository = st.lists(component, min_size=1, max_size=4).map("/".join).filter(lambda r: len(r) <= 255)
tag = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\Z")
digest = st.binary(max_size=64).map(lambda data: "sha256:" + hashlib.sha256(data).hexdigest())
host = st.sampled_from(["127.0.0.1:5000", "registry.example.com", "localhost:5000", "quay.io", "r.example:443",
                        "[::1]:5000"])


def one_line(err):
    text = str(err)
    assert text.strip(), "empty message from %r" % type(err)
    assert "\n" not in text and "\r" not in text, text
    return text


def accepts_or_refuses(fn, value, errors=(InvalidReferenceError,)):
    count_bad_inputs()
    try:
        return fn(value)
    except errors as err:
        one_line(err)
        return None


# --------------------------------------------------------------------------- references

@PROPERTY
@given(any_text)
def test_parse_reference_value_or_invalid_reference_error(text):
    ref = accepts_or_refuses(parse_reference, text)
    if ref is not None:
        assert ref.repository and (ref.tag is None or validate_tag(ref.tag))
        assert ref.digest is None or validate_digest(ref.digest)


@PROPERTY
@given(host, repository, st.one_of(st.none(), tag), st.one_of(st.none(), digest), st.booleans())
def test_parse_reference_round_trip(registry, repo, the_tag, the_digest, plain_http):
    text = "%s%s/%s%s%s" % ("http://" if plain_http else "", registry, repo, ":" + the_tag if the_tag else "",
                            "@" + the_digest if the_digest else "")
    ref = parse_reference(text)
    assert (ref.repository, ref.tag, ref.digest) == (repo, the_tag, the_digest)
    assert ref.registry == registry
    assert ref.scheme == ("http" if plain_http else "https")
    # str() is the image name (docker style, without the transport): plain HTTP is carried by the scheme prefix.
    assert parse_reference(("http://" if plain_http else "") + str(ref)) == ref


@PROPERTY
@given(any_text)
def test_validate_tag(text):
    value = accepts_or_refuses(validate_tag, text)
    assert value is None or value == text


@PROPERTY
@given(tag)
def test_valid_tags_accepted(the_tag):
    assert validate_tag(the_tag) == the_tag


@PROPERTY
@given(st.one_of(any_text, st.from_regex(r"\A(sha256|sha512|md5):[0-9a-fA-F]{0,130}\Z")))
def test_validate_digest(text):
    value = accepts_or_refuses(validate_digest, text)
    if value is not None and value.startswith("sha256:"):
        assert len(value) == 71 and value[7:] == value[7:].lower()


@PROPERTY
@given(digest)
def test_real_digests_accepted(the_digest):
    assert validate_digest(the_digest) == the_digest


@PROPERTY
@given(any_text)
def test_validate_repository(text):
    value = accepts_or_refuses(validate_repository, text)
    assert value is None or value == text


@PROPERTY
@given(repository)
def test_valid_repositories_accepted(repo):
    assert validate_repository(repo) == repo


@PROPERTY
@given(any_text)
def test_normalize_registry_url_is_idempotent(text):
    url = accepts_or_refuses(normalize_registry_url, text)
    if url is not None:
        assert url.startswith(("http://", "https://"))
        assert not any(ch.isspace() or ord(ch) < 32 for ch in url), url
        assert normalize_registry_url(url) == url


@pytest.mark.parametrize("text", ["registry.example.com/a\nb", "r.example:5000/x\r\nHost: evil", "a/b c",
                                  "aaa/.:://docker.io[http:////-[\n0-:z"])
def test_registry_url_with_whitespace_or_control_characters_refused(text):
    count_bad_inputs()
    with pytest.raises(InvalidReferenceError) as caught:
        normalize_registry_url(text)
    one_line(caught.value)


# --------------------------------------------------------------------------- platforms

@PROPERTY
@given(st.one_of(any_text, st.dictionaries(st.sampled_from(["os", "architecture", "variant", "os.version"]),
                                           st.one_of(st.text(max_size=10), st.none(), st.integers()))))
def test_parse_platform(value):
    platform = accepts_or_refuses(parse_platform, value)
    if platform is not None and isinstance(value, str):
        assert parse_platform(str(platform)) == platform


@PROPERTY
@given(st.sampled_from(["linux", "windows", "darwin", "freebsd"]),
       st.sampled_from(["amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64"]),
       st.one_of(st.none(), st.sampled_from(["v5", "v6", "v7", "v8"])))
def test_platform_round_trip(os_name, arch, variant):
    text = "/".join(part for part in (os_name, arch, variant) if part)
    platform = parse_platform(text)
    assert str(platform) == text
    assert platform.matches(platform)
    assert parse_platform(platform.to_dict()) == platform


# --------------------------------------------------------------------------- headers

@PROPERTY
@given(any_text, st.sampled_from(["http://127.0.0.1:5000/v2/_catalog", "https://r.example/v2/a/tags/list?n=2"]))
def test_parse_link_next(header, base):
    count_bad_inputs()
    try:
        url = parse_link_next(header, base)
    except RegistryError as err:
        one_line(err)
        return
    assert url is None or isinstance(url, str)


@PROPERTY
@given(st.lists(st.sampled_from(["next", "prev", "last", "first", "nxt"]), min_size=1, max_size=3),
       st.from_regex(r"\A/v2/_catalog\?last=[a-z0-9/._-]{1,20}&n=[0-9]{1,3}\Z"), st.booleans())
def test_link_next_found_among_others(rels, target, quoted):
    header = ", ".join('<%s>; rel=%s' % (target if rel == "next" else "/other", '"%s"' % rel if quoted else rel)
                       for rel in rels)
    url = parse_link_next(header, "http://127.0.0.1:5000/v2/_catalog")
    if "next" in rels:
        assert url == "http://127.0.0.1:5000" + target
    else:
        assert url is None


@PROPERTY
@given(any_text)
def test_parse_challenges(header):
    count_bad_inputs()
    challenges = parse_challenges(header)
    for challenge in challenges:
        assert challenge.scheme == challenge.scheme.lower() and challenge.scheme
        assert isinstance(challenge.params, dict)


param_value = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@PROPERTY
@given(st.sampled_from(["Bearer", "bearer", "Basic"]), st.dictionaries(
    st.sampled_from(["realm", "service", "scope", "error"]), param_value, min_size=1))
def test_challenge_round_trip(scheme, params):
    header = "%s %s" % (scheme, ",".join('%s="%s"' % (key, value.replace("\\", "\\\\").replace('"', '\\"'))
                                         for key, value in params.items()))
    challenges = parse_challenges(header)
    assert len(challenges) == 1
    assert challenges[0].scheme == scheme.lower()
    assert challenges[0].params == params


@PROPERTY
@given(any_text)
def test_parse_retry_after(value):
    count_bad_inputs()
    delay = parse_retry_after(value)
    assert delay is None or delay >= 0


@PROPERTY
@given(any_text)
def test_parse_range_end(value):
    count_bad_inputs()
    end = parse_range_end(value)
    assert end is None or end >= 0


# --------------------------------------------------------------------------- registry answers

def fake_response(status, body, headers):
    response = requests.Response()
    response.status_code = status
    response._content = body  # pylint: disable=protected-access
    response.headers = CaseInsensitiveDict(headers)
    response.url = "http://127.0.0.1:5000/v2/team/app/manifests/v1"
    return response


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
                           lambda children: st.one_of(st.lists(children, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), children, max_size=4)),
                           max_leaves=12)
error_bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(st.dictionaries(st.sampled_from(["code", "message", "detail"]), json_values), max_size=3).map(
        lambda errs: json.dumps({"errors": errs}).encode()),
)


statuses = st.sampled_from([400, 401, 403, 404, 405, 409, 416, 429, 500, 502, 503])
answer_headers = st.dictionaries(st.sampled_from(["WWW-Authenticate", "Content-Type", "Retry-After",
                                                  "Docker-Content-Digest"]),
                                 st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60))
string_code_bodies = st.lists(st.fixed_dictionaries({"code": st.one_of(st.none(), st.text(max_size=20))}, optional={
    "message": json_values, "detail": json_values}), max_size=3).map(lambda errs: json.dumps({"errors": errs}).encode())


@PROPERTY
@given(statuses, st.one_of(st.binary(max_size=200), string_code_bodies), answer_headers)
def test_error_from_answer_with_string_codes_is_one_clear_line(status, body, headers):
    count_bad_inputs()
    err = error_from_response(fake_response(status, body, headers), registry="127.0.0.1:5000",
                              repository="team/app", reference="v1", action="get manifest")
    assert isinstance(err, RegistryError)
    assert err.status == status
    one_line(err)


@PROPERTY
@given(statuses, error_bodies, answer_headers)
def test_error_from_any_answer_is_one_clear_line(status, body, headers):
    count_bad_inputs()
    err = error_from_response(fake_response(status, body, headers), registry="127.0.0.1:5000",
                              repository="team/app", reference="v1", action="get manifest")
    assert isinstance(err, RegistryError)
    assert err.status == status
    one_line(err)


@PROPERTY
@given(st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode()),
                 st.dictionaries(st.sampled_from(["schemaVersion", "mediaType", "config", "layers", "manifests",
                                                  "subject", "fsLayers", "artifactType"]), json_values).map(
                     lambda d: json.dumps(d).encode())),
       st.one_of(st.none(), st.sampled_from(["application/vnd.oci.image.manifest.v1+json",
                                             "application/vnd.oci.image.index.v1+json", "text/html",
                                             "application/json"])))
def test_parse_manifest_any_bytes(raw, media_type):
    """Hostile manifest bodies: a model (whose accessors work) or ProtocolError-family errors only."""
    count_bad_inputs()
    try:
        manifest = parse_manifest(raw, media_type)
        if manifest.is_index:
            manifest.image_manifests()
        elif hasattr(manifest, "blobs"):
            manifest.blobs()
    except RegistryError as err:
        one_line(err)


@PROPERTY
@given(json_values)
def test_descriptor_from_any_json(value):
    count_bad_inputs()
    try:
        descriptor = Descriptor.from_dict(value)
    except RegistryError as err:
        one_line(err)
        return
    assert isinstance(descriptor.to_dict(), dict)
