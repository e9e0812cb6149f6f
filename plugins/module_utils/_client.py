# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""RegistryClient: the Docker Registry HTTP API v2 / OCI Distribution API, grouped like the seed library.

Usable without Ansible::

    with RegistryClient("http://127.0.0.1:5000") as client:
        client.manifests.get_digest("team/app", "1.0")
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re
import threading
import time
import uuid
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

try:
    from urllib.parse import parse_qs, urljoin, urlsplit
except ImportError:  # pragma: no cover
    from urlparse import parse_qs, urljoin, urlsplit  # type: ignore

from ansible_collections.oci.registry.plugins.module_utils._blob_writer import (
    BlobWriter,
    UploadResult,
    retry_delay,
    retryable_upload_error,
)
from ansible_collections.oci.registry.plugins.module_utils._auth import (
    CATALOG_SCOPE,
    AuthenticatedTransport,
    Authenticator,
    load_credentials,
    repository_scope,
)
from ansible_collections.oci.registry.plugins.module_utils._challenge import parse_challenges
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    CredentialsWithheldError,
    DigestMismatchError,
    ManifestTooLargeError,
    NotFoundError,
    ProtocolError,
    RegistryError,
    UPLOAD_LOST_CODES,
    TransportError,
    UnsupportedError,
    error_from_response,
)
from ansible_collections.oci.registry.plugins.module_utils._media import (
    DOCKER_SCHEMA1_SIGNED,
    MANIFEST_ACCEPT,
    MAX_MANIFEST_SIZE,
    OCI_EMPTY,
    OCI_EMPTY_DATA,
    OCI_EMPTY_DIGEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    clean_media_type,
    compute_digest,
    dumps_canonical,
    group_tags_by_digest,
    new_hasher,
    parse_manifest,
    sha256_digest,
)
from ansible_collections.oci.registry.plugins.module_utils._options import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    check_number,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    DOCKER_HUB_REGISTRY,
    is_digest,
    normalize_registry_url,
    split_registry_url,
    validate_digest,
    validate_reference,
    validate_repository,
    validate_tag,
)
from ansible_collections.oci.registry.plugins.module_utils._transport import (
    READ_CHUNK,
    RequestBody,
    Transport,
    origin,
    requests_exceptions,
)

DEFAULT_CONCURRENCY = 8
MAX_PAGES = 100000
# Image configurations are small JSON documents; this bounds what is read into memory.
MAX_CONFIG_SIZE = 16 * 1024 * 1024
DELETE_HINT = ("deletes are disabled on this registry; for the distribution registry set "
               "REGISTRY_STORAGE_DELETE_ENABLED=true (storage.delete.enabled: true)")
HUB_API_URL = "https://hub.docker.com"

ManifestResult = namedtuple("ManifestResult", ["digest", "media_type", "size", "raw", "manifest"])
PutResult = namedtuple("PutResult", ["digest", "subject_digest", "location"])
CatalogPage = namedtuple("CatalogPage", ["repositories", "next_last", "next_url"])
TagPage = namedtuple("TagPage", ["name", "tags", "next_last", "next_url"])
ReferrersResult = namedtuple("ReferrersResult", ["descriptors", "via"])


class UploadSession(object):
    """State of one blob upload: where to send the next chunk and from which offset."""

    def __init__(self, repository, location, uuid=None, offset=0, min_chunk_size=None):
        self.repository = repository
        self.location = location
        self.uuid = uuid
        self.offset = offset
        self.min_chunk_size = min_chunk_size

    def __repr__(self):
        return "UploadSession(%r, uuid=%r, offset=%r)" % (self.repository, self.uuid, self.offset)


# --------------------------------------------------------------------------- helpers

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


def _query_value(url, name):
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


def parse_range_end(value):
    """Next offset from a ``Range: 0-<end>`` header, or None.

    ``0-0`` is ambiguous (no byte or one byte); registries send it for an empty
    upload, so it counts as 0: resending one byte is harmless, skipping one is not.
    """
    if not value:
        return None
    match = re.match(r"^\s*(?:bytes=)?(\d+)-(\d+)\s*$", value)
    if not match:
        return None
    end = int(match.group(2))
    if end == 0:
        return 0
    return end + 1


def _int_header(headers, name):
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except (TypeError, ValueError):
        return None


def _parse_rate_limit(headers):
    limit = headers.get("RateLimit-Limit")
    remaining = headers.get("RateLimit-Remaining")
    if limit is None and remaining is None:
        return None

    def number(value):
        if value is None:
            return None
        try:
            return int(value.split(";", 1)[0].strip())
        except ValueError:
            return None

    return {"limit": number(limit), "remaining": number(remaining), "source": headers.get("Docker-RateLimit-Source")}


def _pull(repository):
    return [repository_scope(repository, "pull")]


def _push(repository):
    return [repository_scope(repository, "pull", "push")]


def _delete(repository):
    return [repository_scope(repository, "delete")]


# --------------------------------------------------------------------------- client

