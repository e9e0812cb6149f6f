# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Uploads API group: the upload primitives (start, PATCH, PUT, status, cancel, mount) and the one
retry rule of uploads. Which primitive to call, and when to try again, is BlobWriter's
(``_blob_writer.py``); ``upload_blob`` hands over to the writer the client gives this group.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import urljoin
except ImportError:  # pragma: no cover
    from urlparse import urljoin  # type: ignore

from ansible_collections.oci.registry.plugins.module_utils._endpoint import (
    ApiGroup,
    int_header,
    pull_scopes,
    push_scopes,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    UPLOAD_LOST_CODES,
    DigestMismatchError,
    ProtocolError,
    RegistryError,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    is_digest,
    validate_digest,
    validate_repository,
)
from ansible_collections.oci.registry.plugins.module_utils._transport import (
    RequestBody,
    retryable_error,
)


def retryable_upload_error(err):
    """The one retry rule of uploads: what the transport retries, a lost session, a range mismatch (416)."""
    return retryable_error(err) or err.code in UPLOAD_LOST_CODES or err.status == 416


def retry_delay(transport, exc, attempt):
    """Seconds to wait before upload retry ``attempt`` after ``exc``, or None when it must not be retried.

    None for an error outside the retry rule, once the transport's ``retries`` are spent, or when
    the registry's Retry-After is longer than the transport waits for (the transport's one wait
    rule, ``retry_wait``, so an upload step never retries sooner than the registry asked).
    """
    if attempt >= transport.retries or not retryable_upload_error(exc):
        return None
    return transport.retry_wait(exc.headers, attempt)


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


class UploadsApi(ApiGroup):
    """``blobs`` (given by the client) tells whether a blob arrived when an answer was lost;
    ``writer(chunk_size)`` builds the BlobWriter behind ``upload_blob``."""

    def __init__(self, endpoint, blobs, writer):
        super(UploadsApi, self).__init__(endpoint)
        self._blobs = blobs
        self._writer = writer

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
        min_chunk = int_header(response.headers, "OCI-Chunk-Min-Length")
        if session is None:
            return UploadSession(repository, location, response.headers.get("Docker-Upload-UUID"), offset, min_chunk)
        session.location = location
        session.offset = offset
        if min_chunk:
            session.min_chunk_size = min_chunk
        return session

    def start_upload(self, repository):
        validate_repository(repository)
        response = self.endpoint.request("POST", "/v2/%s/blobs/uploads/" % repository, scopes=push_scopes(repository),
                                         expected=(202,), repository=repository, action="start upload")
        response.close()
        return self._session_from(response, repository)

    def complete_upload(self, session, digest, data=None, size=None, retry=True):
        validate_digest(digest)
        headers = {"Content-Type": "application/octet-stream"}
        try:
            response = self.endpoint.request("PUT", session.location, scopes=push_scopes(session.repository),
                                             expected=(200, 201, 204), params={"digest": digest}, data=data,
                                             size=size, headers=headers, retry=retry, repository=session.repository,
                                             reference=digest, action="complete upload")
        except RegistryError as exc:
            # A retried PUT whose first answer was lost finds the session gone because the
            # registry already committed the blob: that is success, not an error.
            if (exc.status == 404 or exc.code in UPLOAD_LOST_CODES) and \
                    self._blobs.blob_exists(session.repository, digest) is not None:
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
                if self._blobs.blob_exists(repository, digest) is not None:
                    return digest  # the registry committed it, only the answer got lost
                if attempt >= restarts or not body.rewind():
                    raise
                delay = self.endpoint.transport.retry_wait(exc.headers, attempt)
                if delay is None:
                    raise
                self.endpoint.sleep(delay)
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
        response = self.endpoint.request("PATCH", session.location, scopes=push_scopes(session.repository),
                                         expected=(202, 201, 204), headers=headers, data=data, retry=False,
                                         repository=session.repository, action="upload chunk")
        response.close()
        return self._session_from(response, session.repository, session, fallback_offset=end + 1)

    def get_upload_status(self, session):
        response = self.endpoint.request("GET", session.location, scopes=push_scopes(session.repository),
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
        """True when cancelled, False when the registry no longer had the upload."""
        response = self.endpoint.request("DELETE", session.location, scopes=push_scopes(session.repository),
                                         expected=(200, 202, 204, 404), repository=session.repository,
                                         action="cancel upload")
        response.close()
        return response.status_code != 404

    def mount_blob(self, repository, digest, from_repository):
        """Cross-repository mount; False (and no dangling upload) when the registry refuses."""
        validate_repository(repository)
        validate_repository(from_repository)
        validate_digest(digest)
        response = self.endpoint.request(
            "POST", "/v2/%s/blobs/uploads/" % repository,
            scopes=push_scopes(repository) + pull_scopes(from_repository), expected=(201, 202),
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
        return self._writer(chunk_size).upload(repository, source, digest=digest, size=size)


__all__ = ["UploadSession", "UploadsApi", "parse_range_end", "retry_delay", "retryable_upload_error"]
