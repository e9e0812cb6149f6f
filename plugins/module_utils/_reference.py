# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Image references, registry URLs, digests and platforms.

Grammar follows the distribution reference package (docker/distribution
reference/regexp.go) so names accepted here are the names registries accept.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidReferenceError

DOCKER_HUB_REGISTRY = "registry-1.docker.io"
DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")
DOCKER_HUB_API = "hub.docker.com"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
REPOSITORY_RE = re.compile(r"^%s(?:/%s)*$" % (_COMPONENT, _COMPONENT))
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
# The algorithms the OCI image spec registers; anything else (md5:...) is refused before a
# request, because registries answer it with a 500 that leaks their storage path.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha512": 128}
# ``user:password@`` in the authority of a URL or reference (userinfo cannot contain '/').
# A reference needs a '/' after the host, or ``name@sha256:...`` would count.
_URL_USERINFO_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^/@]*@[^/@]*(?:/|$)")
_REFERENCE_USERINFO_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^/@]*@[^/@]*/")
CREDENTIALS_IN_URL_HINT = ("credentials do not belong in URLs: pass them with username/password, bearer_token or "
                           "auth_file (src_auth/dest_auth in registry_copy)")
_HOST_RE = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]+)?$")
MAX_REPOSITORY_LENGTH = 255


# The OCI referrers tag schema (``sha256-<hex>``, an index of an image's referrers on registries without
# the referrers API) and cosign's tag scheme (``sha256-<hex>.sig/.att/.sbom``): such a tag belongs to the
# image it describes, so copies, prunes and cleanups treat it with its subject, never as an image.
REFERRER_TAG_RE = re.compile(r"^(sha256|sha512)-([0-9a-f]{64,128})(?:\.[A-Za-z0-9_.-]+)?$")
# What cosign writes on registries without the referrers API: signature, attestation, SBOM.
COSIGN_TAG_SUFFIXES = (".sig", ".att", ".sbom")


def fallback_tag(digest):
    """The referrers tag schema name: ``sha256:abc`` -> ``sha256-abc`` (at most 128 characters, as tags are)."""
    return digest.replace(":", "-", 1)[:128]


def referrer_subject(tag):
    """``sha256:<hex>`` for a referrer or cosign tag (REFERRER_TAG_RE), else None."""
    match = REFERRER_TAG_RE.match(tag or "")
    return "%s:%s" % (match.group(1), match.group(2)) if match else None


def validate_repository(name):
    """Return ``name`` or raise InvalidReferenceError naming the broken rule."""
    if not isinstance(name, str) or not name:
        raise InvalidReferenceError("repository name is empty", action="validate repository")
    if len(name) > MAX_REPOSITORY_LENGTH:
        raise InvalidReferenceError("repository name %r is longer than %d characters" % (name[:40] + "...", MAX_REPOSITORY_LENGTH),
                                    action="validate repository")
    if not REPOSITORY_RE.match(name):
        if name != name.lower():
            rule = "must be lowercase"
        elif name.startswith("/") or name.endswith("/") or "//" in name:
            rule = "path components must not be empty"
        else:
            rule = "each path component must match [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
        raise InvalidReferenceError("invalid repository name %r: %s" % (name, rule), action="validate repository",
                                    hint="use lowercase letters, digits and single separators (. _ __ -) between them")
    return name


def validate_tag(tag):
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        raise InvalidReferenceError(
            "invalid tag %r: must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127} (at most 128 characters, "
            "not starting with '.' or '-')" % (tag,), action="validate tag")
    return tag


def has_userinfo(text, reference=False):
    """Does ``text`` (a registry URL, or an image reference) carry ``user[:password]@`` before its host?"""
    pattern = _REFERENCE_USERINFO_RE if reference else _URL_USERINFO_RE
    return isinstance(text, str) and bool(pattern.match(text.strip()))