class RegistryClient(object):
    """One registry, one set of credentials, one connection pool."""

    def __init__(self, registry_url, username=None, password=None, bearer_token=None, auth_type="auto",
                 validate_certs=True, ca_path=None, client_cert=None, client_key=None, timeout=DEFAULT_TIMEOUT,
                 retries=DEFAULT_RETRIES, auth_file=None, trace=False, user_agent=None, **transport_options):
        self.registry_url = normalize_registry_url(registry_url)
        self.scheme, self.registry = split_registry_url(self.registry_url)
        timeout = check_number("timeout", DEFAULT_TIMEOUT if timeout is None else timeout)
        retries = check_number("retries", DEFAULT_RETRIES if retries is None else retries)
        identity_token = None
        self.credentials_source = "parameters" if (username or password or bearer_token) else None
        if not (username or password or bearer_token) and auth_type not in ("anonymous", "none"):
            creds = load_credentials(self.registry, auth_file=auth_file, timeout=timeout)
            if creds is not None:
                username, password, identity_token = creds.username, creds.password, creds.identity_token
                self.credentials_source = creds.source
        http = Transport(validate_certs=validate_certs, ca_path=ca_path, client_cert=client_cert,
                         client_key=client_key, timeout=timeout, retries=retries, user_agent=user_agent,
                         trace=trace, **transport_options)
        self.auth = Authenticator(self.registry_url, username=username, password=password,
                                  bearer_token=bearer_token, auth_type=auth_type, identity_token=identity_token,
                                  transport=http)
        self.transport = AuthenticatedTransport(http, self.auth)
        self.username = username
        self.system = SystemApi(self)
        self.catalog = CatalogApi(self)
        self.tags = TagsApi(self)
        self.manifests = ManifestsApi(self)
        self.blobs = BlobsApi(self)
        self.uploads = UploadsApi(self)
        self.hub = HubApi(self)
        self.referrers = ReferrersApi(self)

    # ----------------------------------------------------------------- lifecycle

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return "RegistryClient(%r, username=%r, auth_type=%r)" % (
            self.registry_url, self.username, self.auth.auth_type)

    @property
    def trace_records(self):
        return list(self.transport.trace.records)

    @property
    def request_count(self):
        return self.transport.trace.count

    @property
    def token_requests(self):
        return self.auth.token_requests

    # ----------------------------------------------------------------- plumbing

    def url(self, path):
        return self.registry_url + path

    def request(self, method, path_or_url, scopes=None, expected=(200,), repository=None, reference=None,
                action=None, hint=None, **kwargs):
        """Send and return the response when its status is expected, else raise the typed error."""
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        response = self.transport.request(method, url, scopes=scopes, **kwargs)
        if response.status_code in expected:
            return response
        raise self.error(response, repository=repository, reference=reference, action=action, hint=hint)

    def error(self, response, repository=None, reference=None, action=None, hint=None):
        """The typed error of a failed response: the one status-to-error path of the client."""
        try:
            err = error_from_response(response, registry=self.registry, repository=repository,
                                      reference=reference, action=action, hint=hint)
        finally:
            response.close()
        if response.status_code == 401:
            return self.auth.explain_unauthorized(err, response, repository=repository, reference=reference,
                                                  action=action, hint=hint)
        request = getattr(response, "request", None)
        if isinstance(err, UnsupportedError) and hint is None and getattr(request, "method", None) == "DELETE":
            err.hint = DELETE_HINT
        return err


# --------------------------------------------------------------------------- groups

class _Group(object):
    def __init__(self, client):
        self.client = client

    @property
    def registry(self):
        return self.client.registry


class SystemApi(_Group):
    def ping(self):
        """GET /v2/: API version, auth challenge, whether our credentials work, rate limit headers.

        Credentials that do not authenticate (wrong password, withheld from the token service)
        are a result, not a failure: ``authenticated`` is False and ``auth_error`` says why.
        """
        client = self.client
        first = client.request("GET", "/v2/", expected=(200, 401), authenticate=False, trace_name="ping",
                               action="ping")
        first.close()
        status = first.status_code
        api_version = first.headers.get("Docker-Distribution-API-Version")
        challenges = parse_challenges(first.headers.get("WWW-Authenticate", ""))
        auth_info = None
        authenticated = False
        auth_error = None
        rate_limit = _parse_rate_limit(first.headers)
        if status == 401:
            challenge = client.auth.learn_challenge(first.headers.get("WWW-Authenticate", ""))
            if challenge is not None:
                auth_info = challenge.to_dict()
            if client.auth.auth_type != "none" and (client.auth.has_credentials or (
                    challenge is not None and challenge.scheme == "bearer")):
                try:
                    second = client.request("GET", "/v2/", scopes=[], expected=(200, 401), trace_name="ping",
                                            action="log in")
                except AuthenticationError as err:
                    # The token service refused us: nothing more to learn from /v2/.
                    auth_error = str(err)
                else:
                    second.close()
                    status = second.status_code
                    api_version = second.headers.get("Docker-Distribution-API-Version") or api_version
                    rate_limit = _parse_rate_limit(second.headers) or rate_limit
                    if status == 401:
                        auth_error = str(client.error(second, action="log in"))
                if auth_error is None and client.auth.credentials_withheld:
                    # /v2/ may well answer an anonymous token: that is access, not authentication.
                    auth_error = str(CredentialsWithheldError(
                        "the credentials%s were withheld" % (
                            " of user %s" % client.auth.username if client.auth.username else ""),
                        realm=client.auth.withheld_realm, registry=self.registry, action="log in"))
                authenticated = status == 200 and auth_error is None and client.auth.has_credentials
        else:
            client.auth.mark_open()
            if challenges:
                auth_info = challenges[0].to_dict()
        info = {
            "api_version": api_version,
            "status": status,
            "auth": auth_info,
            "authenticated": authenticated,
            "rate_limit": rate_limit,
        }
        if auth_error is not None:
            info["auth_error"] = auth_error
        return info


