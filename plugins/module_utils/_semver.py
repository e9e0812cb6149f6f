# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Semantic-version parsing, ordering and range matching for image tags.

Pure Python, no Ansible imports. Used by the ``oci.registry.semver_filter`` filter (the mirror
role selects upstream tags with it) and available to other plugins (tag sorting).

Tags are lenient semver: an optional ``v``, one to three numeric components (missing ones are
0, so ``1.2`` is ``1.2.0``), an optional ``-prerelease`` and ``+build``. ``1.2.3.4``, ``latest``
and ``stable`` are not versions and never match.

Range grammar (a superset of what most package managers accept):

- comparators ``>=1.2``, ``>1.2``, ``<=2``, ``<2``, ``=1.2.3``/``==1.2.3``, ``!=1.3.0``;
- a partial version or x-range means "that prefix": ``1.2``/``1.2.x``/``1.2.*`` is
  ``>=1.2.0,<1.3.0``, ``1`` is ``>=1.0.0,<2.0.0``, ``*``/``x`` is anything;
- ``~1.2.3`` is ``>=1.2.3,<1.3.0`` (``~1`` is ``>=1.0.0,<2.0.0``);
- ``^1.2.3`` is ``>=1.2.3,<2.0.0`` (``^0.2.3`` is ``<0.3.0``, ``^0.0.3`` is ``<0.0.4``);
- ``1.2 - 1.4`` is ``>=1.2.0,<=1.4.0``;
- comparators joined by ``,`` or spaces must all hold; ``||`` separates alternatives.

