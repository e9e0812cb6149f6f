"""Deterministic test images: OCI layouts built on disk, pushed with skopeo or the raw helper.

Same arguments, same bytes, same digests. Every builder computes the digests it produces itself,
so tests compare what the code under test reports with an independent truth.

Building blocks: `OCILayout` (blobs + index.json + oci-layout), `build_*` functions that write into
a layout and return `Image` / `Index` records, and `push_*` / `seed_*` functions that build, push
and return those records with `repository` and `tags` filled in.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import tarfile
import tempfile

from .rawpush import RawRegistry, sha256_digest
from .skopeo import Skopeo

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"
SIGNATURE_ARTIFACT = "application/vnd.example.signature"
EMPTY_JSON = b"{}"
REF_NAME = "org.opencontainers.image.ref.name"
DEFAULT_CREATED = "2024-01-02T03:04:05Z"
# Fixed tar/gzip timestamps: the same content must give the same digest on every run.
FIXED_MTIME = 0
MIB = 1024 * 1024
DEFAULT_USER = object()


def canonical_json(data) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def deterministic_bytes(seed, size) -> bytes:
    """Incompressible bytes fixed by seed (Mersenne Twister: stable across Python versions)."""
    return random.Random(str(seed)).randbytes(size)


class _DeterministicReader(io.RawIOBase):
    """A file-like stream of deterministic_bytes, so big layers never sit in memory."""

    def __init__(self, seed, size):
        super().__init__()
        self._random = random.Random(str(seed))
        self._remaining = size

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), self._remaining)
        if count:
            buffer[:count] = self._random.randbytes(count)
            self._remaining -= count
        return count


class _HashingWriter(io.RawIOBase):
    def __init__(self, handle):
        super().__init__()
        self._handle = handle
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self):
        return True

    def write(self, data):
        self._handle.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


def descriptor(media_type, digest, size, **extra) -> dict:
    result = {"mediaType": media_type, "digest": digest, "size": size}
    result.update({key: value for key, value in extra.items() if value})
    return result


def parse_platform(text) -> dict:
    parts = text.split("/")
    platform = {"os": parts[0], "architecture": parts[1]}
    if len(parts) > 2:
        platform["variant"] = parts[2]
    return platform


@dataclasses.dataclass
class Image:
    """One manifest (image or artifact) with the digests the builder computed."""

    digest: str
    media_type: str
    size: int
    raw: bytes
    config: dict
    layers: list
    platform: dict | None = None
    artifact_type: str | None = None
    subject: dict | None = None
    repository: str | None = None
    tags: list = dataclasses.field(default_factory=list)
    # Artifacts pushed with the referrers tag schema: the index stored at tag sha256-<subject hex>.
    referrers_index: Index | None = None

    @property
    def manifest(self) -> dict:
        return json.loads(self.raw)

    @property
    def blob_digests(self) -> list:
        return [self.config["digest"]] + [layer["digest"] for layer in self.layers]

    def descriptor(self, **extra) -> dict:
        return descriptor(self.media_type, self.digest, self.size, **extra)


@dataclasses.dataclass
class Index:
    digest: str
    media_type: str
    size: int
    raw: bytes
    images: list
    attestations: list
    repository: str | None = None
    tags: list = dataclasses.field(default_factory=list)

    @property
    def manifest(self) -> dict:
        return json.loads(self.raw)

    @property
    def manifest_digests(self) -> list:
        return [entry["digest"] for entry in self.manifest["manifests"]]

    def descriptor(self, **extra) -> dict:
        return descriptor(self.media_type, self.digest, self.size, **extra)

    def image_for(self, platform) -> Image:
        wanted = parse_platform(platform)
        for image in self.images:
            if all(image.platform.get(key) == value for key, value in wanted.items()):
                return image
        raise KeyError(platform)


class OCILayout:
    """An OCI image layout directory; index.json lists the manifests tagged with a ref name."""

    def __init__(self, path):
        self.path = path
        self.blob_dir = os.path.join(path, "blobs", "sha256")
        os.makedirs(self.blob_dir, exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w", encoding="utf-8") as handle:
            json.dump({"imageLayoutVersion": "1.0.0"}, handle)
        self._refs = []
        self._write_index()

    def blob_path(self, digest):
        return os.path.join(self.blob_dir, digest.split(":", 1)[1])

    def add_blob(self, data: bytes) -> str:
        digest = sha256_digest(data)
        with open(self.blob_path(digest), "wb") as handle:
            handle.write(data)
        return digest

    def add_blob_stream(self, write_into) -> tuple:
        """write_into(file) streams the blob; returns (digest, size) without holding the blob in memory."""
        temporary = os.path.join(self.blob_dir, ".incoming")
        with open(temporary, "wb") as handle:
            hashing = _HashingWriter(handle)
            write_into(hashing)
        digest = "sha256:" + hashing.sha256.hexdigest()
        os.replace(temporary, self.blob_path(digest))
        return digest, hashing.size

    def tag(self, name, manifest_descriptor):
        entry = dict(manifest_descriptor)
        entry["annotations"] = dict(entry.get("annotations") or {}, **{REF_NAME: name})
        self._refs = [ref for ref in self._refs if ref["annotations"][REF_NAME] != name] + [entry]
        self._write_index()

    def _write_index(self):
        with open(os.path.join(self.path, "index.json"), "wb") as handle:
            handle.write(canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self._refs}))


# --- builders into a layout ------------------------------------------------------------------------

def _layer_tar(name, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mtime = FIXED_MTIME
        info.mode = 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def build_image(layout, *, layers=(1024,), layer_contents=None, labels=None, created=DEFAULT_CREATED, platform="linux/amd64",
                seed="oci.registry", docker=False, annotations=None, tag=None) -> Image:
    """A single-platform image: one gzip layer per entry of `layers` (sizes) or `layer_contents` (bytes).

    docker=True writes Docker v2 schema2 media types instead of OCI ones.
    """
    contents = list(layer_contents) if layer_contents is not None else [deterministic_bytes("%s/layer/%d" % (seed, i), size)
                                                                        for i, size in enumerate(layers)]
    layer_type = DOCKER_LAYER_GZIP if docker else OCI_LAYER_GZIP
    layer_descriptors, diff_ids, history = [], [], []
    for position, content in enumerate(contents):
        tar = _layer_tar("layer-%d/data.bin" % position, content)
        compressed = gzip.compress(tar, compresslevel=6, mtime=FIXED_MTIME)
        layer_descriptors.append(descriptor(layer_type, layout.add_blob(compressed), len(compressed)))
        diff_ids.append(sha256_digest(tar))
        history.append({"created": created, "created_by": "oci.registry test builder: layer %d of %s" % (position, seed)})
    platform_fields = parse_platform(platform)
    image_config = {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]}
    if labels:
        image_config["Labels"] = dict(labels)
    config = dict(platform_fields, created=created, config=image_config, rootfs={"type": "layers", "diff_ids": diff_ids}, history=history)
    config_raw = canonical_json(config)
    config_descriptor = descriptor(DOCKER_CONFIG if docker else OCI_CONFIG, layout.add_blob(config_raw), len(config_raw))
    media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
    manifest = {"schemaVersion": 2, "mediaType": media_type, "config": config_descriptor, "layers": layer_descriptors}
    if annotations:
        manifest["annotations"] = dict(annotations)
    raw = canonical_json(manifest)
    image = Image(layout.add_blob(raw), media_type, len(raw), raw, config_descriptor, layer_descriptors, platform_fields)
    if tag:
        layout.tag(tag, image.descriptor())
    return image


def build_attestation(layout, image: Image, *, seed="oci.registry", created=DEFAULT_CREATED) -> Image:
    """A BuildKit-style attestation manifest for `image` (in-toto SLSA provenance layer)."""
    statement = canonical_json({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "oci.registry/test", "digest": {"sha256": image.digest.split(":", 1)[1]}}],
        "predicate": {"builder": {"id": "oci.registry test builder"}, "metadata": {"buildStartedOn": created, "seed": seed}},
    })
    layer = descriptor(IN_TOTO, layout.add_blob(statement), len(statement),
                       annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"})
    config_raw = canonical_json({"architecture": "unknown", "os": "unknown", "config": {}, "created": created,
                                 "rootfs": {"type": "layers", "diff_ids": [sha256_digest(statement)]}})
    config = descriptor(OCI_CONFIG, layout.add_blob(config_raw), len(config_raw))
    raw = canonical_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]})
    return Image(layout.add_blob(raw), OCI_MANIFEST, len(raw), raw, config, [layer], {"os": "unknown", "architecture": "unknown"})


def build_index(layout, *, platforms=("linux/amd64", "linux/arm64/v8"), attestation=True, docker=False, seed="oci.registry",
                created=DEFAULT_CREATED, labels=None, layers=(1024,), tag=None) -> Index:
    """A multi-platform index; with attestation=True each image gets a BuildKit attestation entry.

    docker=True builds a Docker manifest list of Docker images (attestations are OCI-only, so none).
    """
    images, attestations, entries = [], [], []
    for platform in platforms:
        image = build_image(layout, layers=layers, labels=labels, created=created, platform=platform,
                            seed="%s/%s" % (seed, platform), docker=docker)
        images.append(image)
        entries.append(image.descriptor(platform=image.platform))
    if attestation and not docker:
        for image in images:
            attestation_image = build_attestation(layout, image, seed=seed, created=created)
            attestations.append(attestation_image)
            entries.append(attestation_image.descriptor(
                platform={"architecture": "unknown", "os": "unknown"},
                annotations={"vnd.docker.reference.digest": image.digest, "vnd.docker.reference.type": "attestation-manifest"}))
    media_type = DOCKER_LIST if docker else OCI_INDEX
    raw = canonical_json({"schemaVersion": 2, "mediaType": media_type, "manifests": entries})
    index = Index(layout.add_blob(raw), media_type, len(raw), raw, images, attestations)
    if tag:
        layout.tag(tag, index.descriptor())
    return index


def build_artifact(layout, subject, *, artifact_type=SIGNATURE_ARTIFACT, payload=b"signed by the oci.registry tests",
                   payload_media_type="application/vnd.example.signature.v1+json", annotations=None, tag=None) -> Image:
    """An OCI 1.1 artifact manifest (empty config, artifactType, subject) referring to `subject` (Image or Index)."""
    config = descriptor(OCI_EMPTY, layout.add_blob(EMPTY_JSON), len(EMPTY_JSON))
    layer = descriptor(payload_media_type, layout.add_blob(payload), len(payload))
    subject_descriptor = subject.descriptor()
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type, "config": config, "layers": [layer],
                "subject": subject_descriptor,
                "annotations": dict({"org.opencontainers.image.created": DEFAULT_CREATED}, **(annotations or {}))}
    raw = canonical_json(manifest)
    artifact = Image(layout.add_blob(raw), OCI_MANIFEST, len(raw), raw, config, [layer], artifact_type=artifact_type, subject=subject_descriptor)
    if tag:
        layout.tag(tag, artifact.descriptor())
    return artifact


def build_referrers_index(layout, referrers) -> Index:
    """The index the OCI 1.1 referrers tag schema keeps at tag `sha256-<subject hex>` on registries without the API."""
    entries = []
    for referrer in referrers:
        extra = {"artifactType": referrer.artifact_type}
        annotations = referrer.manifest.get("annotations")
        if annotations:
            extra["annotations"] = annotations
        entries.append(referrer.descriptor(**extra))
    raw = canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    return Index(layout.add_blob(raw), OCI_INDEX, len(raw), raw, [], [])


def build_big_image(layout, *, layer_count=4, layer_mib=64, seed="oci.registry/big", created=DEFAULT_CREATED, tag="latest") -> Image:
    """Benchmark image: layer_count uncompressed tar layers of layer_mib MiB of incompressible bytes, streamed to disk."""
    layer_descriptors, diff_ids = [], []
    for position in range(layer_count):
        size = layer_mib * MIB

        def write_layer(handle, position=position, size=size):
            with tarfile.open(fileobj=handle, mode="w|", format=tarfile.PAX_FORMAT) as archive:
                info = tarfile.TarInfo("layer-%d/data.bin" % position)
                info.size = size
                info.mtime = FIXED_MTIME
                info.mode = 0o644
                archive.addfile(info, io.BufferedReader(_DeterministicReader("%s/layer/%d" % (seed, position), size), buffer_size=MIB))

        digest, written = layout.add_blob_stream(write_layer)
        layer_descriptors.append(descriptor(OCI_LAYER_TAR, digest, written))
        # An uncompressed layer is its own diff.
        diff_ids.append(digest)
    config_raw = canonical_json({"architecture": "amd64", "os": "linux", "created": created, "config": {},
                                 "rootfs": {"type": "layers", "diff_ids": diff_ids}})
    config = descriptor(OCI_CONFIG, layout.add_blob(config_raw), len(config_raw))
    raw = canonical_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": layer_descriptors})
    image = Image(layout.add_blob(raw), OCI_MANIFEST, len(raw), raw, config, layer_descriptors, {"os": "linux", "architecture": "amd64"})
    if tag:
        layout.tag(tag, image.descriptor())
    return image


# --- pushing -------------------------------------------------------------------------------------------

def _user(env, variant, user):
    """Writers default to the full-access user where the variant has users."""
    if user is DEFAULT_USER:
        return "admin" if env["registries"][variant].get("users") else None
    return user


def push_layout(env, variant, layout_path, repository, tag, *, layout_tag=None, user=DEFAULT_USER):
    """skopeo copy --all --preserve-digests oci:LAYOUT:layout_tag docker://HOST/repository:tag."""
    Skopeo(env).copy("oci:%s:%s" % (layout_path, layout_tag or tag), Skopeo(env).reference(variant, repository, tag),
                     dest_variant=variant, dest_user=_user(env, variant, user))


