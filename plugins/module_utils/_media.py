# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Media types, manifest and index models, platform selection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

from ansible_collections.oci.registry.plugins.module_utils._errors import NotFoundError, ProtocolError
from ansible_collections.oci.registry.plugins.module_utils._reference import Platform, parse_platform

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

# The empty JSON blob "{}" the OCI image spec uses as config of artifacts.
OCI_EMPTY_DATA = b"{}"
OCI_EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
IMAGE_MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
SCHEMA1_TYPES = (DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1)
MANIFEST_TYPES = INDEX_TYPES + IMAGE_MANIFEST_TYPES + SCHEMA1_TYPES

# Listing every modern type first keeps registries from down-converting to schema1;
# schema1 stays acceptable, at a lower preference, for very old images.
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST,
                             DOCKER_SCHEMA1_SIGNED + ";q=0.5", DOCKER_SCHEMA1 + ";q=0.5"])

MAX_MANIFEST_SIZE = 4 * 1024 * 1024

# Content types that say nothing about which manifest this is.
_GENERIC_TYPES = ("", "application/json", "text/plain", "application/octet-stream", "binary/octet-stream")

ATTESTATION_ANNOTATION = "vnd.docker.reference.type"


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compute_digest(data, algorithm="sha256"):
    if algorithm not in ("sha256", "sha512"):
        raise ValueError("unsupported digest algorithm %r" % (algorithm,))
    return "%s:%s" % (algorithm, hashlib.new(algorithm, data).hexdigest())


def new_hasher(digest):
    """A hashlib object for the algorithm of ``digest`` (sha256 if unknown)."""
    algorithm = digest.split(":", 1)[0] if digest and ":" in digest else "sha256"
    if algorithm not in ("sha256", "sha512"):
        algorithm = "sha256"
    return algorithm, hashlib.new(algorithm)


def clean_media_type(value):
    return (value or "").split(";", 1)[0].strip().lower()


class Descriptor(object):
    """An OCI content descriptor."""

    __slots__ = ("media_type", "digest", "size", "platform", "annotations", "artifact_type", "urls", "extra")

    def __init__(self, media_type, digest, size, platform=None, annotations=None, artifact_type=None, urls=None,
                 extra=None):
        self.media_type = media_type
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
        self.artifact_type = artifact_type
        self.urls = urls
        self.extra = extra

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict):
            raise ProtocolError("descriptor is not an object: %r" % (data,)[:200], action="parse descriptor")
        for key, kind in (("platform", dict), ("annotations", dict), ("urls", list)):
            if data.get(key) is not None and not isinstance(data.get(key), kind):
                raise ProtocolError("descriptor %s is not a JSON %s" % (key, "object" if kind is dict else "array"),
                                    action="parse descriptor")
        platform = data.get("platform") or {}
        if any(platform.get(key) is not None and not isinstance(platform.get(key), str)
               for key in ("os", "architecture", "variant", "os.version")):
            raise ProtocolError("descriptor platform fields must be strings", action="parse descriptor")
        known = ("mediaType", "digest", "size", "platform", "annotations", "artifactType", "urls")
        extra = dict((k, v) for k, v in data.items() if k not in known) or None
        return cls(
            media_type=data.get("mediaType"),
            digest=data.get("digest"),
            size=data.get("size"),
            platform=Platform.from_dict(data.get("platform")),
            annotations=data.get("annotations"),
            artifact_type=data.get("artifactType"),
            urls=data.get("urls"),
            extra=extra,
        )

    def to_dict(self):
        data = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform is not None:
            data["platform"] = self.platform.to_dict()
        if self.annotations:
            data["annotations"] = dict(self.annotations)
        if self.artifact_type:
            data["artifactType"] = self.artifact_type
        if self.urls:
            data["urls"] = list(self.urls)
        if self.extra:
            data.update(self.extra)
        return data

    def __eq__(self, other):
        return isinstance(other, Descriptor) and self.to_dict() == other.to_dict()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self.media_type, self.digest, self.size))

    def __repr__(self):
        return "Descriptor(%r, %r, %r%s)" % (self.media_type, self.digest, self.size,
                                             ", platform=%s" % self.platform if self.platform else "")


def is_attestation(descriptor):
    """BuildKit attestation manifests sit in indexes as platform unknown/unknown."""
    annotations = descriptor.annotations or {}
    if annotations.get(ATTESTATION_ANNOTATION) == "attestation-manifest":
        return True
    platform = descriptor.platform
    return bool(platform and platform.os == "unknown" and platform.architecture == "unknown"
                and ATTESTATION_ANNOTATION in annotations)


def _list_of(data, key):
    """``data[key]`` as a list ([] when absent); a registry sending anything else sent no manifest."""
    value = data.get(key) or []
    if not isinstance(value, list):
        raise ProtocolError("manifest field %s is not a JSON array" % key, action="parse manifest")
    return value


class _ManifestBase(object):
    """What every manifest kind answers, so callers never probe with getattr.

    An index has ``manifests`` and no ``config``/``layers``; an image has ``config`` (None for
    schema 1) and ``layers`` and no ``manifests``.
    """

    is_index = False

    def __init__(self, raw, data, media_type):
        self.raw = raw
        self.data = data
        self.media_type = media_type
        self.digest = sha256_digest(raw)
        self.size = len(raw)
        self.config = None
        self.layers = []
        self.manifests = []
        self.subject = None
        self.artifact_type = None
        self.annotations = {}

    def blobs(self):
        """Blobs the manifest references (config first, then layers); none for an index."""
        return ([self.config] if self.config is not None else []) + list(self.layers)

    def declared_platform(self):
        """The platform the manifest itself states (only schema 1 does); None otherwise."""
        return None

    def __repr__(self):
        return "%s(%s, %s)" % (type(self).__name__, self.media_type, self.digest)