Pre-releases (``1.3.0-rc.1``, but also suffixed tags such as ``1.25.3-alpine``, which semver
reads as pre-releases) are excluded unless ``include_prerelease`` is true; then they order
before their release as semver says.
"""

from __future__ import absolute_import, division, print_function

import re

__metaclass__ = type  # pylint: disable=invalid-name

_VERSION_RE = re.compile(
    r"^[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_PARTIAL_RE = re.compile(
    r"^[vV]?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)
_OPERATORS = (">=", "<=", "==", "!=", ">", "<", "=", "~", "^")


class SemverError(ValueError):
    """A range expression we cannot parse."""


class Version:
    """A parsed tag; orders as semver 2.0 (build metadata ignored, ties broken by text)."""

    __slots__ = ("major", "minor", "patch", "prerelease", "build", "text")

    def __init__(self, major, minor=0, patch=0, prerelease=(), build=None, text=None):
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = tuple(prerelease)
        self.build = build
        self.text = text if text is not None else "%d.%d.%d" % (major, minor, patch)

    @property
    def is_prerelease(self):
        return bool(self.prerelease)

    def precedence(self):
        # A release sorts after all its pre-releases; numeric identifiers sort before
        # alphanumeric ones and numerically among themselves (semver 2.0 section 11).
        if not self.prerelease:
            pre = (1,)
        else:
            pre = (0,) + tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, pre)

    def sort_key(self):
        return (self.precedence(), self.text)

    def __eq__(self, other):
        return isinstance(other, Version) and self.precedence() == other.precedence()

    def __ne__(self, other):
        return not self == other

    def __lt__(self, other):
        return self.precedence() < other.precedence()

    def __le__(self, other):
        return self.precedence() <= other.precedence()

    def __gt__(self, other):
        return self.precedence() > other.precedence()

    def __ge__(self, other):
        return self.precedence() >= other.precedence()

    def __hash__(self):
        return hash(self.precedence())

    def __repr__(self):
        return "Version(%r)" % self.text

    def __str__(self):
        return self.text


def parse_version(text):
    """Return a :class:`Version` for a tag, or None when the tag is not a version."""
    if not isinstance(text, str):
        return None
    match = _VERSION_RE.match(text.strip())
    if not match:
        return None
    major, minor, patch, pre, build = match.groups()
    return Version(int(major), int(minor or 0), int(patch or 0),
                   pre.split(".") if pre else (), build, text)


class _Comparator:
    __slots__ = ("op", "version")

    def __init__(self, op, version):
        self.op = op
        self.version = version

    def test(self, version):
        a, b = version.precedence(), self.version.precedence()
        return {
            ">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b, "=": a == b, "!=": a != b,
        }[self.op]

    def __repr__(self):
        return "%s%s" % (self.op, self.version)


def _partial(text, spec):
    match = _PARTIAL_RE.match(text)
    if not match:
        raise SemverError("invalid version %r in range %r" % (text, spec))
    parts = []
    for value in match.groups()[:3]:
        if value is None or value in ("x", "X", "*"):
            break
        parts.append(int(value))
    pre = match.group(4)
    return parts, (pre.split(".") if pre else ())


def _bump(parts):
    """Upper bound of a prefix: 1 -> 2.0.0, 1.2 -> 1.3.0."""
    upper = list(parts)
    upper[-1] += 1
    return Version(*(upper + [0] * (3 - len(upper))))


def _full(parts, pre=()):
    return Version(*(list(parts) + [0] * (3 - len(parts))), prerelease=pre)


def _expand(op, text, spec):
    """One comparator token -> list of _Comparator (empty list = matches everything)."""
    parts, pre = _partial(text, spec)
    if not parts:
        if op in ("", "=", "==", ">=", "<=", "~", "^"):
            return []
        if op in (">", "<", "!="):
            # ">*" and "<*" can never hold; "!=*" excludes everything.
            return [_Comparator("<", Version(0, 0, 0, prerelease=("0",)))]
    exact = len(parts) == 3
    low = _full(parts, pre)
    if op in ("", "=", "=="):
        if exact:
            return [_Comparator("=", low)]
        return [_Comparator(">=", low), _Comparator("<", _bump(parts))]
    if op == "!=":
        if exact:
            return [_Comparator("!=", low)]
        raise SemverError("'!=' needs a full version (major.minor.patch) in %r" % spec)
    if op == ">=":
        return [_Comparator(">=", low)]
    if op == "<":
        return [_Comparator("<", low)]
    if op == ">":
        # ">1.2" means above every 1.2.x.
        return [_Comparator(">", low)] if exact else [_Comparator(">=", _bump(parts))]
    if op == "<=":
        return [_Comparator("<=", low)] if exact else [_Comparator("<", _bump(parts))]
    if op == "~":
        return [_Comparator(">=", low), _Comparator("<", _bump(parts[:2]))]
    if op == "^":
        # Bump the first non-zero component (or the last given one if all are zero).
        idx = next((i for i, value in enumerate(parts) if value != 0), len(parts) - 1)
        return [_Comparator(">=", low), _Comparator("<", _bump(parts[:idx + 1]))]
    raise SemverError("unknown operator %r in range %r" % (op, spec))  # pragma: no cover


class Range:
    """A parsed range: alternatives (``||``) of comparator sets that must all hold."""

    def __init__(self, spec):
        if not isinstance(spec, str):
            raise SemverError("a version range must be a string, got %r" % (spec,))
        self.spec = spec
        self.alternatives = []
        for alternative in spec.split("||"):
            self.alternatives.append(self._parse_set(alternative, spec))

    @staticmethod
    def _parse_set(text, spec):
        text = text.strip()
        hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", text)
        if hyphen:
            return _expand(">=", hyphen.group(1), spec) + _expand("<=", hyphen.group(2), spec)
        comparators = []
        # Allow "> = 1.2" style spacing between an operator and its version.
        tokens = re.sub(r"(>=|<=|==|!=|[<>=~^])\s+", r"\1", text.replace(",", " ")).split()
        for token in tokens:
            op = next((o for o in _OPERATORS if token.startswith(o)), "")
            version = token[len(op):]
            if not version:
                raise SemverError("operator %r without a version in range %r" % (op, spec))
            comparators.extend(_expand(op, version, spec))
        return comparators

    def match(self, version, include_prerelease=False):
        if isinstance(version, str):
            version = parse_version(version)
        if version is None:
            return False
        if version.is_prerelease and not include_prerelease:
            return False
        return any(all(c.test(version) for c in alternative) for alternative in self.alternatives)

    def __repr__(self):
        return "Range(%r)" % self.spec


def sort_versions(tags, reverse=False):
    """Tags that are versions, in semver order (non-versions dropped)."""
    parsed = [(parse_version(tag), tag) for tag in tags]
    ordered = sorted((v for v in parsed if v[0] is not None), key=lambda item: item[0].sort_key(),
                     reverse=reverse)
    return [tag for _version, tag in ordered]


def filter_versions(tags, spec="*", include_prerelease=False, limit=None):
    """Tags matching ``spec``, ascending in semver order; ``limit`` keeps only the N highest."""
    version_range = Range(spec if spec not in (None, "") else "*")
    matched = [tag for tag in tags
               if version_range.match(parse_version(tag), include_prerelease=include_prerelease)]
    result = sort_versions(matched)
    if limit is not None:
        limit = int(limit)
        if limit < 0:
            raise SemverError("limit must be 0 or more, got %d" % limit)
        result = result[len(result) - limit:] if limit else []
    return result