def push_layout_raw(env, variant, layout_path, manifests, repository, tags, *, user=DEFAULT_USER):
    """Push built manifests (children first) and their blobs from a layout with plain HTTP calls; tag the last one."""
    layout = OCILayout.__new__(OCILayout)
    layout.blob_dir = os.path.join(layout_path, "blobs", "sha256")
    with RawRegistry(env, variant, _user(env, variant, user)) as registry:
        for manifest in manifests:
            for digest in getattr(manifest, "blob_digests", []):
                registry.push_blob(repository, path=layout.blob_path(digest), digest=digest)
            registry.put_manifest(repository, manifest.digest, manifest.raw, manifest.media_type)
        for tag in tags:
            registry.put_manifest(repository, tag, manifests[-1].raw, manifests[-1].media_type)


class _Workdir:
    def __init__(self, layout_dir):
        self._temporary = None if layout_dir else tempfile.mkdtemp(prefix="oci-registry-layout-")
        self.path = layout_dir or self._temporary

    def __enter__(self):
        return OCILayout(self.path)

    def __exit__(self, *exc):
        if self._temporary:
            shutil.rmtree(self._temporary, ignore_errors=True)


def push_oci_image(env, variant, repository, tag="latest", *, user=DEFAULT_USER, layout_dir=None, **build_options) -> Image:
    """Build with build_image(**build_options) and push with skopeo; returns the Image with repository/tags set."""
    with _Workdir(layout_dir) as layout:
        image = build_image(layout, tag=tag, **build_options)
        push_layout(env, variant, layout.path, repository, tag, user=user)
    image.repository, image.tags = repository, [tag]
    return image


