# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Manifests API group: read (size-capped, digest-verified), HEAD, put, delete, and untag."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import time
import uuid
from collections import namedtuple

try:
    from urllib.parse import urljoin
except ImportError:  # pragma: no cover
    from urlparse import urljoin  # type: ignore

from ansible_collections.oci.registry.plugins.module_utils._endpoint import (
    ApiGroup,
    delete_scopes,
    int_header,
    pull_scopes,
    push_scopes,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    DigestMismatchError,
    ManifestTooLargeError,
    NotFoundError,
    ProtocolError,
    RegistryError,
    TransportError,
    UnsupportedError,
)
from ansible_collections.oci.registry.plugins.module_utils._media import (
    DOCKER_SCHEMA1_SIGNED,
    MANIFEST_ACCEPT,
    MAX_MANIFEST_SIZE,
    OCI_EMPTY,
    OCI_EMPTY_DATA,
    OCI_EMPTY_DIGEST,
    OCI_MANIFEST,
    Descriptor,
    clean_media_type,
    compute_digest,
    dumps_canonical,
    parse_manifest,
    sha256_digest,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    is_digest,
    validate_digest,
    validate_reference,
    validate_repository,
    validate_tag,
)
from ansible_collections.oci.registry.plugins.module_utils._transport import requests_exceptions

ManifestResult = namedtuple("ManifestResult", ["digest", "media_type", "size", "raw", "manifest"])
PutResult = namedtuple("PutResult", ["digest", "subject_digest", "location"])

DELETED = (200, 202, 204)


class ManifestsApi(ApiGroup):
    """``blobs`` and ``uploads`` (given by the client) store the empty config of the placeholder
    manifest that untags on registries without tag delete."""

    def __init__(self, endpoint, blobs, uploads):
        super(ManifestsApi, self).__init__(endpoint)
        self._blobs = blobs
        self._uploads = uploads
        # repository -> False, or the RegistryError a delete there got (see _check_deletes_allowed).
        self._deletes_refused = {}

    def _read_manifest(self, response, repository, reference):
        length = int_header(response.headers, "Content-Length")
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
        response = self.endpoint.request("GET", "/v2/%s/manifests/%s" % (repository, reference),
                                         scopes=pull_scopes(repository), headers={"Accept": accept or MANIFEST_ACCEPT},
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
        response = self.endpoint.request("HEAD", "/v2/%s/manifests/%s" % (repository, reference),
                                         scopes=pull_scopes(repository), headers={"Accept": MANIFEST_ACCEPT},
                                         expected=(200, 404), repository=repository, reference=reference,
                                         action="head manifest")
        response.close()
        if response.status_code == 404:
            return None
        digest = (response.headers.get("Docker-Content-Digest") or "").strip()
        media_type = clean_media_type(response.headers.get("Content-Type")) or None
        size = int_header(response.headers, "Content-Length")
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
        response = self.endpoint.request("PUT", "/v2/%s/manifests/%s" % (repository, reference),
                                         scopes=push_scopes(repository), expected=(200, 201, 202, 204),
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
        try:
            response = self.endpoint.request("DELETE", "/v2/%s/manifests/%s" % (repository, digest),
                                             scopes=delete_scopes(repository), expected=DELETED,
                                             repository=repository, reference=digest, action="delete manifest")
        except UnsupportedError as err:
            self._deletes_refused[None] = err  # a registry setting: an untag later in the run refuses at once
            raise
        response.close()
        return True

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
        try:
            response = self.endpoint.request("DELETE", "/v2/%s/manifests/%s" % (repository, tag),
                                             scopes=delete_scopes(repository), expected=DELETED,
                                             repository=repository, reference=tag, action="delete tag")
        except RegistryError as err:
            if not (isinstance(err, UnsupportedError) or err.status in (400, 405)):
                raise
        else:
            response.close()
            return "tag"
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
            known = False
            try:
                response = self.endpoint.request("DELETE", "/v2/%s/manifests/%s" % (repository, probe),
                                                 scopes=delete_scopes(repository), expected=DELETED + (404,),
                                                 repository=repository, reference=tag, action="delete tag")
            except RegistryError as err:
                known = err
                known.message = ("nothing was changed: removing a tag from this registry needs a manifest delete, "
                                 "which it refuses")
            else:
                response.close()
            self._deletes_refused[repository] = known
            if isinstance(known, UnsupportedError):
                self._deletes_refused[None] = known
        if known:
            known.reference = tag
            raise known

    def _delete_tag_with_placeholder(self, repository, tag, original):
        if self._blobs.blob_exists(repository, OCI_EMPTY_DIGEST) is None:
            self._uploads.monolithic_upload(repository, OCI_EMPTY_DIGEST, OCI_EMPTY_DATA)
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


__all__ = ["ManifestResult", "ManifestsApi", "PutResult"]
