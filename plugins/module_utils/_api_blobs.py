# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Blobs API group: existence, verified streaming reads (resumed downloads), image configs, delete.

Every blob reader checks size and digest through one ``_BlobVerifier`` over the bytes it delivered.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.oci.registry.plugins.module_utils._endpoint import (
    ApiGroup,
    delete_scopes,
    int_header,
    pull_scopes,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    DigestMismatchError,
    ProtocolError,
    RegistryError,
    TransportError,
)
from ansible_collections.oci.registry.plugins.module_utils._media import new_hasher
from ansible_collections.oci.registry.plugins.module_utils._reference import validate_digest, validate_repository
from ansible_collections.oci.registry.plugins.module_utils._transport import READ_CHUNK

# Image configurations are small JSON documents; this bounds what is read into memory.
MAX_CONFIG_SIZE = 16 * 1024 * 1024


class _BodyBroken(Exception):
    """The network side of a blob body failed (kept apart from errors of whoever consumes the bytes)."""

    def __init__(self, cause):
        super(_BodyBroken, self).__init__(cause)
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


class VerifiedStream(object):
    """A blob read once, checked as it streams: the size before each chunk, size and digest after the last.

    The one verified reader: a registry response (BlobStream) and a layout file (_layout) differ only
    in where the chunks come from (``_chunks``) and what closing means (``close``).
    """

    def __init__(self, verifier):
        self._verifier = verifier
        self._done = False

    @property
    def bytes_read(self):
        return self._verifier.count

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        raise NotImplementedError

    def _chunks(self, chunk_size):
        raise NotImplementedError

    def iter_chunks(self, chunk_size=READ_CHUNK):
        """Yield the blob; raises DigestMismatchError after the last chunk if size or digest differ."""
        if self._done:
            raise ProtocolError("blob stream already consumed", action="get blob")
        self._done = True
        verifier = self._verifier
        try:
            for chunk in self._chunks(chunk_size):
                verifier.admit(len(chunk))
                verifier.add(chunk)
                yield chunk
        finally:
            self.close()
        verifier.finish()

    def read_all(self, limit=64 * 1024 * 1024):
        buf = bytearray()
        for chunk in self.iter_chunks():
            buf.extend(chunk)
            if limit is not None and len(buf) > limit:
                self.close()
                raise ProtocolError("blob larger than %d bytes; stream it instead" % limit, action="get blob")
        return bytes(buf)


class BlobStream(VerifiedStream):
    """A blob download from a registry response."""

    def __init__(self, response, registry, repository, digest, expected_size=None):
        self._response = response
        self.registry = registry
        self.repository = repository
        self.digest = digest
        length = int_header(response.headers, "Content-Length")
        if expected_size is not None and length is not None and length != expected_size:
            response.close()
            raise DigestMismatchError("registry announces %d bytes, expected %d" % (length, expected_size),
                                      registry=registry, repository=repository, reference=digest,
                                      action="get blob")
        self.size = expected_size if expected_size is not None else length
        super().__init__(_BlobVerifier(registry, repository, digest, self.size))

    def close(self):
        self._response.close()

    def _chunks(self, chunk_size):
        try:
            yield from _body_chunks(self._response, chunk_size)
        except _BodyBroken as exc:
            raise _broken_body(self._verifier, exc)


class BlobsApi(ApiGroup):
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
        response = self.endpoint.request("HEAD", "/v2/%s/blobs/%s" % (repository, digest),
                                         scopes=pull_scopes(repository), expected=(200, 404), repository=repository,
                                         reference=digest, action="head blob")
        response.close()
        if response.status_code == 404:
            return None
        size = int_header(response.headers, "Content-Length")
        return size if size is not None else 0

    def get_blob(self, repository, digest, expected_size=None):
        validate_repository(repository)
        validate_digest(digest)
        response = self.endpoint.request("GET", "/v2/%s/blobs/%s" % (repository, digest),
                                         scopes=pull_scopes(repository), stream=True, repository=repository,
                                         reference=digest, action="get blob")
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
        endpoint = self.endpoint
        path = "/v2/%s/blobs/%s" % (repository, digest)
        verifier = _BlobVerifier(self.registry, repository, digest, expected_size)
        failures = 0
        while True:
            written = verifier.count
            headers = {"Range": "bytes=%d-" % written} if written else None
            response = endpoint.request("GET", path, scopes=pull_scopes(repository), expected=(200, 206),
                                        headers=headers, stream=True, repository=repository,
                                        reference=digest, action="get blob")
            skip = written if response.status_code == 200 else 0  # Range ignored: drop what we have
            if verifier.size is None and response.status_code == 200:
                verifier.size = int_header(response.headers, "Content-Length")
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
                if failures > endpoint.retries:
                    raise _broken_body(verifier, exc)
                endpoint.sleep(endpoint.backoff(failures - 1))
            finally:
                response.close()
        verifier.finish()
        return verifier.count

    def delete_blob(self, repository, digest):
        validate_repository(repository)
        validate_digest(digest)
        response = self.endpoint.request("DELETE", "/v2/%s/blobs/%s" % (repository, digest),
                                         scopes=delete_scopes(repository), expected=(200, 202, 204),
                                         repository=repository, reference=digest, action="delete blob")
        response.close()
        return True


__all__ = ["BlobStream", "BlobsApi", "MAX_CONFIG_SIZE", "VerifiedStream"]