def push_docker_image(env, variant, repository, tag="latest", *, user=DEFAULT_USER, layout_dir=None, **build_options) -> Image:
    """A Docker v2 schema2 image (Docker media types throughout); see build_image.

    skopeo's oci: transport skips index.json entries with Docker media types, so this one goes through the raw helper.
    """
    with _Workdir(layout_dir) as layout:
        image = build_image(layout, docker=True, **build_options)
        push_layout_raw(env, variant, layout.path, [image], repository, [tag], user=user)
    image.repository, image.tags = repository, [tag]
    return image


def push_index(env, variant, repository, tag="latest", *, user=DEFAULT_USER, layout_dir=None, docker=False, **build_options) -> Index:
    """A multi-arch index (default linux/amd64 + linux/arm64/v8 with attestations); see build_index.

    docker=True pushes a Docker manifest list through the raw helper (skopeo's oci: transport cannot read one).
    """
    with _Workdir(layout_dir) as layout:
        index = build_index(layout, tag=None if docker else tag, docker=docker, **build_options)
        if docker:
            push_layout_raw(env, variant, layout.path, index.images + [index], repository, [tag], user=user)
        else:
            push_layout(env, variant, layout.path, repository, tag, user=user)
    for image in index.images + index.attestations:
        image.repository = repository
    index.repository, index.tags = repository, [tag]
    return index


