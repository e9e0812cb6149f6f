# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Putting a blob into a repository, written once for registry_blob and the copy engine.

BlobWriter tries the cheapest way first: a cross-repository mount, then one
monolithic PUT, then chunked PATCH uploads that resume where the registry
says it stands. Every step follows one retry policy, ``retry_delay`` of the
uploads group (_api_uploads.py), which also owns the upload primitives (start,
PATCH, PUT, status, cancel, mount); this module only decides which to call.

Pure Python on top of the registry client; no Ansible imports.
"""

from __future__ import annotations

import hashlib
from collections import namedtuple

from ansible_collections.oci.registry.plugins.module_utils._api_uploads import retry_delay
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    DigestMismatchError,
    InvalidReferenceError,
    ProtocolError,
    UPLOAD_LOST_CODES,
    RegistryError,
)
from ansible_collections.oci.registry.plugins.module_utils._options import check_number, chunk_size_for
from ansible_collections.oci.registry.plugins.module_utils._transport import READ_CHUNK

# Below this size (and without chunk_size) a blob goes in one PUT.
MONOLITHIC_LIMIT = 32 * 1024 * 1024
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024

UploadResult = namedtuple("UploadResult", ["digest", "size", "existed", "chunks"])
WriteResult = namedtuple("WriteResult", ["digest", "size", "method", "chunks"])


def validate_chunk_size(value):
    """``chunk_size`` as an int, or None; raises InvalidReferenceError (one line) outside 1..MAX_CHUNK_SIZE.

    The single place chunk_size is checked: registry_blob, registry_copy and the client call it.
    The registry's own minimum (OCI-Chunk-Min-Length) is applied later, per upload session.
    """
    return check_number("chunk_size", value)


def file_digest(source, algorithm="sha256"):
    """``(digest, size)`` of a path or a readable file object (read from its current position to the end)."""
    if isinstance(source, str):
        with open(source, "rb") as handle:
            return file_digest(handle, algorithm)
    hasher = hashlib.new(algorithm)
    size = 0
    while True:
        chunk = source.read(READ_CHUNK)
        if not chunk:
            break
        hasher.update(chunk)
        size += len(chunk)
    return "%s:%s" % (algorithm, hasher.hexdigest()), size


class Aborted(Exception):
    """Raised inside a transfer once the caller (another worker of the copy engine) has failed."""


class StreamBody:
    """Request body of known length streaming from a verified chunk iterator.

    ``len()`` lets requests send Content-Length instead of chunked transfer
    encoding, which distribution refuses on a blob PUT. The last chunk is held
    back until the source iterator is exhausted: the client verifies digest and
    size at exhaustion, so on a mismatch the registry never receives a complete
    body and cannot commit the blob.
    """

    def __init__(self, chunks, size, digest, abort_event=None):
        self._chunks = chunks
        self.size = size
        self.digest = digest
        self._abort = abort_event
        self.sent = 0

    def __len__(self):
        return self.size

    def __iter__(self):
        held = None
        received = 0
        for chunk in self._chunks:
            if self._abort is not None and self._abort.is_set():
                raise Aborted()
            if not chunk:
                continue
            received += len(chunk)
            if received > self.size:
                raise DigestMismatchError(
                    "source sent more than the %d bytes its descriptor announces" % self.size,
                    reference=self.digest, action="copy blob")
            if held is not None:
                self.sent += len(held)
                yield held
            held = chunk
        if received != self.size:
            raise DigestMismatchError(
                "source sent %d bytes, its descriptor announces %d" % (received, self.size),
                reference=self.digest, action="copy blob")
        if held is not None:
            self.sent += len(held)
            yield held


class _IterFile(object):
    """``read(n)`` over an iterator of byte chunks, so a stream can feed the chunked upload."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._pending = bytearray()

    def read(self, size):
        while len(self._pending) < size:
            try:
                self._pending += next(self._chunks)
            except StopIteration:
                break
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data


def _read_full(fileobj, size):
    parts = []
    remaining = size
    while remaining > 0:
        chunk = fileobj.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