def userinfo_secrets(text):
    """The ``user:password`` a URL or reference carries before its host, as a 1-tuple, else ().

    Used to mask it in everything a module returns, its echoed arguments included. Only the whole
    userinfo is given: with the password as a second value, ansible-core 2.17 may mask the password
    first and leave ``user:********`` behind. ``name@sha256:...`` carries no password and is never
    taken for userinfo; ``scheme://user@host`` is.
    """
    if not isinstance(text, str):
        return ()
    stripped = text.strip()
    # The URL grammar admits every reference with userinfo too (it also allows nothing after the host).
    if not has_userinfo(stripped):
        return ()
    scheme, sep, rest = stripped.partition("://")
    authority = rest if sep else scheme
    userinfo = authority.split("@", 1)[0]
    if not userinfo or (":" not in userinfo and not sep):
        return ()
    return (userinfo,)


def _refuse_userinfo(text, what):
    if has_userinfo(text, reference=what != "registry_url"):
        # Never echo the text: the part before '@' is a password.
        raise InvalidReferenceError("%s contains user:password@ credentials (not shown)" % what,
                                    action="validate %s" % what, hint=CREDENTIALS_IN_URL_HINT)


def validate_digest(digest):
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise InvalidReferenceError("invalid digest %r: must be algorithm:hex, e.g. sha256:<64 hex characters>" % (digest,),
                                    action="validate digest")
    algorithm, hexpart = digest.split(":", 1)
    expected = _DIGEST_HEX_LENGTH.get(algorithm)
    if expected is None:
        raise InvalidReferenceError("unsupported digest algorithm %r in %r: use %s" % (
            algorithm, digest, " or ".join(sorted(_DIGEST_HEX_LENGTH))), action="validate digest")
    if len(hexpart) != expected or not re.match(r"^[0-9a-f]+$", hexpart):
        raise InvalidReferenceError("invalid %s digest %r: must be %d lowercase hex characters"
                                    % (algorithm, digest, expected), action="validate digest")
    return digest


def is_digest(reference):
    return isinstance(reference, str) and ":" in reference and bool(DIGEST_RE.match(reference))


def validate_reference(reference):
    """A tag or a digest."""
    if is_digest(reference):
        return validate_digest(reference)
    return validate_tag(reference)


def normalize_registry_host(host):
    host = host.strip().rstrip("/")
    if host.lower() in DOCKER_HUB_ALIASES:
        return DOCKER_HUB_REGISTRY
    return host