def push_artifact(env, variant, repository, subject, *, tag=None, referrers_tag=True, user=DEFAULT_USER, layout_dir=None,
                  existing_referrers=(), **build_options) -> Image:
    """Push an artifact whose subject (an already pushed Image/Index) lives in `repository`.

    With referrers_tag the referrers tag schema index (`sha256-<hex>`, listing existing_referrers and
    this artifact) is pushed too and returned as `artifact.referrers_index`.
    """
    with _Workdir(layout_dir) as layout:
        artifact = build_artifact(layout, subject, **build_options)
        push_layout_raw(env, variant, layout.path, [artifact], repository, [tag] if tag else [], user=user)
        artifact.repository, artifact.tags = repository, [tag] if tag else []
        if referrers_tag:
            referrers_index = build_referrers_index(layout, list(existing_referrers) + [artifact])
            fallback_tag = subject.digest.replace(":", "-")
            with RawRegistry(env, variant, _user(env, variant, user)) as registry:
                registry.put_manifest(repository, fallback_tag, referrers_index.raw, referrers_index.media_type)
            referrers_index.repository, referrers_index.tags = repository, [fallback_tag]
            artifact.referrers_index = referrers_index
    return artifact


def tag_manifest(env, variant, repository, image, tags, *, user=DEFAULT_USER):
    """Point more tags at an already pushed manifest (PUT of the same bytes: no blob traffic)."""
    with RawRegistry(env, variant, _user(env, variant, user)) as registry:
        for tag in tags:
            registry.put_manifest(repository, tag, image.raw, image.media_type)
    image.tags = list(image.tags) + [tag for tag in tags if tag not in image.tags]
    return image


def seed_many_tags(env, variant, repository, count=250, *, prefix="tag-", user=DEFAULT_USER, **build_options) -> Image:
    """One image under `count` tags (prefix + zero-padded number, so lexical order = numeric order)."""
    image = push_oci_image(env, variant, repository, "%s%04d" % (prefix, 0), user=user, **build_options)
    tag_manifest(env, variant, repository, image, ["%s%04d" % (prefix, number) for number in range(1, count)], user=user)
    return image


def seed_many_repositories(env, variant, count=120, *, prefix="pagination/repo-", tag="latest", user=DEFAULT_USER, **build_options) -> list:
    """`count` repositories holding the same image (blobs mounted, not re-uploaded); returns the Images, sorted by name."""
    names = ["%s%04d" % (prefix, number) for number in range(count)]
    first = push_oci_image(env, variant, names[0], tag, user=user, **build_options)
    images = [first]
    with RawRegistry(env, variant, _user(env, variant, user)) as registry:
        for name in names[1:]:
            for digest in first.blob_digests:
                registry.mount_blob(name, digest, names[0])
            registry.put_manifest(name, tag, first.raw, first.media_type)
            images.append(dataclasses.replace(first, repository=name, tags=[tag]))
    return images