class _Source(object):
    """Reads an upload source by offset; non-seekable sources keep the last chunk for resumes."""

    def __init__(self, source):
        self.data = None
        self.fileobj = None
        self.seekable = False
        self._base = 0
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.data = bytes(source)
            self.seekable = True
        else:
            self.fileobj = source
            try:
                self.seekable = bool(getattr(source, "seekable", lambda: False)())
                if self.seekable:
                    self._base = source.tell()
            except (OSError, IOError, ValueError):
                self.seekable = False
        self._buffer_start = 0
        self._buffer = b""
        self._position = 0

    def read_at(self, offset, size):
        if self.data is not None:
            return self.data[offset:offset + size]
        if self.seekable:
            self.fileobj.seek(self._base + offset)
            return self.fileobj.read(size)
        buffer_end = self._buffer_start + len(self._buffer)
        if self._buffer_start <= offset < buffer_end:
            return self._buffer[offset - self._buffer_start:]
        if offset != self._position:
            raise ProtocolError("the registry asked to resume at byte %d but the stream is at %d and cannot seek"
                                % (offset, self._position), action="upload blob")
        chunk = _read_full(self.fileobj, size)
        self._buffer_start, self._buffer = offset, chunk
        self._position = offset + len(chunk)
        return chunk

    def digest_and_size(self, algorithm="sha256"):
        if self.data is not None:
            return "%s:%s" % (algorithm, hashlib.new(algorithm, self.data).hexdigest()), len(self.data)
        self.fileobj.seek(self._base)
        try:
            return file_digest(self.fileobj, algorithm)
        finally:
            self.fileobj.seek(self._base)