class _Paginated(_Group):
    def _page(self, path, params, scopes, key, action, repository=None):
        response = self.client.request("GET", path, scopes=scopes, params=params, repository=repository,
                                       action=action)
        try:
            data = response.json()
        except ValueError:
            raise ProtocolError("answer is not JSON", registry=self.registry, repository=repository, action=action)
        if not isinstance(data, dict):
            raise ProtocolError("answer is not a JSON object", registry=self.registry, repository=repository,
                                action=action)
        items = data.get(key) or []
        next_url = parse_link_next(response.headers.get("Link"), response.url)
        if next_url is not None and origin(next_url) != origin(self.client.registry_url):
            # Following it would send our token to another host.
            next_url = None
        next_last = _query_value(next_url, "last") if next_url else None
        return data, list(items), next_url, next_last

    def _iterate(self, path, page_size, last, scopes, key, action, repository=None):
        def fetch(n, cursor, next_url):
            params = {}
            if next_url is None:
                if n:
                    params["n"] = n
                if cursor:
                    params["last"] = cursor
            _data, items, link_url, link_last = self._page(next_url or path, params or None, scopes, key, action,
                                                           repository)
            return items, link_url, link_last

        return iterate_pages(fetch, page_size, last, registry=self.registry, action=action)


def iterate_pages(fetch, page_size=None, last=None, registry=None, action=None):
    """Yield every name of a paginated listing once, in the registry's order: the one paginator.

    ``fetch(n, last, next_url)`` returns ``(names, next_url, next_last)`` for one page: the page
    at ``next_url`` when given, else the page of ``n`` names after ``last``. The next page is
    the ``Link`` URL when the registry sends one, else ``next_last``; with neither, a full
    page (exactly ``page_size`` names) may still be followed by more, so the next page is
    asked for after its last name. A registry that ignores ``last`` (distribution 2.x for
    tags) or repeats itself ends the listing instead of looping.
    """
    next_url = None
    cursor = last
    seen = set()
    yielded = set()
    linked = False
    for page_number in range(MAX_PAGES):
        items, link_url, link_last = fetch(page_size, cursor, next_url)
        items = list(items or [])
        full_page = bool(page_size) and len(items) == page_size
        if page_number == 0 and last is not None and last in items:
            # The registry ignored `last` and sent the list from the start: skip up to it.
            items = items[items.index(last) + 1:]
        fresh = [item for item in items if item not in yielded]
        yielded.update(fresh)
        yield from fresh
        if link_url or link_last:
            key = link_url or ("last", link_last)
            if key in seen or (not link_url and link_last == cursor):
                return  # a registry pointing back to a page it already served
            seen.add(key)
            linked = True
            next_url, cursor = link_url, link_last
            continue
        # A registry that links its pages says so on the last one by not linking.
        if not linked and full_page and fresh and len(fresh) == len(items) and items[-1] != cursor:
            next_url, cursor = None, items[-1]
            continue
        return
    raise ProtocolError("more than %d pages" % MAX_PAGES, registry=registry, action=action)


class CatalogApi(_Paginated):
    def get_catalog(self, n=None, last=None):
        params = {}
        if n:
            params["n"] = int(n)
        if last:
            params["last"] = str(last)
        _data, items, next_url, next_last = self._page(
            "/v2/_catalog", params or None, [CATALOG_SCOPE], "repositories", "list catalog")
        return CatalogPage(items, next_last, next_url)

    def iter_catalog(self, page_size=None, last=None):
        return self._iterate("/v2/_catalog", page_size, last, [CATALOG_SCOPE], "repositories", "list catalog")


