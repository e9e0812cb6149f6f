# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""registry_artifact's service: push local files as an OCI 1.1 artifact, pull one into a directory, delete one.

The manifest is built from the files alone (canonical JSON, no timestamps), so the same files give
the same digest and a repeated push finds its manifest in place and writes nothing. Uploading is
BlobWriter's, hashing ``file_digest``'s, writing a downloaded layer to a file BlobService's (atomic,
digest and size verified while streaming), the ``sha256-<hex>`` fallback index
``merge_fallback_index``'s and ``remove_from_fallback_index``'s. This file decides what a task means and what check mode predicts.

Pure Python on top of the registry client; no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import posixpath
import re

from ansible_collections.oci.registry.plugins.module_utils._blob_service import BlobService
from ansible_collections.oci.registry.plugins.module_utils._blob_writer import (
    BlobWriter,
    file_digest,
    validate_chunk_size,
)
from ansible_collections.oci.registry.plugins.module_utils._copy import merge_fallback_index, remove_from_fallback_index
from ansible_collections.oci.registry.plugins.module_utils._errors import NotFoundError
from ansible_collections.oci.registry.plugins.module_utils._media import (
    INDEX_TYPES,
    MAX_MANIFEST_SIZE,
    OCI_CONFIG,
    OCI_EMPTY,
    OCI_EMPTY_DATA,
    OCI_EMPTY_DIGEST,
    OCI_LAYER,
    OCI_MANIFEST,
    dumps_canonical,
    sha256_digest,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_reference,
    validate_repository,
    validate_tag,
)
from ansible_collections.oci.registry.plugins.module_utils._service import Outcome, ServiceError

TITLE_ANNOTATION = "org.opencontainers.image.title"
# What ORAS writes when an artifact with the empty config names no type.
DEFAULT_ARTIFACT_TYPE = "application/vnd.unknown.artifact.v1"
# RFC 6838 type/subtype, as the OCI image spec restricts media types.
MEDIA_TYPE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$")


def where(repository, reference):
    return "%s%s%s" % (repository, "@" if ":" in reference else ":", reference)


def check_media_type(value, name):
    if not isinstance(value, str) or not MEDIA_TYPE_RE.match(value):
        raise ServiceError("%s %r is not a media type; use type/subtype, for example application/vnd.example.v1+json"
                           % (name, value))
    return value


class Blob(object):
    """A file (or the empty config) to put into the repository, with its descriptor."""

    __slots__ = ("path", "name", "media_type", "digest", "size", "data")

    def __init__(self, media_type, digest, size, path=None, name=None, data=None):
        self.path = path
        self.name = name
        self.media_type = media_type
        self.digest = digest
        self.size = size
        self.data = data

    @property
    def source(self):
        return self.data if self.data is not None else self.path

    def descriptor(self, title=False):
        descriptor = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if title:
            descriptor["annotations"] = {TITLE_ANNOTATION: self.name}
        return descriptor

    def describe(self):
        return dict(name=self.name, path=self.path, digest=self.digest, size=self.size, media_type=self.media_type)


def _path_and_media_type(entry, option, default_media_type):
    """(path, media type) of a ``files`` entry or of ``config``: a path string or a dict {path, media_type}."""
    if isinstance(entry, dict):
        unknown = sorted(set(entry) - {"path", "media_type"})
        if unknown:
            raise ServiceError("%s entry has unknown keys %s; an entry is a path or a dict with path and media_type"
                               % (option, ", ".join(unknown)))
        path, media_type = entry.get("path"), entry.get("media_type")
    else:
        path, media_type = entry, None
    if not isinstance(path, str) or not path:
        raise ServiceError("%s entry %r has no path; give the path of a local file" % (option, entry))
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(path):
        raise ServiceError("%s %s does not exist or is not a regular file; give the path of an existing file on "
                           "the host that runs the task" % ("config file" if option == "config" else "file", path))
    return path, check_media_type(media_type or default_media_type, "media_type of %s" % path)