class BlobWriter(object):
    """Puts one blob into a repository of ``client``: mount, monolithic PUT, or chunked with resume.

    ``chunk_size`` (validated once here) switches to chunked uploads of that size, raised to the
    registry's minimum per session. ``abort`` is an optional threading.Event: set, it stops a
    transfer between chunks (the copy engine sets it when another worker failed).
    """

    def __init__(self, client, chunk_size=None, abort=None):
        self.client = client
        self.uploads = client.uploads
        self.chunk_size = validate_chunk_size(chunk_size)
        self.abort = abort

    # ---------------------------------------------------------------- strategy

    def write(self, repository, digest, size=None, source=None, mount_from=None, opener=None):
        """Store a blob the repository lacks; returns WriteResult(digest, size, method, chunks).

        ``source``: bytes, a path or a file object (uploaded, method ``uploaded``).
        ``mount_from``: a repository of the same registry to mount from first (``mounted``).
        ``opener``: a callable returning a BlobStream-like context manager (``.size``,
        ``.iter_chunks(n)``) to stream from (``copied``); without source and opener, a refused
        mount streams from ``mount_from`` through this client.
        """
        if mount_from is not None and self.uploads.mount_blob(repository, digest, mount_from):
            return WriteResult(digest, self.client.blobs.blob_exists(repository, digest) or size, "mounted", 0)
        if source is not None:
            uploaded = self.upload(repository, source, digest=digest, size=size, check_exists=False)
            return WriteResult(uploaded.digest, uploaded.size, "uploaded", uploaded.chunks)
        if opener is None:
            if mount_from is None:
                raise InvalidReferenceError("nothing to write blob %s from" % digest, action="upload blob")

            # Mount refused (different storage, or no pull right seen by the registry): stream it through us.
            def from_mount_source():
                return self.client.blobs.get_blob(mount_from, digest, expected_size=size)
            opener = from_mount_source
        size, chunks = self.copy_stream(repository, digest, size, opener)
        return WriteResult(digest, size, "copied", chunks)

    def upload(self, repository, source, digest=None, size=None, check_exists=True):
        """Upload a path, bytes or file object; skips the upload when the blob exists (UploadResult)."""
        opened = None
        if isinstance(source, str):
            opened = open(source, "rb")
            source = opened
        try:
            reader = _Source(source)
            if digest is None and reader.seekable:
                digest, size = reader.digest_and_size()
            if digest is not None and check_exists:
                existing = self.client.blobs.blob_exists(repository, digest)
                if existing is not None:
                    return UploadResult(digest, existing, True, 0)
            if size is None and reader.seekable:
                _digest, size = reader.digest_and_size()
            if digest is not None and size is not None and self.chunk_size is None and size < MONOLITHIC_LIMIT:
                data = reader.read_at(0, size) if size else b""
                self.uploads.monolithic_upload(repository, digest, data)
                return UploadResult(digest, size, False, 1)
            return self._chunked(repository, reader, digest)
        finally:
            if opened is not None:
                opened.close()

    def copy_stream(self, repository, digest, size, opener):
        """Stream a verified source into the repository; a retryable failure reopens the source.

        A stream cannot be replayed by the transport, so the retry is of the whole blob (new GET,
        new upload session), under the same policy and waits as every other upload step.
        Returns ``(size, chunks)``.
        """
        failures = 0
        while True:
            self._check_abort()
            try:
                with opener() as stream:
                    length = size if size is not None else stream.size
                    if length is None:
                        raise ProtocolError("the source announces no size for blob %s" % digest,
                                            reference=digest, action="copy blob")
                    body = StreamBody(stream.iter_chunks(READ_CHUNK), length, digest, self.abort)
                    if self.chunk_size is None:
                        self.uploads.upload_stream(repository, digest, length, body)
                        return length, 1
                    result = self._chunked(repository, _Source(_IterFile(body)), digest)
                    return result.size, result.chunks
            except RegistryError as exc:
                delay = retry_delay(self.client.transport, exc, failures)
                if delay is None:
                    raise
                self._check_abort()
                self.client.transport.sleep(delay)
                failures += 1

    # ---------------------------------------------------------------- chunked

    def _chunked(self, repository, reader, digest):
        # A list, not an attribute: writers may run in parallel threads of the copy engine.
        current = [self.uploads.start_upload(repository)]
        try:
            return self._send_chunks(repository, current, reader, digest)
        except BaseException:
            self.uploads.discard_upload(current[0])
            raise

    def _send_chunks(self, repository, current, reader, digest):
        session = current[0]
        chunk_size = chunk_size_for(self.chunk_size or DEFAULT_CHUNK_SIZE, session.min_chunk_size)
        hasher = hashlib.sha256() if digest is None else None
        hashed_to = 0
        offset = session.offset or 0
        chunks = 0
        failures = 0
        while True:
            self._check_abort()
            data = reader.read_at(offset, chunk_size)
            if not data:
                break
            if hasher is not None and offset + len(data) > hashed_to:
                hasher.update(data[hashed_to - offset:])
                hashed_to = offset + len(data)
            try:
                self.uploads.upload_chunk(session, data, start=offset)
                chunks += 1
                offset = session.offset if session.offset else offset + len(data)
            except RegistryError as exc:
                delay = retry_delay(self.client.transport, exc, failures)
                if delay is None:
                    raise
                self.client.transport.sleep(delay)
                failures += 1
                upload_lost = exc.code in UPLOAD_LOST_CODES
                offset = None if upload_lost and reader.seekable else self._resume_offset(session, reader)
                if offset is None:
                    self.uploads.discard_upload(session)
                    session = self.uploads.start_upload(repository)
                    current[0] = session
                    offset = session.offset or 0
        if hasher is not None:
            digest = "sha256:" + hasher.hexdigest()
        self.uploads.complete_upload(session, digest)
        return UploadResult(digest, offset, False, chunks)

    def _resume_offset(self, session, reader):
        """Where the registry wants the next byte; None when the upload is gone and must restart."""
        try:
            return self.uploads.get_upload_status(session)
        except RegistryError as exc:
            if (exc.status in (400, 404, 416) or exc.code in UPLOAD_LOST_CODES) and reader.seekable:
                return None
            raise

    # ---------------------------------------------------------------- helpers

    def _check_abort(self):
        if self.abort is not None and self.abort.is_set():
            raise Aborted()
