# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Typed errors of the registry client.

Every error renders as one line a user can act on: what failed, where, what the
registry said, and what to try. Messages are built only from registry names,
repository names, references, status codes and the registry's error body, so a
secret can only appear if a registry echoes one back; that text is scrubbed of
anything that looks like a credential before it is stored.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.oci.registry.plugins.module_utils._challenge import parse_challenges

# Headers worth keeping on an error; everything else (cookies, tokens echoed by
# proxies) is dropped so an error can be returned from a module unchanged.
_KEPT_HEADERS = (
    "www-authenticate",
    "docker-distribution-api-version",
    "docker-content-digest",
    "content-type",
    "content-length",
    "location",
    "range",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "docker-ratelimit-source",
    "oci-chunk-min-length",
    "docker-upload-uuid",
    "x-request-id",
)

_SECRET_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 <redacted>"),
    (re.compile(r"(?i)\b((?:password|passwd|secret|token|refresh_token|access_token|identitytoken)\"?\s{0,2}[=:]\s{0,2}\"?)[^\s,&\"']+"),
     r"\1<redacted>"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "<redacted>"),  # JWTs
)

MAX_DETAIL_LENGTH = 300
# The registry forgot or invalidated an upload session (distribution does after a partial chunk).
UPLOAD_LOST_CODES = ("BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID")


def scrub(text):
    """Remove anything that looks like a credential and fold the text onto one line."""
    if text is None:
        return ""
    text = str(text)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    if len(text) > MAX_DETAIL_LENGTH:
        text = text[:MAX_DETAIL_LENGTH - 3] + "..."
    return text


def _location(registry, repository, reference):
    where = registry or ""
    if repository:
        where = "%s/%s" % (where, repository) if where else repository
        if reference:
            where += ("@" if ":" in reference and reference.split(":", 1)[0] in ("sha256", "sha512") else ":") + reference
    return where


class RegistryError(Exception):
    """Base class: a registry operation failed."""

    default_hint = None

    def __init__(self, message, status=None, errors=None, headers=None, registry=None,
                 repository=None, reference=None, hint=None, action=None):
        super(RegistryError, self).__init__(message)
        self.message = scrub(message)
        self.status = status
        self.errors = list(errors or [])
        self.code = self.errors[0].get("code") if self.errors else None
        self.headers = dict(headers or {})
        self.registry = registry
        self.repository = repository
        self.reference = reference
        self.hint = hint if hint is not None else self.default_hint
        self.action = action

    @property
    def location(self):
        return _location(self.registry, self.repository, self.reference)

    def __str__(self):
        where = self.location
        line = "%s failed%s" % (self.action or "registry request", " for %s" % where if where else "")
        said = []
        if self.status is not None:
            said.append("HTTP %s" % self.status)
        for err in self.errors:
            text = scrub(err.get("code")) or ""
            message = scrub(err.get("message"))
            if message:
                text = "%s: %s" % (text, message) if text else message
            detail = scrub(_detail_text(err.get("detail")))
            if detail:
                text += " (%s)" % detail
            said.append(text)
        registry_said = " ".join(s for s in said if s)
        if self.message:
            line += ": " + self.message
            if registry_said:
                line += " - " + registry_said
        elif registry_said:
            line += ": " + registry_said
        if self.hint:
            line += ". Hint: " + scrub(self.hint)
        return line


class InvalidReferenceError(RegistryError, ValueError):
    """Bad input, raised before any request is sent."""


class InvalidOptionError(InvalidReferenceError):
    """An option value outside its documented range, raised before any request is sent."""


class AuthenticationError(RegistryError):
    """401: the registry or its token service did not accept who we are."""

    default_hint = ("check username/password (or bearer_token / auth_file) for this registry; "
                    "for token registries the account may also lack access to the requested scope")

    def __init__(self, message, challenge=None, **kwargs):
        super(AuthenticationError, self).__init__(message, **kwargs)
        self.challenge = challenge


WITHHELD_HINT = ("credentials were NOT sent to the token service, because its realm %s is plain HTTP on another "
                 "host than the registry; serve the token service over HTTPS (or on the registry's host name)")


class CredentialsWithheldError(AuthenticationError):
    """We had credentials but did not send them to the token service (plain HTTP, other host).

    Not a wrong password and not missing permissions: the message says so, which realm, and
    how to proceed, whatever the registry answered to the anonymous token.
    """

    def __init__(self, message, realm=None, **kwargs):
        kwargs.setdefault("hint", WITHHELD_HINT % (realm or "(unknown)"))
        super(CredentialsWithheldError, self).__init__(message, **kwargs)
        self.realm = realm


class PermissionDeniedError(RegistryError):
    """403 / DENIED: authenticated, but not allowed to do this."""

    default_hint = "the account is authenticated but lacks permission for this operation on the repository"


class InsufficientScopeError(PermissionDeniedError, AuthenticationError):
    """A token was sent but the registry still wants a wider scope (401 insufficient_scope).

    Both a permission problem (the token service granted less than asked) and an
    authentication answer (401), so it can be caught as either.
    """

    default_hint = ("the token service granted fewer actions than requested; the account probably lacks "
                    "push/delete permission on this repository")

    def __init__(self, message, challenge=None, **kwargs):
        PermissionDeniedError.__init__(self, message, **kwargs)
        self.challenge = challenge


class NotFoundError(RegistryError):
    """404: repository, manifest, tag or blob unknown."""

    default_hint = "check the repository name and the tag or digest"


class UnsupportedError(RegistryError):
    """405 / UNSUPPORTED: the registry does not do this (for example deletes are disabled)."""

    default_hint = "the registry does not support this operation"