def _hashed(path, media_type, option):
    try:
        digest, size = file_digest(path)
    except (IOError, OSError) as err:
        raise ServiceError("cannot read %s %s: %s; fix its permissions" % (option, path, err.strerror or err))
    return Blob(media_type, digest, size, path=path, name=os.path.basename(path))


def local_files(files):
    """The ``files`` option as hashed Blobs (streamed, nothing read into memory); names must differ."""
    if not isinstance(files, list) or not files:
        raise ServiceError("files must be a non-empty list of paths (or dicts with path and media_type)")
    blobs = [_hashed(*_path_and_media_type(entry, "files", OCI_LAYER) + ("file",)) for entry in files]
    seen = {}
    for blob in blobs:
        if blob.name in seen:
            raise ServiceError("files %s and %s have the same name %s; a pull writes each file under its name, so "
                               "rename one" % (seen[blob.name], blob.path, blob.name))
        seen[blob.name] = blob.path
    return blobs


def config_blob(config):
    """The config Blob: a local file (``config``), else the OCI empty descriptor's ``{}``."""
    if config is None:
        return Blob(OCI_EMPTY, OCI_EMPTY_DIGEST, len(OCI_EMPTY_DATA), data=OCI_EMPTY_DATA)
    return _hashed(*_path_and_media_type(config, "config", OCI_CONFIG) + ("config",))


def safe_name(title, digest):
    """Relative path of a layer below the pull directory; refuses titles that would leave it."""
    if title is None or title == "":
        return digest.split(":", 1)[1]
    if not isinstance(title, str):
        raise ServiceError("layer %s has a title that is not a string; refusing to pull it" % digest)
    parts = title.split("/")
    if (title.startswith("/") or "\\" in title or "\0" in title or re.match(r"^[A-Za-z]:", title)
            or any(part in ("", ".", "..") for part in parts)):
        raise ServiceError("layer %s has the title %r, which is not a relative path inside dest; refusing to pull "
                           "an artifact that writes outside its directory" % (digest, title))
    return posixpath.join(*parts)