def normalize_registry_url(url):
    """``host`` -> ``https://host``; Docker Hub aliases -> ``https://registry-1.docker.io``; no trailing ``/`` or ``/v2``."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidReferenceError("registry_url is empty", action="validate registry_url")
    _refuse_userinfo(url, "registry_url")
    url = url.strip()
    scheme = "https"
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", url)
    if match:
        scheme = match.group(1).lower()
        url = match.group(2)
        if scheme not in ("http", "https"):
            raise InvalidReferenceError("registry_url %r: scheme must be http or https" % (url,),
                                        action="validate registry_url")
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        raise InvalidReferenceError("registry_url %r contains whitespace or control characters" % (url,),
                                    action="validate registry_url")
    # Loop so that normalising twice changes nothing (".../v2/v2/" -> "...").
    while True:
        stripped = url.rstrip("/")
        if stripped.endswith("/v2"):
            stripped = stripped[:-3]
        if stripped == url:
            break
        url = stripped
    host, sep, path = url.partition("/")
    if path and not re.match(r"^[A-Za-z0-9._~!$&'()*+,;=:@%/-]+$", path):
        raise InvalidReferenceError("registry_url has an invalid path %r" % (path,), action="validate registry_url")
    if not host or not _HOST_RE.match(host):
        raise InvalidReferenceError("registry_url has an invalid host %r" % (host,), action="validate registry_url")
    host = normalize_registry_host(host.lower())
    return "%s://%s%s" % (scheme, host, sep + path if path else "")


def split_registry_url(url):
    """Return (scheme, host[:port]) of a normalised registry URL."""
    url = normalize_registry_url(url)
    scheme, rest = url.split("://", 1)
    return scheme, rest.split("/", 1)[0]


class ImageReference(namedtuple("ImageReference", ["registry", "scheme", "repository", "tag", "digest"])):
    """A parsed, normalised image reference (immutable)."""

    __slots__ = ()

    @property
    def registry_url(self):
        return "%s://%s" % (self.scheme, self.registry)

    @property
    def reference(self):
        """What to put after /manifests/: the digest when pinned, else the tag."""
        return self.digest or self.tag

    @property
    def name(self):
        """``registry/repository`` without tag or digest."""
        return "%s/%s" % (self.registry, self.repository)

    def with_tag(self, tag):
        return self._replace(tag=validate_tag(tag), digest=None)

    def with_digest(self, digest):
        return self._replace(digest=validate_digest(digest))

    def __str__(self):
        text = self.name
        if self.tag:
            text += ":" + self.tag
        if self.digest:
            text += "@" + self.digest
        return text


def _looks_like_registry(component):
    return "." in component or ":" in component or component == "localhost" or component.startswith("[")


def parse_reference(text, default_registry=None, default_tag=None):
    """Parse ``[scheme://][host[:port]/]repo[:tag][@digest]``.

    Without a registry part the name is a Docker Hub name (or ``default_registry``
    when given, which may be a URL carrying the scheme). One-part Docker Hub names
    get ``library/``. A missing tag stays None unless ``default_tag`` is given.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidReferenceError("image reference is empty", action="parse reference")
    _refuse_userinfo(text, "image reference")
    original = text
    text = text.strip()
    scheme = None
    match = re.match(r"^(https?)://(.*)$", text, re.IGNORECASE)
    if match:
        scheme = match.group(1).lower()
        text = match.group(2)

    digest = None
    if "@" in text:
        text, digest = text.rsplit("@", 1)
        validate_digest(digest)

    first, sep, rest = text.partition("/")
    if sep and _looks_like_registry(first):
        registry = normalize_registry_host(first.lower() if not first.startswith("[") else first)
        remainder = rest
    elif scheme is not None:
        raise InvalidReferenceError("image reference %r has a scheme but no registry host" % (original,),
                                    action="parse reference")
    else:
        remainder = text
        if default_registry:
            default_scheme, registry = split_registry_url(default_registry)
            if "://" in default_registry:
                scheme = default_scheme
        else:
            registry = DOCKER_HUB_REGISTRY

    tag = None
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1:]
        validate_tag(tag)
    if tag is None and digest is None and default_tag:
        tag = validate_tag(default_tag)
    if registry == DOCKER_HUB_REGISTRY and "/" not in remainder:
        remainder = "library/" + remainder
    validate_repository(remainder)
    return ImageReference(registry=registry, scheme=scheme or "https", repository=remainder, tag=tag, digest=digest)


LAYOUT_TRANSPORTS = ("oci", "oci-archive")


class LayoutReference(ImageReference):
    """``oci:/dir[:tag]`` or ``oci-archive:/file.tar[:tag]``: an OCI image layout as a copy end.

    ``scheme`` is the transport, ``registry`` the transport and parent directory (``oci:/srv``) and
    ``repository`` the last path component, so error locations and ``str()`` read ``oci:/srv/app:tag``
    like the option.
    """

    __slots__ = ()

    @property
    def path(self):
        return self.registry.split(":", 1)[1] + "/" + self.repository

    @property
    def registry_url(self):
        return "%s:%s" % (self.scheme, self.path)

    @property
    def name(self):
        return self.registry_url


def is_layout_reference(text):
    """Does ``text`` name an OCI image layout (``oci:``) or layout archive (``oci-archive:``)?

    ``oci:5000/team/app`` stays a registry reference (a host named ``oci`` with a port).
    """
    if not isinstance(text, str) or ":" not in text:
        return False
    transport, rest = text.strip().split(":", 1)
    return transport in LAYOUT_TRANSPORTS and not re.match(r"^[0-9]+(?:/|$)", rest)


