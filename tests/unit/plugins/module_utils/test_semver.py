# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

import hypothesis
import hypothesis.strategies as st
import pytest

from ansible_collections.oci.registry.plugins.module_utils._semver import (
    Range,
    SemverError,
    filter_versions,
    parse_version,
    sort_versions,
)


TAGS = ["latest", "1.0", "1.1.0", "v1.2.0", "1.2.5", "1.3.0-rc.1", "1.3.0", "1.25.3-alpine",
        "2.0.0", "2.1", "10.0.0", "0.2.3", "0.2.9", "0.3.0", "0.0.3", "0.0.4", "1.2.3.4", "stable"]


@pytest.mark.parametrize("spec, expected", [
    (">=1.2,<2", ["v1.2.0", "1.2.5", "1.3.0"]),
    (">=1.2 <2", ["v1.2.0", "1.2.5", "1.3.0"]),
    ("1.2", ["v1.2.0", "1.2.5"]),
    ("1.2.x", ["v1.2.0", "1.2.5"]),
    ("~1.2.0", ["v1.2.0", "1.2.5"]),
    ("^1.1", ["1.1.0", "v1.2.0", "1.2.5", "1.3.0"]),
    ("^0.2.3", ["0.2.3", "0.2.9"]),
    ("^0.0.3", ["0.0.3"]),
    (">1.2", ["1.3.0", "2.0.0", "2.1", "10.0.0"]),
    ("<=1.1", ["0.0.3", "0.0.4", "0.2.3", "0.2.9", "0.3.0", "1.0", "1.1.0"]),
    ("1.0.0 - 1.2.0", ["1.0", "1.1.0", "v1.2.0"]),
    ("=2.0.0 || >=10", ["2.0.0", "10.0.0"]),
    ("2 != 2.1.0", ["2.0.0"]),
    ("*", ["0.0.3", "0.0.4", "0.2.3", "0.2.9", "0.3.0", "1.0", "1.1.0", "v1.2.0", "1.2.5", "1.3.0",
           "2.0.0", "2.1", "10.0.0"]),
])
def test_filter_versions(spec, expected):
    assert filter_versions(TAGS, spec) == expected


def test_prereleases_only_on_request_and_before_their_release():
    assert filter_versions(TAGS, ">=1.3.0-0,<1.4", include_prerelease=True) == ["1.3.0-rc.1", "1.3.0"]
    assert filter_versions(TAGS, "1.25") == []
    assert filter_versions(TAGS, "1.25", include_prerelease=True) == ["1.25.3-alpine"]


def test_limit_keeps_the_highest():
    assert filter_versions(TAGS, "^1", limit=2) == ["1.2.5", "1.3.0"]
    assert filter_versions(TAGS, "^1", limit=0) == []


def test_sort_versions_is_numeric_and_drops_non_versions():
    assert sort_versions(["10.0", "9.1", "1.10.0", "1.9.0", "latest", "v1.9.1"]) == \
        ["1.9.0", "v1.9.1", "1.10.0", "9.1", "10.0"]
    assert sort_versions(["1.0.0-rc.10", "1.0.0-rc.2", "1.0.0-beta", "1.0.0"]) == \
        ["1.0.0-beta", "1.0.0-rc.2", "1.0.0-rc.10", "1.0.0"]


@pytest.mark.parametrize("tag", ["latest", "1.2.3.4", "v", "1.2.", "01a", "", None])
def test_non_versions(tag):
    assert parse_version(tag) is None


@pytest.mark.parametrize("spec", [">=", "1.2.3.4.5", ">=abc", "!=1.2", ">= 1, <"])
def test_invalid_ranges(spec):
    with pytest.raises(SemverError):
        Range(spec)


versions = st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12))


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(v=versions, low=versions, high=versions)
def test_bounded_range_agrees_with_tuple_order(v, low, high):
    spec = ">=%d.%d.%d,<%d.%d.%d" % (low + high)
    assert Range(spec).match("%d.%d.%d" % v) == (low <= v < high)


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(v=versions, base=versions)
def test_caret_and_tilde(v, base):
    text = "%d.%d.%d" % v
    caret = Range("^%d.%d.%d" % base).match(text)
    if base[0]:
        expected = base <= v < (base[0] + 1, 0, 0)
    elif base[1]:
        expected = base <= v < (0, base[1] + 1, 0)
    else:
        expected = base <= v < (0, 0, base[2] + 1)
    assert caret == expected
    assert Range("~%d.%d.%d" % base).match(text) == (base <= v < (base[0], base[1] + 1, 0))


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(vs=st.lists(versions, max_size=12))
def test_sort_matches_numeric_tuple_order(vs):
    tags = ["%d.%d.%d" % v for v in vs]
    assert [tuple(int(p) for p in t.split(".")) for t in sort_versions(tags)] == sorted(vs)