class TagsApi(_Paginated):
    def list_tags(self, repository, n=None, last=None):
        validate_repository(repository)
        params = {}
        if n:
            params["n"] = int(n)
        if last:
            params["last"] = str(last)
        data, items, next_url, next_last = self._page("/v2/%s/tags/list" % repository, params or None,
                                                      _pull(repository), "tags", "list tags", repository)
        return TagPage(data.get("name") or repository, items, next_last, next_url)

    def iter_tags(self, repository, page_size=None, last=None):
        validate_repository(repository)
        return self._iterate("/v2/%s/tags/list" % repository, page_size, last, _pull(repository), "tags",
                             "list tags", repository)

    def list_tags_by_digests(self, repository, concurrency=DEFAULT_CONCURRENCY, page_size=None):
        """Tags grouped by the manifest they point at: one HEAD per tag, at most ``concurrency`` at once."""
        tags = list(self.iter_tags(repository, page_size=page_size))
        if not tags:
            return []
        manifests = self.client.manifests
        workers = max(1, min(int(concurrency or 1), len(tags)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            heads = list(pool.map(lambda tag: (tag, manifests.head_manifest(repository, tag)), tags))
        return group_tags_by_digest(heads)  # a tag deleted between listing and HEAD has None


class ManifestsApi(_Group):
    def __init__(self, client):
        super().__init__(client)
        # repository -> False, or the RegistryError a delete there got (see _check_deletes_allowed).
        self._deletes_refused = {}

    def _read_manifest(self, response, repository, reference):
        length = _int_header(response.headers, "Content-Length")
        if length is not None and length > MAX_MANIFEST_SIZE:
            response.close()
            raise ManifestTooLargeError("manifest is %d bytes, the limit is %d" % (length, MAX_MANIFEST_SIZE),
                                        registry=self.registry, repository=repository, reference=reference,
                                        action="get manifest")
        buf = bytearray()
        try:
            for chunk in response.iter_content(65536):
                buf.extend(chunk)
                if len(buf) > MAX_MANIFEST_SIZE:
                    raise ManifestTooLargeError("manifest exceeds %d bytes" % MAX_MANIFEST_SIZE,
                                                registry=self.registry, repository=repository,
                                                reference=reference, action="get manifest")
        except (requests_exceptions.ConnectionError, requests_exceptions.ChunkedEncodingError) as exc:
            raise TransportError("connection broke while reading the manifest (%s)" % type(exc).__name__,
                                 registry=self.registry, repository=repository, reference=reference,
                                 action="get manifest")
        finally:
            response.close()
        return bytes(buf)

    def _fetch(self, repository, reference, accept=None, parse=True):
        validate_repository(repository)
        validate_reference(reference)
        response = self.client.request("GET", "/v2/%s/manifests/%s" % (repository, reference),
                                       scopes=_pull(repository), headers={"Accept": accept or MANIFEST_ACCEPT},
                                       stream=True, repository=repository, reference=reference,
                                       action="get manifest")
        raw = self._read_manifest(response, repository, reference)
        header_type = clean_media_type(response.headers.get("Content-Type"))
        manifest = None
        try:
            manifest = parse_manifest(raw, header_type)
        except ProtocolError:
            if parse:
                raise
        media_type = manifest.media_type if manifest is not None else header_type or None
        if is_digest(reference):
            algorithm = reference.split(":", 1)[0]
            # Signed schema1 digests cover the payload without signatures; those cannot be checked here.
            if media_type != DOCKER_SCHEMA1_SIGNED and algorithm in ("sha256", "sha512"):
                actual = compute_digest(raw, algorithm)
                if actual != reference:
                    raise DigestMismatchError("content hashes to %s" % actual, registry=self.registry,
                                              repository=repository, reference=reference, action="get manifest")
            digest = reference
        else:
            header_digest = response.headers.get("Docker-Content-Digest")
            digest = header_digest.strip() if header_digest and is_digest(header_digest.strip()) else sha256_digest(raw)
        return ManifestResult(digest, media_type, len(raw), raw, manifest)

    def get_manifest(self, repository, reference, accept=None):
        return self._fetch(repository, reference, accept=accept, parse=True)

    def get_manifest_raw(self, repository, reference, accept=None):
        return self._fetch(repository, reference, accept=accept, parse=False)

    def head_manifest(self, repository, reference):
        """Descriptor of the manifest (digest, media type, size), or None when it does not exist."""
        validate_repository(repository)
        validate_reference(reference)
        response = self.client.transport.request("HEAD", self.client.url("/v2/%s/manifests/%s" % (repository, reference)),
                                                 scopes=_pull(repository), headers={"Accept": MANIFEST_ACCEPT})
        response.close()
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.client.error(response, repository=repository, reference=reference, action="head manifest")
        digest = (response.headers.get("Docker-Content-Digest") or "").strip()
        media_type = clean_media_type(response.headers.get("Content-Type")) or None
        size = _int_header(response.headers, "Content-Length")
        if not is_digest(digest) or not media_type or media_type == "application/json" or size is None:
            # Some registries (ECR, old proxies) omit the digest on HEAD: hash the body instead.
            try:
                result = self.get_manifest_raw(repository, reference)
            except NotFoundError:
                return None
            return Descriptor(result.media_type, result.digest, result.size)
        return Descriptor(media_type, digest, size)

    def get_digest(self, repository, reference):
        descriptor = self.head_manifest(repository, reference)
        if descriptor is None:
            raise NotFoundError("manifest unknown", registry=self.registry, repository=repository,
                                reference=reference, action="get digest")
        return descriptor.digest

    def put_manifest(self, repository, reference, raw, media_type):
        validate_repository(repository)
        validate_reference(reference)
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        if len(raw) > MAX_MANIFEST_SIZE:
            raise ManifestTooLargeError("manifest is %d bytes, the limit is %d" % (len(raw), MAX_MANIFEST_SIZE),
                                        registry=self.registry, repository=repository, reference=reference,
                                        action="put manifest")
        response = self.client.request("PUT", "/v2/%s/manifests/%s" % (repository, reference),
                                       scopes=_push(repository), expected=(200, 201, 202, 204),
                                       headers={"Content-Type": media_type}, data=raw, repository=repository,
                                       reference=reference, action="put manifest")
        response.close()
        digest = (response.headers.get("Docker-Content-Digest") or "").strip()
        if not is_digest(digest):
            digest = sha256_digest(raw)
        location = response.headers.get("Location")
        return PutResult(digest, response.headers.get("OCI-Subject"),
                         urljoin(response.url, location) if location else None)

    def delete_manifest(self, repository, digest):
        validate_repository(repository)
        validate_digest(digest)
        response = self.client.transport.request("DELETE", self.client.url("/v2/%s/manifests/%s" % (repository, digest)),
                                                 scopes=_delete(repository))
        response.close()
        if response.status_code in (200, 202, 204):
            return True
        err = self.client.error(response, repository=repository, reference=digest, action="delete manifest")
        if isinstance(err, UnsupportedError):
            self._deletes_refused[None] = err  # a registry setting: an untag later in the run refuses at once
        raise err

    def delete_tag(self, repository, tag):
        """Remove one tag, keeping other tags of the same manifest.

        Returns "tag" when the registry deletes tags itself; "placeholder" when it
        does not (distribution 2.x): a unique throwaway manifest is pushed to the
        tag and that manifest is deleted by digest, which removes only this tag.
        The original digest is never deleted.
        """
        validate_repository(repository)
        validate_tag(tag)
        original = self.head_manifest(repository, tag)
        if original is None:
            raise NotFoundError("tag does not exist", registry=self.registry, repository=repository, reference=tag,
                                action="delete tag")
        response = self.client.transport.request("DELETE", self.client.url("/v2/%s/manifests/%s" % (repository, tag)),
                                                 scopes=_delete(repository))
        response.close()
        if response.status_code in (200, 202, 204):
            return "tag"
        err = self.client.error(response, repository=repository, reference=tag, action="delete tag")
        if not (isinstance(err, UnsupportedError) or response.status_code in (400, 405)):
            raise err
        self._check_deletes_allowed(repository, tag)
        self._delete_tag_with_placeholder(repository, tag, original)
        return "placeholder"

    def _check_deletes_allowed(self, repository, tag):
        """Refuse before the placeholder is written when its delete would be refused.

        The placeholder cannot be deleted where deletes are disabled or the account lacks the
        delete right: it would stay behind as an untagged manifest. A DELETE of a digest that
        cannot exist tells which, without changing anything (404 means deletes work); the answer
        holds for the client's lifetime, so a bulk untag probes once per repository.
        """
        known = self._deletes_refused.get(None) or self._deletes_refused.get(repository)
        if known is None:
            probe = "sha256:" + hashlib.sha256(("oci.registry delete probe %s" % uuid.uuid4()).encode()).hexdigest()
            response = self.client.transport.request(
                "DELETE", self.client.url("/v2/%s/manifests/%s" % (repository, probe)), scopes=_delete(repository))
            response.close()
            known = False
            if response.status_code not in (200, 202, 204, 404):
                known = self.client.error(response, repository=repository, reference=tag, action="delete tag")
                known.message = ("nothing was changed: removing a tag from this registry needs a manifest delete, "
                                 "which it refuses")
            self._deletes_refused[repository] = known
            if isinstance(known, UnsupportedError):
                self._deletes_refused[None] = known
        if known:
            known.reference = tag
            raise known

    def _delete_tag_with_placeholder(self, repository, tag, original):
        client = self.client
        if client.blobs.blob_exists(repository, OCI_EMPTY_DIGEST) is None:
            client.uploads.monolithic_upload(repository, OCI_EMPTY_DIGEST, OCI_EMPTY_DATA)
        placeholder = dumps_canonical({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_EMPTY, "digest": OCI_EMPTY_DIGEST, "size": len(OCI_EMPTY_DATA)},
            "layers": [],
            "annotations": {
                # Unique, so deleting it by digest can never hit a manifest anyone else uses.
                "org.opencontainers.image.description": "oci.registry tag-delete placeholder",
                "io.github.oci-registry.placeholder": "%s-%s" % (uuid.uuid4(), time.time()),
            },
        })
        put = self.put_manifest(repository, tag, placeholder, OCI_MANIFEST)
        try:
            self.delete_manifest(repository, put.digest)
        except RegistryError as exc:
            # Put the tag back where it was, so a refused delete changes nothing.
            try:
                previous = self.get_manifest_raw(repository, original.digest)
                self.put_manifest(repository, tag, previous.raw, previous.media_type)
            except RegistryError:
                pass
            exc.action = "delete tag"
            exc.reference = tag
            raise exc


class _BodyBroken(Exception):
    """The network side of a blob body failed (kept apart from errors of whoever consumes the bytes)."""

    def __init__(self, cause):
        super().__init__(cause)
        self.cause = cause


def _body_chunks(response, chunk_size=READ_CHUNK):
    """The raw body bytes; only failures of reading the body become _BodyBroken.

    Exceptions raised by the consumer of a chunk (a local write, a full disk) pass through
    untouched: they are not network faults and must not be retried as such.
    """
    # decode_content=False: a Content-Encoding set by object storage must not change the bytes we hash.
    chunks = response.raw.stream(chunk_size, decode_content=False)
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except RegistryError:
            raise
        except Exception as exc:  # urllib3 and socket errors while streaming
            raise _BodyBroken(exc)
        if chunk:
            yield chunk


class _BlobVerifier(object):
    """Size and digest of a blob over the bytes actually delivered: the one check every blob reader uses."""

    def __init__(self, registry, repository, digest, size=None):
        self.registry = registry
        self.repository = repository
        self.digest = digest
        self.size = size
        self.count = 0
        self._algorithm, self._hasher = new_hasher(digest)

    def error(self, message):
        return DigestMismatchError(message, registry=self.registry, repository=self.repository,
                                   reference=self.digest, action="get blob")

    def admit(self, length):
        """Refuse a chunk that would run past the announced size (before anyone uses it)."""
        if self.size is not None and self.count + length > self.size:
            raise self.error("blob is longer than %d bytes" % self.size)

    def add(self, chunk):
        """Account a chunk once it is delivered, so the hash covers exactly what the consumer got."""
        self._hasher.update(chunk)
        self.count += len(chunk)

    def finish(self):
        if self.size is not None and self.count != self.size:
            raise self.error("blob ended after %d of %d bytes" % (self.count, self.size))
        actual = "%s:%s" % (self._algorithm, self._hasher.hexdigest())
        if actual != self.digest:
            raise self.error("blob content hashes to %s" % actual)


def _broken_body(verifier, exc):
    return TransportError("connection broke after %d bytes of the blob (%s)"
                          % (verifier.count, type(exc.cause).__name__), registry=verifier.registry,
                          repository=verifier.repository, reference=verifier.digest, action="get blob")


class BlobStream(object):
    """A blob download that checks size and digest as it streams."""

    def __init__(self, response, registry, repository, digest, expected_size=None):
        self._response = response
        self.registry = registry
        self.repository = repository
        self.digest = digest
        length = _int_header(response.headers, "Content-Length")
        if expected_size is not None and length is not None and length != expected_size:
            response.close()
            raise DigestMismatchError("registry announces %d bytes, expected %d" % (length, expected_size),
                                      registry=registry, repository=repository, reference=digest,
                                      action="get blob")
        self.size = expected_size if expected_size is not None else length
        self._verifier = _BlobVerifier(registry, repository, digest, self.size)
        self._done = False

    @property
    def bytes_read(self):
        return self._verifier.count

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self._response.close()

    def iter_chunks(self, chunk_size=READ_CHUNK):
        """Yield the blob; raises DigestMismatchError after the last chunk if size or digest differ."""
        if self._done:
            raise ProtocolError("blob stream already consumed", action="get blob")
        self._done = True
        verifier = self._verifier
        try:
            for chunk in _body_chunks(self._response, chunk_size):
                verifier.admit(len(chunk))
                verifier.add(chunk)
                yield chunk
        except _BodyBroken as exc:
            raise _broken_body(verifier, exc)
        finally:
            self._response.close()
        verifier.finish()

    def read_all(self, limit=64 * 1024 * 1024):
        buf = bytearray()
        for chunk in self.iter_chunks():
            buf.extend(chunk)
            if limit is not None and len(buf) > limit:
                self.close()
                raise ProtocolError("blob larger than %d bytes; stream it instead" % limit, action="get blob")
        return bytes(buf)


class BlobsApi(_Group):
    def get_config(self, repository, manifest, max_size=MAX_CONFIG_SIZE):
        """The image configuration of an image manifest as a dict, verified against its digest.

        None when the manifest has no configuration blob (schema 1, some artifacts), or when the
        blob is not a JSON object (artifacts may use any config type). A blob announced larger than
        ``max_size`` raises ProtocolError rather than being read into memory.
        """
        config = manifest.config
        if config is None or not config.digest:
            return None
        if config.size is not None and config.size > max_size:
            raise ProtocolError("configuration blob %s is %d bytes, more than an image configuration can be"
                                % (config.digest, config.size), registry=self.registry, repository=repository,
                                reference=config.digest, action="get config")
        with self.get_blob(repository, config.digest, expected_size=config.size) as blob:
            raw = blob.read_all(limit=max_size)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def blob_exists(self, repository, digest):
        """Size of the blob, or None when the repository does not have it."""
        validate_repository(repository)
        validate_digest(digest)
        response = self.client.transport.request("HEAD", self.client.url("/v2/%s/blobs/%s" % (repository, digest)),
                                                 scopes=_pull(repository))
        response.close()
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.client.error(response, repository=repository, reference=digest, action="head blob")
        size = _int_header(response.headers, "Content-Length")
        return size if size is not None else 0

    def get_blob(self, repository, digest, expected_size=None):
        validate_repository(repository)
        validate_digest(digest)
        response = self.client.request("GET", "/v2/%s/blobs/%s" % (repository, digest), scopes=_pull(repository),
                                       stream=True, repository=repository, reference=digest, action="get blob")
        return BlobStream(response, self.registry, repository, digest, expected_size)

    def download_blob(self, repository, digest, fileobj, expected_size=None):
        """Stream a blob into ``fileobj``; a body broken mid-way resumes with a Range request.

        Returns the bytes written; raises DigestMismatchError (after writing) when size or
        digest do not match, so callers writing to a temporary file can discard it. An
        error writing ``fileobj`` (disk full, permissions) is raised as it is, at once:
        it is not a network fault, and no retry can help.
        """
        validate_repository(repository)
        validate_digest(digest)
        path = "/v2/%s/blobs/%s" % (repository, digest)
        verifier = _BlobVerifier(self.registry, repository, digest, expected_size)
        failures = 0
        while True:
            written = verifier.count
            headers = {"Range": "bytes=%d-" % written} if written else None
            response = self.client.request("GET", path, scopes=_pull(repository), expected=(200, 206),
                                           headers=headers, stream=True, repository=repository,
                                           reference=digest, action="get blob")
            skip = written if response.status_code == 200 else 0  # Range ignored: drop what we have
            if verifier.size is None and response.status_code == 200:
                verifier.size = _int_header(response.headers, "Content-Length")
            try:
                for chunk in _body_chunks(response):
                    if skip:
                        dropped = min(skip, len(chunk))
                        chunk, skip = chunk[dropped:], skip - dropped
                        if not chunk:
                            continue
                    verifier.admit(len(chunk))
                    fileobj.write(chunk)
                    verifier.add(chunk)
                break
            except _BodyBroken as exc:
                failures += 1
                if failures > self.client.transport.retries:
                    raise _broken_body(verifier, exc)
                self.client.transport.sleep(self.client.transport.backoff(failures - 1))
            finally:
                response.close()
        verifier.finish()
        return verifier.count

    def delete_blob(self, repository, digest):
        validate_repository(repository)
        validate_digest(digest)
        response = self.client.transport.request("DELETE", self.client.url("/v2/%s/blobs/%s" % (repository, digest)),
                                                 scopes=_delete(repository))
        response.close()
        if response.status_code in (200, 202, 204):
            return True
        raise self.client.error(response, repository=repository, reference=digest, action="delete blob")


class UploadsApi(_Group):
    def _session_from(self, response, repository, session=None, fallback_offset=None):
        location = response.headers.get("Location")
        if location:
            location = urljoin(response.url, location)
        elif session is not None:
            location = session.location
        else:
            raise ProtocolError("upload response without Location", registry=self.registry, repository=repository,
                                action="upload blob")
        offset = parse_range_end(response.headers.get("Range"))
        if offset is None:
            offset = fallback_offset if fallback_offset is not None else (session.offset if session else 0)
        min_chunk = _int_header(response.headers, "OCI-Chunk-Min-Length")
        if session is None:
            return UploadSession(repository, location, response.headers.get("Docker-Upload-UUID"), offset, min_chunk)
        session.location = location
        session.offset = offset
        if min_chunk:
            session.min_chunk_size = min_chunk
        return session

    def start_upload(self, repository):
        validate_repository(repository)
        response = self.client.request("POST", "/v2/%s/blobs/uploads/" % repository, scopes=_push(repository),
                                       expected=(202,), repository=repository, action="start upload")
        response.close()
        return self._session_from(response, repository)

    def complete_upload(self, session, digest, data=None, size=None, retry=True):
        validate_digest(digest)
        headers = {"Content-Type": "application/octet-stream"}
        try:
            response = self.client.request("PUT", session.location, scopes=_push(session.repository),
                                           expected=(200, 201, 204), params={"digest": digest}, data=data,
                                           size=size, headers=headers, retry=retry, repository=session.repository,
                                           reference=digest, action="complete upload")
        except RegistryError as exc:
            # A retried PUT whose first answer was lost finds the session gone because the
            # registry already committed the blob: that is success, not an error.
            if (exc.status == 404 or exc.code in UPLOAD_LOST_CODES) and \
                    self.client.blobs.blob_exists(session.repository, digest) is not None:
                return digest
            raise
        response.close()
        returned = (response.headers.get("Docker-Content-Digest") or "").strip()
        if returned and is_digest(returned) and returned != digest:
            raise DigestMismatchError("registry stored %s" % returned, registry=self.registry,
                                      repository=session.repository, reference=digest, action="complete upload")
        return digest

    def discard_upload(self, session):
        """Best effort: an abandoned session would hold registry storage until it expires."""
        try:
            self.cancel_upload(session)
        except RegistryError:
            pass

    def monolithic_upload(self, repository, digest, data, size=None):
        """POST then PUT with the whole body (Content-Length, never chunked transfer encoding).

        The transport retries the PUT in the same session (answers like 503, connection
        failures before the body went out). When the session itself is spoiled (the
        registry kept part of a broken body and now says BLOB_UPLOAD_INVALID or
        DIGEST_INVALID, or the connection kept failing) the session is cancelled and a
        replayable body gets one fresh session.
        """
        validate_digest(digest)
        body = RequestBody(data, size)
        restarts = 1
        for attempt in range(restarts + 1):
            session = self.start_upload(repository)
            try:
                return self.complete_upload(session, digest, data=body)
            except RegistryError as exc:
                self.discard_upload(session)
                # DIGEST_INVALID here: the registry kept part of a broken body.
                spoiled = retryable_upload_error(exc) or exc.code == "DIGEST_INVALID"
                if not spoiled:
                    raise
                if self.client.blobs.blob_exists(repository, digest) is not None:
                    return digest  # the registry committed it, only the answer got lost
                if attempt >= restarts or not body.rewind():
                    raise
                self.client.transport.sleep(retry_delay(self.client.transport, exc, attempt))
        raise ProtocolError("upload retries exhausted", registry=self.registry, repository=repository)

    def upload_chunk(self, session, data, start=None):
        """PATCH one chunk with ``Content-Range: start-end`` (inclusive end, no ``/*``)."""
        if isinstance(data, memoryview):
            data = data.tobytes()
        start = session.offset if start is None else start
        if not data:
            return session
        end = start + len(data) - 1
        headers = {"Content-Type": "application/octet-stream", "Content-Range": "%d-%d" % (start, end),
                   "Content-Length": str(len(data))}
        # Not retried blindly: after a broken PATCH the registry may hold part of the
        # chunk, so the caller asks the upload status and resumes from there.
        response = self.client.request("PATCH", session.location, scopes=_push(session.repository),
                                       expected=(202, 201, 204), headers=headers, data=data, retry=False,
                                       repository=session.repository, action="upload chunk")
        response.close()
        return self._session_from(response, session.repository, session, fallback_offset=end + 1)

    def get_upload_status(self, session):
        response = self.client.request("GET", session.location, scopes=_push(session.repository),
                                       expected=(200, 204), repository=session.repository,
                                       action="get upload status")
        response.close()
        location = response.headers.get("Location")
        if location:
            session.location = urljoin(response.url, location)
        offset = parse_range_end(response.headers.get("Range"))
        session.offset = offset if offset is not None else 0
        return session.offset

    def cancel_upload(self, session):
        response = self.client.transport.request("DELETE", session.location, scopes=_push(session.repository))
        response.close()
        if response.status_code in (200, 202, 204, 404):
            return response.status_code != 404
        raise self.client.error(response, repository=session.repository, action="cancel upload")

    def mount_blob(self, repository, digest, from_repository):
        """Cross-repository mount; False (and no dangling upload) when the registry refuses."""
        validate_repository(repository)
        validate_repository(from_repository)
        validate_digest(digest)
        response = self.client.request(
            "POST", "/v2/%s/blobs/uploads/" % repository,
            scopes=_push(repository) + _pull(from_repository), expected=(201, 202),
            params={"mount": digest, "from": from_repository}, repository=repository, reference=digest,
            action="mount blob")
        response.close()
        if response.status_code == 201:
            return True
        self.cancel_upload(self._session_from(response, repository))
        return False

    def upload_stream(self, repository, digest, size, chunks):
        """Monolithic upload of an iterable of byte chunks with a known size (copy engine).

        A stream cannot be sent twice, so there is no retry here; on failure the upload
        session is cancelled and the caller decides (it may re-read its source).
        """
        session = self.start_upload(repository)
        try:
            return self.complete_upload(session, digest, data=iter(chunks), size=size)
        except BaseException:
            self.discard_upload(session)
            raise

    def upload_blob(self, repository, source, digest=None, size=None, chunk_size=None):
        """Upload a path, bytes or file-like object; skips the upload when the blob exists.

        Monolithic below MONOLITHIC_LIMIT without ``chunk_size``, chunked with resume otherwise
        (the strategy and its retries are BlobWriter's).
        """
        validate_repository(repository)
        return BlobWriter(self.client, chunk_size).upload(repository, source, digest=digest, size=size)


class HubApi(_Group):
    """Docker Hub's own API (hub.docker.com), not the registry API."""

    def __init__(self, client):
        super(HubApi, self).__init__(client)
        self._token = None
        self._lock = threading.Lock()

    @property
    def base_url(self):
        if self.client.registry == DOCKER_HUB_REGISTRY:
            return HUB_API_URL
        return self.client.registry_url

    def _headers(self, url):
        login = self.client.auth.login_credentials()
        if login is None or origin(url) != origin(self.base_url):
            return {}
        with self._lock:
            if self._token is None:
                response = self.client.request(
                    "POST", self.base_url + "/v2/users/login", authenticate=False,
                    headers={"Content-Type": "application/json"},
                    data=json.dumps({"username": login[0], "password": login[1]}), trace_name="hub-login",
                    action="log in to Docker Hub")
                try:
                    self._token = response.json().get("token")
                except ValueError:
                    raise ProtocolError("Docker Hub login answered without JSON", action="log in to Docker Hub")
                if not self._token:
                    raise ProtocolError("Docker Hub login answered without a token", action="log in to Docker Hub")
            return {"Authorization": "Bearer " + self._token}

    def list_repository_tags(self, namespace, repository, page_size=100):
        """Every tag of ``namespace/repository`` with Docker Hub's fields (all pages)."""
        validate_repository(namespace)
        validate_repository(repository)
        url = "%s/v2/namespaces/%s/repositories/%s/tags" % (self.base_url, namespace, repository)
        params = {"page_size": int(page_size)} if page_size else None
        results = []
        seen = set()
        while url:
            if url in seen:
                break
            seen.add(url)
            response = self.client.request("GET", url, params=params, authenticate=False,
                                           headers=self._headers(url), trace_name="hub-tags",
                                           repository="%s/%s" % (namespace, repository),
                                           action="list Docker Hub tags")
            try:
                data = response.json()
            except ValueError:
                raise ProtocolError("Docker Hub tag list is not JSON", action="list Docker Hub tags")
            results.extend(data.get("results") or [])
            next_url = data.get("next")
            url = urljoin(response.url, next_url) if next_url else None
            params = None
        return results


class ReferrersApi(_Group):
    def list_referrers(self, repository, digest, artifact_type=None):
        """Manifests whose subject is ``digest``: referrers API, else the ``sha256-<hex>`` tag."""
        validate_repository(repository)
        validate_digest(digest)
        params = {"artifactType": artifact_type} if artifact_type else None
        response = self.client.transport.request(
            "GET", self.client.url("/v2/%s/referrers/%s" % (repository, digest)), scopes=_pull(repository),
            params=params, headers={"Accept": OCI_INDEX})
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError:
                data = None
            finally:
                response.close()
            if isinstance(data, dict) and isinstance(data.get("manifests"), list):
                descriptors = [Descriptor.from_dict(m) for m in data["manifests"]]
                filtered = "artifactType" in (response.headers.get("OCI-Filters-Applied") or "")
                if artifact_type and not filtered:
                    descriptors = [d for d in descriptors if d.artifact_type == artifact_type]
                return ReferrersResult(descriptors, "api")
        else:
            response.close()
            # The spec forbids 404 from registries that implement the API; anything
            # but auth errors means "no API here".
            if response.status_code in (401, 403):
                raise self.client.error(response, repository=repository, reference=digest,
                                        action="list referrers")
        return self._from_tag(repository, digest, artifact_type)

    def _from_tag(self, repository, digest, artifact_type):
        algorithm, hexpart = digest.split(":", 1)
        tag = ("%s-%s" % (algorithm, hexpart))[:128]
        try:
            result = self.client.manifests.get_manifest(repository, tag)
        except NotFoundError:
            return ReferrersResult([], "none")
        manifest = result.manifest
        if manifest is None or not manifest.is_index:
            return ReferrersResult([], "none")
        descriptors = list(manifest.manifests)
        if artifact_type:
            descriptors = [d for d in descriptors if d.artifact_type == artifact_type]
        return ReferrersResult(descriptors, "tag")


__all__ = [
    "BlobStream", "CatalogPage", "iterate_pages", "ManifestResult", "PutResult", "ReferrersResult", "RegistryClient", "TagPage",
    "UploadResult", "UploadSession", "parse_link_next", "parse_range_end",
]