class ManifestInvalidError(RegistryError):
    """400 MANIFEST_INVALID / MANIFEST_BLOB_UNKNOWN."""

    default_hint = "push every blob the manifest references before the manifest, and check its media type"

    def __init__(self, message, missing_blobs=None, **kwargs):
        super(ManifestInvalidError, self).__init__(message, **kwargs)
        self.missing_blobs = list(missing_blobs or [])


class DigestMismatchError(RegistryError):
    """Content does not hash to the digest it was asked for or announced."""

    default_hint = "the registry or a proxy altered the content; retry, and report it if it persists"


class ManifestTooLargeError(RegistryError):
    """Manifest above the 4 MiB limit the distribution spec allows clients to enforce."""

    default_hint = "manifests over 4 MiB are refused to protect memory; this is not a normal image manifest"


class RateLimitError(RegistryError):
    """429 after every retry."""

    default_hint = "the registry is rate limiting; authenticate (Docker Hub), wait, or lower concurrency"


class TransportError(RegistryError):
    """Connection refused, reset, DNS failure or timeout."""

    default_hint = "check registry_url, that the registry is reachable, proxies, and timeout"


class TLSError(TransportError):
    """Certificate verification or TLS handshake failure."""

    default_hint = ("set ca_path to the registry's CA bundle (or validate_certs=false for a test registry), "
                    "and client_cert/client_key if the registry wants a client certificate")


class ProtocolError(RegistryError):
    """A response we cannot understand."""

    default_hint = "the server does not behave like an OCI/Docker registry at this URL"


def _detail_text(detail):
    if detail is None or detail == "" or detail == {} or detail == []:
        return ""
    if isinstance(detail, (dict, list)):
        try:
            return json.dumps(detail, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return str(detail)
    return str(detail)


def parse_error_body(body):
    """Return the list of {code, message, detail} from an OCI error body, or []."""
    if not body:
        return []
    try:
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        data = json.loads(body)
    except ValueError:
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    result = []
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict):
                detail = item.get("detail")
                result.append({
                    "code": _text_or_none(item.get("code")),
                    "message": scrub(_text_or_none(item.get("message"))),
                    "detail": scrub(detail) if isinstance(detail, str) else detail,
                })
    elif isinstance(data, dict) and isinstance(data.get("detail") or data.get("message"), str):
        # Docker Hub API and some proxies: {"detail": "..."} / {"message": "..."}
        result.append({"code": _text_or_none(data.get("code")),
                       "message": scrub(data.get("detail") or data.get("message")), "detail": None})
    return result


def _text_or_none(value):
    """Registries (and hostile proxies) may put anything in code/message; keep it printable and hashable."""
    if value is None or isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def safe_headers(headers):
    if not headers:
        return {}
    return dict((k, v) for k, v in headers.items() if k.lower() in _KEPT_HEADERS)


def _missing_blobs(errors):
    missing = []
    for err in errors:
        if err.get("code") == "MANIFEST_BLOB_UNKNOWN" or err.get("code") == "BLOB_UNKNOWN":
            detail = err.get("detail")
            if isinstance(detail, dict):
                digest = detail.get("digest") or detail.get("Digest")
                if digest:
                    missing.append(digest)
            elif isinstance(detail, str) and ":" in detail:
                missing.append(detail)
    return missing


def error_from_response(response, registry=None, repository=None, reference=None, action=None,
                        hint=None, body=None):
    """Build the most specific RegistryError for a failed HTTP response."""
    status = response.status_code
    if body is None:
        try:
            body = response.content
        except Exception:  # a consumed or broken stream still deserves the status-based error
            body = b""
        if body and len(body) > 65536:
            body = body[:65536]
    errors = parse_error_body(body)
    codes = set(e.get("code") for e in errors)
    headers = safe_headers(response.headers)
    kwargs = dict(status=status, errors=errors, headers=headers, registry=registry,
                  repository=repository, reference=reference, action=action)
    if hint is not None:
        kwargs["hint"] = hint
    message = ""
    if not errors and body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        if not text.lstrip().startswith("<"):  # HTML error pages say nothing useful
            message = text
    if status == 401:
        challenges = parse_challenges(response.headers.get("WWW-Authenticate", ""))
        challenge = challenges[0] if challenges else None
        return AuthenticationError(message, challenge=challenge, **kwargs)
    if status == 403 or "DENIED" in codes:
        return PermissionDeniedError(message, **kwargs)
    if status == 429 or "TOOMANYREQUESTS" in codes:
        return RateLimitError(message, **kwargs)
    if "UNSUPPORTED" in codes or status == 405:
        return UnsupportedError(message, **kwargs)
    if codes & set(("MANIFEST_INVALID", "MANIFEST_BLOB_UNKNOWN", "MANIFEST_UNVERIFIED", "TAG_INVALID")):
        return ManifestInvalidError(message, missing_blobs=_missing_blobs(errors), **kwargs)
    if codes & set(UPLOAD_LOST_CODES) and hint is None:
        kwargs["hint"] = "the registry dropped the upload session (expired, cancelled or invalidated); upload again"
    if status == 404 or codes & set(("NAME_UNKNOWN", "MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "BLOB_UPLOAD_UNKNOWN")):
        return NotFoundError(message, **kwargs)
    if status == 400 and "DIGEST_INVALID" in codes:
        return DigestMismatchError(message, **kwargs)
    if status == 400 and "NAME_INVALID" in codes:
        return InvalidReferenceError(message, **kwargs)
    if status == 400 and hint is None and "http request to an https server" in message.lower():
        kwargs["hint"] = "the registry speaks HTTPS on this port: use an https:// registry_url (or reference prefix)"
    return RegistryError(message, **kwargs)