class ArtifactService(object):
    """One registry_artifact task on ``client`` (a LazyClient); ``check_mode`` predicts instead of writing;
    ``chunk_size`` goes to the BlobWriter."""

    def __init__(self, client, check_mode=False, chunk_size=None):
        self.client = client
        self.check_mode = check_mode
        self.chunk_size = validate_chunk_size(chunk_size)

    def apply(self, options, move=None):
        """Run the task the registry_artifact options describe; ``move(tmp, dest)`` puts a pulled file in place."""
        repository = validate_repository(options["repository"])
        tag = validate_tag(options["tag"]) if options.get("tag") is not None else None
        digest = validate_digest(options["digest"]) if options.get("digest") is not None else None
        files, dest = options.get("files"), options.get("dest")
        push_only = [name for name in ("artifact_type", "annotations", "config", "subject")
                     if options.get(name) is not None]
        if options.get("state", "present") == "absent":
            if files is not None or dest is not None or push_only:
                raise ServiceError("state=absent takes only repository and tag or digest; drop %s"
                                   % ", ".join((["files"] if files is not None else [])
                                               + (["dest"] if dest is not None else []) + push_only))
            if (tag is None) == (digest is None):
                raise ServiceError("state=absent needs exactly one of tag or digest: the artifact to delete")
            return self.absent(repository, tag or digest)
        if files is not None and dest is not None:
            raise ServiceError("files (push) and dest (pull) exclude each other; give one")
        if dest is not None:
            if push_only:
                raise ServiceError("%s only apply to a push (files); drop them to pull into dest"
                                   % ", ".join(push_only))
            if (tag is None) == (digest is None):
                raise ServiceError("pulling into dest needs exactly one of tag or digest: the artifact to pull")
            return self.pull(repository, tag or digest, dest, move)
        if files is None:
            raise ServiceError("state=present needs files (local files to push) or dest (a directory to pull into)")
        return self.push(repository, files, tag=tag, digest=digest, artifact_type=options.get("artifact_type"),
                         annotations=options.get("annotations"), config=options.get("config"),
                         subject=options.get("subject"))

    # ------------------------------------------------------------------ push

    @staticmethod
    def prepare(files, config=None, artifact_type=None):
        """(layer Blobs, config Blob, artifact type) from the local files, each hashed once, before any request."""
        layers = local_files(files)
        config = config_blob(config)
        if artifact_type is not None:
            check_media_type(artifact_type, "artifact_type")
        elif config.media_type == OCI_EMPTY:
            # OCI 1.1: an artifact with the empty config must say what it is.
            artifact_type = DEFAULT_ARTIFACT_TYPE
        return layers, config, artifact_type

    @staticmethod
    def manifest(layers, config, artifact_type=None, annotations=None, subject=None):
        """(manifest dict, bytes): canonical JSON without timestamps, so the same inputs give the same digest."""
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": [layer.descriptor(title=True) for layer in layers],
        }
        if artifact_type is not None:
            manifest["artifactType"] = artifact_type
        if annotations:
            if not isinstance(annotations, dict):
                raise ServiceError("annotations must be a dict of strings")
            manifest["annotations"] = dict((str(key), _annotation_value(value)) for key, value in annotations.items())
        if subject is not None:
            # As a manifest states its subject: media type, digest and size only.
            manifest["subject"] = {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size}
        raw = dumps_canonical(manifest)
        if len(raw) > MAX_MANIFEST_SIZE:
            raise ServiceError("the manifest would be %d bytes, more than the %d bytes registries accept; push "
                               "fewer files or shorter annotations" % (len(raw), MAX_MANIFEST_SIZE))
        return manifest, raw

    def push(self, repository, files, tag=None, digest=None, artifact_type=None, annotations=None, config=None,
             subject=None):
        """Push ``files`` as one artifact to ``tag`` (or by digest); writes nothing when it is already there."""
        layers, config_file, artifact_type = self.prepare(files, config, artifact_type)
        subject_descriptor = None
        if subject is not None:
            reference = validate_reference(subject)
            subject_descriptor = self.client.manifests.head_manifest(repository, reference)
            if subject_descriptor is None:
                return self._without_subject(repository, reference, tag, layers, artifact_type)
        manifest, raw = self.manifest(layers, config_file, artifact_type, annotations, subject_descriptor)
        new_digest = sha256_digest(raw)
        if digest is not None and digest != new_digest:
            raise ServiceError("the files build the manifest %s, not the given digest %s; drop digest or push the "
                               "files that digest was made of" % (new_digest, digest), digest=new_digest)
        target = tag or new_digest
        current = self.client.manifests.head_manifest(repository, target)
        previous = current.digest if current is not None else None
        manifest_changed = previous != new_digest

        result = dict(digest=new_digest, media_type=OCI_MANIFEST, artifact_type=artifact_type,
                      files=[layer.describe() for layer in layers], uploaded=[], fallback_index=False,
                      subject=subject_descriptor.digest if subject_descriptor is not None else None)
        if tag is not None:
            result.update(tag=tag, previous_digest=previous)
        if manifest_changed:
            missing = self._missing_blobs(repository, [config_file] + layers)
            result["uploaded"] = [blob.digest for blob in missing]
            if not self.check_mode:
                writer = BlobWriter(self.client, self.chunk_size)
                for blob in missing:
                    writer.write(repository, blob.digest, size=blob.size, source=blob.source)
                pushed = self.client.manifests.put_manifest(repository, target, raw, OCI_MANIFEST)
                if subject_descriptor is not None and pushed.subject_digest is None:
                    result["fallback_index"] = self._index(repository, subject_descriptor.digest, manifest, raw)
            elif subject_descriptor is not None:
                result["fallback_index"] = self._fallback_lacks(repository, subject_descriptor.digest, new_digest)
        elif subject_descriptor is not None and self._fallback_lacks(repository, subject_descriptor.digest,
                                                                     new_digest):
            # An earlier run stopped between its manifest and the fallback index: complete it.
            result["fallback_index"] = self.check_mode or self._index(repository, subject_descriptor.digest,
                                                                      manifest, raw)
        result["changed"] = manifest_changed or result["fallback_index"]
        shown = where(repository, target)
        if not result["changed"]:
            result["msg"] = "Artifact %s is already %s" % (shown, new_digest)
        else:
            result["msg"] = "Artifact %s %s %s" % (shown, "would be" if self.check_mode else "is now", new_digest)
        return Outcome(result, dict(repository=repository, tag=tag, digest=previous),
                       dict(repository=repository, tag=tag, digest=new_digest))

    def _without_subject(self, repository, reference, tag, layers, artifact_type):
        """Check mode after a check-mode push of the subject: it would be there, and so would the artifact."""
        if not self.check_mode:
            raise ServiceError("subject %s is not on %s; push the image first or fix subject (a tag or digest in "
                               "the same repository)" % (where(repository, reference), self.client.registry_url))
        result = dict(changed=True, digest=None, media_type=OCI_MANIFEST, artifact_type=artifact_type,
                      files=[layer.describe() for layer in layers], uploaded=[], fallback_index=False, subject=None,
                      msg="Artifact would be pushed once subject %s exists" % where(repository, reference))
        if tag is not None:
            result.update(tag=tag, previous_digest=None)
        return Outcome(result, dict(repository=repository, tag=tag, digest=None),
                       dict(repository=repository, tag=tag, digest=None))

    def _missing_blobs(self, repository, blobs):
        """Distinct blobs the repository lacks (one HEAD each): the only ones a push uploads."""
        missing, seen = [], set()
        for blob in blobs:
            if blob.digest in seen:
                continue
            seen.add(blob.digest)
            if self.client.blobs.blob_exists(repository, blob.digest) is None:
                missing.append(blob)
        return missing

    def _index(self, repository, subject_digest, manifest, raw):
        """List the artifact in the subject's ``sha256-<hex>`` fallback index (registries without OCI-Subject)."""
        descriptor = {"mediaType": OCI_MANIFEST, "digest": sha256_digest(raw), "size": len(raw)}
        if manifest.get("artifactType"):
            descriptor["artifactType"] = manifest["artifactType"]
        if manifest.get("annotations"):
            descriptor["annotations"] = manifest["annotations"]
        return merge_fallback_index(self.client, repository, subject_digest, [descriptor])

    def _fallback_lacks(self, repository, subject_digest, digest):
        """Would the fallback index need this artifact added (no referrers API, and not listed yet)?"""
        listed = self.client.referrers.list_referrers(repository, subject_digest)
        if listed.via == "api":
            return False
        return digest not in [descriptor.digest for descriptor in listed.descriptors]

    # ------------------------------------------------------------------ pull

    def pull(self, repository, reference, dest, move):
        """Write each layer of the artifact to ``dest/<title>``; files that already have the digest stay."""
        dest = os.path.abspath(os.path.expanduser(dest))
        if not os.path.isdir(dest):
            raise ServiceError("dest %s is not a directory; create it first (ansible.builtin.file state=directory)"
                               % dest)
        try:
            fetched = self.client.manifests.get_manifest(repository, reference)
        except NotFoundError:
            raise ServiceError("artifact %s is not on %s; check repository, tag and digest"
                               % (where(repository, reference), self.client.registry_url))
        manifest = fetched.manifest
        if manifest is None or manifest.is_index or manifest.config is None:
            raise ServiceError("%s is %s, not an artifact manifest; pull one of its manifests by digest"
                               % (where(repository, reference), fetched.media_type))
        planned, seen = [], {}
        for layer in manifest.layers:
            name = safe_name((layer.annotations or {}).get(TITLE_ANNOTATION), layer.digest)
            if name in seen:
                raise ServiceError("layers %s and %s both have the name %s; refusing to write one over the other"
                                   % (seen[name], layer.digest, name))
            seen[name] = layer.digest
            path = os.path.join(dest, *name.split("/"))
            self._check_inside(dest, path, name)
            planned.append((layer, name, path))

        downloads = BlobService(self.client, self.check_mode)
        files, changed = [], False
        for layer, name, path in planned:
            directory = os.path.dirname(path)
            if not os.path.isdir(directory):
                changed = True
                if self.check_mode:
                    files.append(dict(name=name, path=path, digest=layer.digest, size=layer.size,
                                      media_type=layer.media_type))
                    continue
                os.makedirs(directory)
            written = downloads.download(repository, layer.digest, path, move, expected_size=layer.size)
            changed = changed or written.changed
            files.append(dict(name=name, path=path, digest=layer.digest, size=layer.size,
                              media_type=layer.media_type))
        result = dict(changed=changed, digest=fetched.digest, media_type=fetched.media_type,
                      artifact_type=manifest.artifact_type or manifest.config.media_type, files=files)
        result["msg"] = "%s %s into %s" % (
            where(repository, reference),
            ("would be pulled" if self.check_mode else "pulled") if changed else "is already", dest)
        return Outcome(result, dict(dest=dest, digest=None if changed else fetched.digest),
                       dict(dest=dest, digest=fetched.digest))

    @staticmethod
    def _check_inside(dest, path, name):
        """A symbolic link already in dest must not carry a title outside it."""
        real_dest = os.path.realpath(dest)
        real = os.path.realpath(path)
        if os.path.commonpath([real_dest, real]) != real_dest:
            raise ServiceError("the title %r leads to %s, outside dest %s (through a symbolic link); refusing to pull"
                               % (name, real, dest))

    # ------------------------------------------------------------------ absent

    def absent(self, repository, reference):
        """Delete the artifact's manifest by digest (a tag is resolved first); missing is no change.

        A referrer also leaves its subject's fallback index, as the distribution spec asks of clients
        deleting on registries without the referrers API; the manifest goes first, so a registry that
        refuses deletes keeps both.
        """
        current = self.client.manifests.head_manifest(repository, reference)
        result = dict(changed=current is not None, digest=current.digest if current is not None else None,
                      fallback_index=False)
        if current is None:
            result["msg"] = "Artifact %s is already absent" % where(repository, reference)
        else:
            if current.media_type in INDEX_TYPES:
                raise ServiceError("%s is an index, not an artifact; delete it with oci.registry.registry_manifest"
                                   % where(repository, reference))
            result["media_type"] = current.media_type
            manifest = self.client.manifests.get_manifest_raw(repository, current.digest).manifest
            subject = manifest.subject.digest if manifest is not None and manifest.subject is not None else None
            indexed = subject is not None and self._fallback_lists(repository, subject, current.digest)
            result["subject"] = subject
            if self.check_mode:
                result["fallback_index"] = indexed
            else:
                self.client.manifests.delete_manifest(repository, current.digest)
                if indexed:
                    result["fallback_index"] = remove_from_fallback_index(self.client, repository, subject,
                                                                          current.digest)
            result["msg"] = "Artifact %s (%s) %s" % (where(repository, reference), current.digest,
                                                     "would be deleted" if self.check_mode else "deleted")
        return Outcome(result, dict(repository=repository, reference=reference, digest=result["digest"]),
                       dict(repository=repository, reference=reference, digest=None))

    def _fallback_lists(self, repository, subject_digest, digest):
        listed = self.client.referrers.list_referrers(repository, subject_digest)
        return listed.via == "tag" and digest in [descriptor.digest for descriptor in listed.descriptors]


def _annotation_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = ["ArtifactService", "DEFAULT_ARTIFACT_TYPE", "TITLE_ANNOTATION", "config_blob", "local_files",
           "safe_name"]