def parse_layout_reference(text):
    """``oci:/abs/dir[:tag|@digest]`` / ``oci-archive:/abs/file.tar[:tag|@digest]`` -> LayoutReference.

    The tag is the part after the last ``:`` when it is a valid tag (skopeo's rule too); the path
    must be absolute, because a module's working directory is not the playbook's.
    """
    transport, path = text.strip().split(":", 1)
    digest = tag = None
    if "@" in path:
        path, digest = path.rsplit("@", 1)
        validate_digest(digest)
    head, colon, tail = path.rpartition(":")
    if colon and "/" not in tail and TAG_RE.match(tail):
        path, tag = head, tail
    elif colon and "/" not in tail:
        validate_tag(tail)
    if not path.startswith("/") or re.search(r"[\x00-\x1f\x7f]", path):
        raise InvalidReferenceError("%s:%s: the path of an OCI layout must be absolute, e.g. %s:/srv/images/app:1.0"
                                    % (transport, path, transport), action="parse reference")
    path = "/" + path.strip("/")
    parent, name = path.rsplit("/", 1)
    if not name or name in (".", ".."):
        raise InvalidReferenceError("%s:%s: name a directory or file below /, not %r" % (transport, path, name or "/"),
                                    action="parse reference")
    return LayoutReference(registry="%s:%s" % (transport, parent), scheme=transport, repository=name, tag=tag, digest=digest)


# Architectures spelled differently by uname and by image configs.
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm",
                 "i386": "386", "i686": "386"}


def _norm_arch(arch):
    arch = (arch or "").lower()
    return _ARCH_ALIASES.get(arch, arch)


class Platform(namedtuple("Platform", ["os", "architecture", "variant", "os_version"])):
    """``os/architecture[/variant]`` as found in image indexes and configs."""

    __slots__ = ()

    def __new__(cls, os, architecture, variant=None, os_version=None):
        return super(Platform, cls).__new__(cls, os, architecture, variant or None, os_version or None)

    @classmethod
    def from_dict(cls, data):
        if not data:
            return None
        return cls(data.get("os") or "", data.get("architecture") or "", data.get("variant"), data.get("os.version"))

    def to_dict(self):
        data = {"os": self.os, "architecture": self.architecture}
        if self.variant:
            data["variant"] = self.variant
        if self.os_version:
            data["os.version"] = self.os_version
        return data

    def _effective_variant(self):
        arch = _norm_arch(self.architecture)
        if self.variant:
            return self.variant.lower()
        if arch == "arm64":
            return "v8"  # arm64 images almost never say v8, but it is what they are
        return None

    def matches(self, other):
        """Does descriptor platform ``other`` satisfy this (requested) platform?

        A request without variant matches every variant; ``arm64`` without a
        variant counts as ``v8`` on either side.
        """
        if other is None:
            return False
        if (self.os or "").lower() != (other.os or "").lower():
            return False
        if _norm_arch(self.architecture) != _norm_arch(other.architecture):
            return False
        if not self.variant:
            return True
        return self._effective_variant() == other._effective_variant()

    def __str__(self):
        text = "%s/%s" % (self.os, self.architecture)
        if self.variant:
            text += "/" + self.variant
        return text


def parse_platform(text):
    """``linux/arm64/v8`` -> Platform; also accepts a dict with os/architecture/variant."""
    if isinstance(text, Platform):
        return text
    if isinstance(text, dict):
        if not text.get("os") or not text.get("architecture"):
            raise InvalidReferenceError("platform %r needs os and architecture" % (text,), action="parse platform")
        return Platform.from_dict(text)
    if not isinstance(text, str):
        raise InvalidReferenceError("platform must be a string like linux/amd64, got %r" % (text,), action="parse platform")
    parts = text.strip().split("/")
    if len(parts) < 2 or len(parts) > 3 or not all(parts):
        raise InvalidReferenceError("invalid platform %r: expected os/architecture[/variant], e.g. linux/arm64/v8" % (text,),
                                    action="parse platform")
    return Platform(parts[0].lower(), _norm_arch(parts[1]), parts[2].lower() if len(parts) == 3 else None)