class ImageManifest(_ManifestBase):
    """OCI image manifest or Docker v2 schema2 manifest (also OCI artifacts)."""

    def __init__(self, raw, data, media_type):
        super(ImageManifest, self).__init__(raw, data, media_type)
        if not isinstance(data.get("config"), dict):
            raise ProtocolError("image manifest without config descriptor", action="parse manifest")
        self.config = Descriptor.from_dict(data["config"])
        self.layers = [Descriptor.from_dict(layer) for layer in _list_of(data, "layers")]
        self.subject = Descriptor.from_dict(data["subject"]) if isinstance(data.get("subject"), dict) else None
        self.artifact_type = data.get("artifactType")
        self.annotations = data.get("annotations") or {}


class ImageIndex(_ManifestBase):
    """OCI image index or Docker manifest list."""

    is_index = True

    def __init__(self, raw, data, media_type):
        super(ImageIndex, self).__init__(raw, data, media_type)
        self.manifests = [Descriptor.from_dict(m) for m in _list_of(data, "manifests")]
        self.subject = Descriptor.from_dict(data["subject"]) if isinstance(data.get("subject"), dict) else None
        self.artifact_type = data.get("artifactType")
        self.annotations = data.get("annotations") or {}

    def image_manifests(self):
        return [m for m in self.manifests if not is_attestation(m)]

    def attestations(self):
        return [m for m in self.manifests if is_attestation(m)]


class Schema1Manifest(_ManifestBase):
    """Docker image manifest v2 schema 1: read-only, for inspection of very old images."""

    def __init__(self, raw, data, media_type):
        super(Schema1Manifest, self).__init__(raw, data, media_type)
        self.name = data.get("name")
        self.tag = data.get("tag")
        self.architecture = data.get("architecture")
        # fsLayers are listed newest first; layers are conventionally oldest first.
        self.layers = [Descriptor(DOCKER_LAYER, layer.get("blobSum"), None)
                       for layer in reversed(_list_of(data, "fsLayers")) if isinstance(layer, dict)]

    def declared_platform(self):
        if not isinstance(self.architecture, str) or not self.architecture:
            return None
        # Schema 1 images predate other operating systems in registries.
        return parse_platform({"os": "linux", "architecture": self.architecture})


def detect_media_type(data, media_type=None):
    media_type = clean_media_type(media_type)
    if media_type and media_type not in _GENERIC_TYPES:
        return media_type
    if isinstance(data, dict):
        if data.get("mediaType"):
            return data["mediaType"]
        if data.get("schemaVersion") == 1:
            return DOCKER_SCHEMA1_SIGNED if data.get("signatures") else DOCKER_SCHEMA1
        # OCI allows omitting mediaType; the shape tells the two apart.
        if "manifests" in data:
            return OCI_INDEX
        if "config" in data:
            return OCI_MANIFEST
    return media_type or None


def parse_manifest(raw, media_type=None):
    """Parse manifest bytes into ImageManifest, ImageIndex or Schema1Manifest."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("manifest is not valid JSON (%s)" % (exc,), action="parse manifest")
    if not isinstance(data, dict):
        raise ProtocolError("manifest is not a JSON object", action="parse manifest")
    if data.get("mediaType") is not None and not isinstance(data.get("mediaType"), str):
        raise ProtocolError("manifest mediaType is not a string", action="parse manifest")
    mtype = detect_media_type(data, media_type)
    if mtype in INDEX_TYPES:
        return ImageIndex(raw, data, mtype)
    if mtype in SCHEMA1_TYPES:
        return Schema1Manifest(raw, data, mtype)
    if mtype in IMAGE_MANIFEST_TYPES or "config" in data:
        return ImageManifest(raw, data, mtype)
    if "manifests" in data:
        return ImageIndex(raw, data, mtype)
    raise ProtocolError("unknown manifest media type %r" % (mtype,), action="parse manifest")


def index_platforms(index):
    return [str(m.platform) for m in index.image_manifests() if m.platform is not None]


def select_platform(index, platform):
    """The first image manifest in ``index`` whose platform matches ``platform``."""
    wanted = parse_platform(platform)
    for descriptor in index.image_manifests():
        if wanted.matches(descriptor.platform):
            return descriptor
    available = index_platforms(index)
    raise NotFoundError("no manifest for platform %s in the index" % (wanted,), action="select platform",
                        hint="available platforms: %s" % (", ".join(available) or "none"))


def config_platform(config):
    """The Platform an image configuration declares, or None when it names no os/architecture."""
    if not isinstance(config, dict) or not config.get("os") or not config.get("architecture"):
        return None
    return parse_platform({"os": config["os"], "architecture": config["architecture"],
                           "variant": config.get("variant")})


def group_tags_by_digest(pairs):
    """``[(tag, Descriptor or None)]`` as ``[{digest, media_type, size, tags}]``, sorted by digest and tag.

    A None descriptor (the tag went away between listing and reading it) is left out.
    """
    groups = {}
    for tag, descriptor in pairs:
        if descriptor is None:
            continue
        group = groups.setdefault(descriptor.digest, {"digest": descriptor.digest, "media_type": descriptor.media_type,
                                                      "size": descriptor.size, "tags": []})
        group["tags"].append(tag)
    return [dict(groups[digest], tags=sorted(groups[digest]["tags"])) for digest in sorted(groups)]


def dumps_canonical(data):
    """Compact JSON with stable key order, for manifests we create ourselves."""
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
