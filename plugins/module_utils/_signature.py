# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Cosign-compatible, key-based image signatures: read, verify and write them.

Written from cosign's published signature specification (specs/SIGNATURE_SPEC.md in
sigstore/cosign) and checked against signatures cosign made (tests/unit/.../fixtures/cosign):

- The signed *payload* is a simple-signing JSON document
  (``application/vnd.dev.cosign.simplesigning.v1+json``) naming the image digest in
  ``critical.image.docker-manifest-digest``; user annotations go to ``optional``.
- The base64 signature over the payload bytes is the layer annotation
  ``dev.cosignproject.cosign/signature``.
- Tag scheme: one OCI image manifest tagged ``sha256-<hex>.sig`` whose layers are payloads
  (several signatures = several layers). Attestations use ``.att``, SBOMs ``.sbom``.
- Referrer scheme (OCI 1.1): a manifest with ``subject`` = the image and artifact type
  ``application/vnd.dev.cosign.artifact.sig.v1+json``, found through the referrers API or the
  ``sha256-<hex>`` fallback index.

A signature counts as verified only when the signature over the payload is valid for one of
the keys AND the payload names the image's digest (else a signature of another image could be
copied next to this one). Keys: ECDSA P-256/P-384/P-521, RSA (PKCS #1 v1.5) and Ed25519.

Private keys are read from memory only: no temporary file, and no message repeats key
material or passphrase. Needs ``cryptography``; cosign's encrypted key format also ``PyNaCl``.
No Ansible imports.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections import namedtuple

try:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
except ImportError:
    HAS_CRYPTOGRAPHY = False
else:
    HAS_CRYPTOGRAPHY = True

try:
    from nacl.exceptions import CryptoError as _NaclCryptoError
    from nacl.secret import SecretBox
except ImportError:
    HAS_NACL = False
else:
    HAS_NACL = True

from ansible_collections.oci.registry.plugins.module_utils._copy import cosign_tag_manifest, merge_fallback_index
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    InvalidOptionError,
    NotFoundError,
    RegistryError,
)
from ansible_collections.oci.registry.plugins.module_utils._media import (
    OCI_EMPTY,
    OCI_EMPTY_DATA,
    OCI_EMPTY_DIGEST,
    OCI_MANIFEST,
    sha256_digest,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import fallback_tag

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
PAYLOAD_TYPE = "cosign container image signature"
SIGNATURE_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
ATTESTATION_ARTIFACT = "application/vnd.dev.cosign.artifact.att.v1+json"
SBOM_ARTIFACT = "application/vnd.dev.cosign.artifact.sbom.v1+json"
INTOTO = "application/vnd.in-toto+json"
DSSE = "application/vnd.dsse.envelope.v1+json"
SIGSTORE_BUNDLE_PREFIX = "application/vnd.dev.sigstore.bundle"
BUNDLE_PREDICATE_ANNOTATION = "dev.sigstore.bundle.predicateType"
PREDICATE_ANNOTATION = "predicateType"
SBOM_MEDIA_MARKERS = ("spdx", "cyclonedx", "syft")
SCHEMES = ("tag", "referrer")

ENCRYPTED_KEY_TYPES = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
# Payloads and attestation envelopes are small JSON documents; anything larger is not one.
_MAX_DOCUMENT = 4 * 1024 * 1024

REQUIREMENTS_HINT = "install the Python packages cryptography (and PyNaCl for cosign's encrypted keys) on the node"


class SignatureKeyError(InvalidOptionError):
    """A key cannot be read or used. Its message never contains key material or the passphrase."""

    def __init__(self, message, **kwargs):
        kwargs.setdefault("action", "load key")
        super().__init__(message, **kwargs)


def require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise SignatureKeyError("the Python package cryptography is missing", hint=REQUIREMENTS_HINT)


# ---------------------------------------------------------------- names and payloads

def signature_tag(digest, suffix="sig"):
    """cosign's tag-scheme name: ``sha256:abc`` -> ``sha256-abc.sig`` (``.att``, ``.sbom``)."""
    return "%s.%s" % (fallback_tag(digest), suffix)


def make_payload(digest, identity, annotations=None):
    """The simple-signing payload cosign writes, byte for byte (Go's json.Marshal: compact, struct order).

    ``annotations`` become ``optional``; cosign writes ``null`` when there are none.
    """
    document = {
        "critical": {
            "identity": {"docker-reference": identity},
            "image": {"docker-manifest-digest": digest},
            "type": PAYLOAD_TYPE,
        },
        "optional": dict(sorted((annotations or {}).items())) or None,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


Payload = namedtuple("Payload", ["digest", "identity", "type", "annotations"])


def parse_payload(raw):
    """Payload(digest, identity, type, annotations) of a simple-signing payload; ValueError when it is none."""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError, UnicodeDecodeError):
        raise ValueError("payload is not JSON")
    critical = data.get("critical") if isinstance(data, dict) else None
    if not isinstance(critical, dict):
        raise ValueError("payload has no critical section")
    image = critical.get("image") if isinstance(critical.get("image"), dict) else {}
    # containers/image treats the key case-insensitively (the spec's own example says Docker-manifest-digest)
    digest = next((value for key, value in image.items() if key.lower() == "docker-manifest-digest"), None)
    if not isinstance(digest, str):
        raise ValueError("payload names no docker-manifest-digest")
    identity = critical.get("identity") if isinstance(critical.get("identity"), dict) else {}
    optional = data.get("optional") if isinstance(data.get("optional"), dict) else {}
    return Payload(digest, identity.get("docker-reference"), critical.get("type"), optional)


def default_identity(registry, repository):
    """What cosign writes as ``docker-reference``: the repository with its registry, no tag."""
    return "%s/%s" % (registry, repository) if registry else repository


# ---------------------------------------------------------------- keys

def _read_key_text(value, what):
    """PEM text given inline, else the contents of the file ``value`` names."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or not value.strip():
        raise SignatureKeyError("%s is empty" % what)
    if "-----BEGIN" in value:
        return value
    path = os.path.expanduser(value.strip())
    if not os.path.isfile(path):
        raise SignatureKeyError("%s is neither PEM text nor an existing file: %s" % (what, path),
                                hint="give the PEM text or the path of a PEM file")
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace")


def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _describe(public_key):
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ecdsa-%s" % public_key.curve.name
    if isinstance(public_key, rsa.RSAPublicKey):
        return "rsa-%d" % public_key.key_size
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "ed25519"
    return None


_CURVE_HASHES = {"secp256r1": "SHA256", "secp384r1": "SHA384", "secp521r1": "SHA512"}


class PublicKey:
    """A verification key: ``fingerprint`` (``sha256:`` of the DER SubjectPublicKeyInfo), ``algorithm``."""

    def __init__(self, key):
        algorithm = _describe(key)
        if algorithm is None or algorithm == "ecdsa-secp224r1" or (
                algorithm.startswith("ecdsa-") and key.curve.name not in _CURVE_HASHES):
            raise SignatureKeyError("unsupported key type %s; use ECDSA P-256/P-384/P-521, RSA or Ed25519"
                                    % (algorithm or type(key).__name__))
        if algorithm.startswith("rsa-") and key.key_size < 2048:
            raise SignatureKeyError("RSA keys shorter than 2048 bits are refused (%s)" % algorithm)
        self.key = key
        self.algorithm = algorithm
        self.pem = key.public_bytes(serialization.Encoding.PEM,
                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
        self.fingerprint = "sha256:" + hashlib.sha256(_public_der(key)).hexdigest()

    def verify(self, payload, signature):
        """True when ``signature`` (bytes) is valid over ``payload`` (bytes)."""
        key = self.key
        try:
            if isinstance(key, ec.EllipticCurvePublicKey):
                # `cosign verify --key` hashes with SHA-256 whatever the curve; `cosign sign` with a
                # P-384/P-521 key uses the curve's hash (sigstore's default signer): accept both.
                names = ["SHA256"]
                if _CURVE_HASHES[key.curve.name] != "SHA256":
                    names.append(_CURVE_HASHES[key.curve.name])
                for name in names:
                    try:
                        key.verify(signature, payload, ec.ECDSA(getattr(hashes, name)()))
                        return True
                    except InvalidSignature:
                        continue
                return False
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
                return True
            key.verify(signature, payload)
            return True
        except (InvalidSignature, ValueError):
            return False


def load_public_key(value):
    """PublicKey from PEM text or a PEM file path; SignatureKeyError when unreadable or unsupported."""
    require_cryptography()
    text = _read_key_text(value, "public key")
    try:
        key = serialization.load_pem_public_key(text.strip().encode("ascii"))
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise SignatureKeyError("a public key is not a PEM public key (BEGIN PUBLIC KEY)",
                                hint="export the public key, for example with cosign public-key")
    return PublicKey(key)


def load_public_keys(values):
    keys = [load_public_key(value) for value in values or []]
    return list({key.fingerprint: key for key in keys}.values())


class PrivateKey:
    """A signing key. Holds the key object only: never its PEM text or the passphrase."""

    def __init__(self, key):
        self._key = key
        self.public_key = PublicKey(key.public_key())

    @property
    def fingerprint(self):
        return self.public_key.fingerprint

    def sign(self, payload):
        """Signature bytes over ``payload`` as cosign makes them (ASN.1 DER for ECDSA)."""
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            # SHA-256 whatever the curve: `cosign verify --key` hashes with SHA-256 unless told otherwise
            # (--signature-digest-algorithm), so this is what passes it by default.
            return key.sign(payload, ec.ECDSA(hashes.SHA256()))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        # Pure Ed25519: what `cosign verify --key` checks (cosign signs Ed25519ph only for Rekor entries).
        return key.sign(payload)

    def __repr__(self):
        return "PrivateKey(%s, %s)" % (self.public_key.algorithm, self.fingerprint)


def _decrypt_cosign_key(body, passphrase):
    """PKCS #8 DER inside cosign's encrypted key (scrypt key derivation, NaCl secretbox)."""
    if not HAS_NACL:
        raise SignatureKeyError("reading cosign's encrypted key format needs the Python package PyNaCl",
                                hint=REQUIREMENTS_HINT)
    try:
        envelope = json.loads(base64.b64decode("".join(body.split())))
        kdf, cipher = envelope["kdf"], envelope["cipher"]
        if kdf.get("name") != "scrypt" or cipher.get("name") != "nacl/secretbox":
            raise SignatureKeyError("cosign key uses %s/%s; only scrypt with nacl/secretbox is known"
                                    % (kdf.get("name"), cipher.get("name")))
        params = kdf["params"]
        n, r, p = int(params["N"]), int(params["r"]), int(params["p"])
        salt = base64.b64decode(kdf["salt"])
        nonce = base64.b64decode(cipher["nonce"])
        ciphertext = base64.b64decode(envelope["ciphertext"])
    except SignatureKeyError:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise SignatureKeyError("the cosign private key is damaged (its encrypted envelope cannot be read)")
    if n > 1 << 20 or r > 32 or p > 16:
        raise SignatureKeyError("the cosign private key asks for scrypt parameters beyond any cosign default")
    secret = hashlib.scrypt(passphrase, salt=salt, n=n, r=r, p=p, maxmem=256 * r * n + (1 << 20), dklen=32)
    try:
        return SecretBox(secret).decrypt(ciphertext, nonce)
    except _NaclCryptoError:
        raise SignatureKeyError("cannot decrypt the cosign private key: wrong key_passphrase",
                                hint="give the passphrase the key was created with (COSIGN_PASSWORD)")


def load_private_key(value, passphrase=None):
    """PrivateKey from PEM text or a path: PKCS #8 / SEC1 / PKCS #1 PEM (optionally encrypted) or cosign's key."""
    require_cryptography()
    text = _read_key_text(value, "private key")
    secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    block = _PEM_BLOCK.search(text)
    if block is None:
        raise SignatureKeyError("the private key is not PEM (no BEGIN/END lines)")
    try:
        if block.group(1) in ENCRYPTED_KEY_TYPES:
            der = _decrypt_cosign_key(block.group(2), secret or b"")
            key = serialization.load_der_private_key(der, password=None)
        else:
            key = serialization.load_pem_private_key(block.group(0).encode("ascii"), password=secret or None)
    except SignatureKeyError:
        raise
    except TypeError as err:
        # cryptography says "Password was not given but private key is encrypted" or the reverse
        if "not encrypted" in str(err):
            raise SignatureKeyError("key_passphrase was given but the private key is not encrypted")
        raise SignatureKeyError("the private key is encrypted: give key_passphrase")
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise SignatureKeyError("cannot read the private key (%s): wrong key_passphrase or not a private key"
                                % block.group(1))
    return PrivateKey(key)


# ---------------------------------------------------------------- reading what a registry holds

def _read_document(client, repository, descriptor):
    if descriptor.size is not None and descriptor.size > _MAX_DOCUMENT:
        raise ValueError("blob of %d bytes is too large to be a signature payload" % descriptor.size)
    with client.blobs.get_blob(repository, descriptor.digest, expected_size=descriptor.size) as stream:
        return stream.read_all(limit=_MAX_DOCUMENT)


def check_signature(payload_raw, signature_b64, keys, image_digest, identity=None):
    """Verification of one signature: dict(verified, key_fingerprint, identity, annotations, image_digest, reason).

    ``reason`` is None when verified, else the first thing that failed.
    """
    found = dict(verified=False, key_fingerprint=None, identity=None, annotations={}, image_digest=None,
                 reason=None)
    try:
        payload = parse_payload(payload_raw)
    except ValueError as err:
        found["reason"] = "not a cosign simple-signing payload: %s" % err
        return found
    found.update(identity=payload.identity, annotations=payload.annotations, image_digest=payload.digest)
    if not signature_b64:
        found["reason"] = "the layer has no %s annotation" % SIGNATURE_ANNOTATION
        return found
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (ValueError, binascii.Error):
        found["reason"] = "the signature annotation is not base64"
        return found
    if not keys:
        found["reason"] = "no keys given to verify with"
        return found
    key = next((key for key in keys if key.verify(payload_raw, signature)), None)
    if key is None:
        found["reason"] = "the signature does not verify with any of the %d key(s)" % len(keys)
        return found
    found["key_fingerprint"] = key.fingerprint
    if payload.digest != image_digest:
        found["reason"] = "the payload signs %s, not the image %s" % (payload.digest, image_digest)
    elif identity and payload.identity != identity:
        found["reason"] = "the payload identity %s is not the expected %s" % (payload.identity, identity)
    else:
        found["verified"] = True
    return found


def _signature_layers(client, repository, manifest_result, scheme, keys, image_digest, identity, payloads=True):
    """One entry per simple-signing layer; ``payloads=False`` does not read them (nothing to verify with)."""
    found = []
    for layer in manifest_result.manifest.layers:
        if layer.media_type != SIMPLE_SIGNING:
            continue
        entry = dict(scheme=scheme, digest=manifest_result.digest, layer_digest=layer.digest)
        if not payloads:
            entry.update(verified=False, key_fingerprint=None, identity=None, annotations={}, image_digest=None,
                         reason="no keys given to verify with")
            found.append(entry)
            continue
        try:
            raw = _read_document(client, repository, layer)
        except (RegistryError, ValueError) as err:
            entry.update(verified=False, key_fingerprint=None, identity=None, annotations={}, image_digest=None,
                         reason="payload unreadable: %s" % err)
        else:
            entry.update(check_signature(raw, (layer.annotations or {}).get(SIGNATURE_ANNOTATION), keys,
                                         image_digest, identity))
        found.append(entry)
    return found


def _predicate_types(client, repository, manifest_result):
    types = []
    manifest_annotations = manifest_result.manifest.data.get("annotations") or {}
    for layer in manifest_result.manifest.layers:
        annotations = layer.annotations or {}
        predicate = annotations.get(PREDICATE_ANNOTATION) or manifest_annotations.get(BUNDLE_PREDICATE_ANNOTATION)
        if not predicate and layer.media_type == DSSE:
            predicate = _envelope_predicate(client, repository, layer)
        if predicate:
            types.append(predicate)
    return types


def _envelope_predicate(client, repository, layer):
    """predicateType of the in-toto statement inside a DSSE envelope (None when unreadable)."""
    try:
        envelope = json.loads(_read_document(client, repository, layer))
        statement = json.loads(base64.b64decode(envelope.get("payload") or ""))
        return statement.get("predicateType")
    except (RegistryError, ValueError, TypeError, AttributeError, binascii.Error):
        return None


def _get_manifest(client, repository, reference):
    try:
        result = client.manifests.get_manifest(repository, reference)
    except NotFoundError:
        return None
    return result if result.manifest is not None and not result.manifest.is_index else None


def _referrer_kind(descriptor, manifest):
    artifact = descriptor.artifact_type or manifest.artifact_type or (
        manifest.config.media_type if manifest.config is not None else None) or ""
    if artifact == SIGNATURE_ARTIFACT:
        return "signature"
    if artifact in (ATTESTATION_ARTIFACT, INTOTO) or (
            artifact.startswith(SIGSTORE_BUNDLE_PREFIX) and
            (manifest.data.get("annotations") or {}).get(BUNDLE_PREDICATE_ANNOTATION)):
        return "attestation"
    if artifact == SBOM_ARTIFACT or any(marker in artifact.lower() for marker in SBOM_MEDIA_MARKERS):
        return "sbom"
    return None


def read_signatures(client, repository, digest, keys=(), identity=None, known_tags=None, signatures_only=False):
    """Everything cosign attaches to ``digest`` in ``repository``, verified against ``keys``.

    ``known_tags``: the repository's whole tag list when the caller has just read it; cosign's tags and
    the referrers fallback tag are then read only when listed (a cleanup asks about many images).
    ``signatures_only``: only what tells whether the image is signed - no attestations or SBOMs, and
    without ``keys`` no payloads (nothing could verify them); the other lists come back empty.
    Returns dict(digest, signatures, verified, attestations (sorted predicate types),
    attestation_details, sboms, referrers_via). Reports; raises only registry errors that stop reading.
    """
    def cosign_tag(suffix):
        tag = signature_tag(digest, suffix)
        if known_tags is not None and tag not in known_tags:
            return None
        return _get_manifest(client, repository, tag)

    payloads = bool(keys) or not signatures_only
    signatures, attestations, sboms = [], [], []
    sig = cosign_tag("sig")
    if sig is not None:
        signatures.extend(_signature_layers(client, repository, sig, "tag", keys, digest, identity, payloads))
    att = None if signatures_only else cosign_tag("att")
    if att is not None:
        attestations.extend(dict(scheme="tag", digest=att.digest, predicate_type=predicate)
                            for predicate in _predicate_types(client, repository, att))
    sbom = None if signatures_only else cosign_tag("sbom")
    if sbom is not None:
        sboms.extend(dict(scheme="tag", digest=sbom.digest, media_type=layer.media_type)
                     for layer in sbom.manifest.layers)
    listing = client.referrers.list_referrers(repository, digest, known_tags=known_tags)
    for descriptor in listing.descriptors:
        if signatures_only and descriptor.artifact_type and descriptor.artifact_type != SIGNATURE_ARTIFACT:
            continue
        referrer = _get_manifest(client, repository, descriptor.digest)
        if referrer is None:
            continue
        kind = _referrer_kind(descriptor, referrer.manifest)
        if kind == "signature":
            signatures.extend(_signature_layers(client, repository, referrer, "referrer", keys, digest, identity,
                                                payloads))
        elif signatures_only:
            continue
        elif kind == "attestation":
            attestations.extend(dict(scheme="referrer", digest=referrer.digest, predicate_type=predicate)
                                for predicate in _predicate_types(client, repository, referrer))
        elif kind == "sbom":
            sboms.extend(dict(scheme="referrer", digest=referrer.digest, media_type=layer.media_type)
                         for layer in referrer.manifest.layers)
    return dict(
        digest=digest,
        signatures=signatures,
        verified=any(entry["verified"] for entry in signatures),
        attestations=sorted({entry["predicate_type"] for entry in attestations}),
        attestation_details=attestations,
        sboms=sboms,
        referrers_via=listing.via,
    )


# ---------------------------------------------------------------- writing

def _same_annotations(found, wanted):
    return dict(found or {}) == dict(wanted or {})


def existing_signature(status, key, scheme, annotations):
    """The verified signature by ``key`` in ``scheme`` with exactly ``annotations``, or None."""
    for entry in status["signatures"]:
        if (entry["verified"] and entry["scheme"] == scheme and entry["key_fingerprint"] == key.fingerprint
                and _same_annotations(entry["annotations"], annotations)):
            return entry
    return None


def _layer_descriptor(payload, signature):
    return {
        "mediaType": SIMPLE_SIGNING,
        "size": len(payload),
        "digest": sha256_digest(payload),
        "annotations": {SIGNATURE_ANNOTATION: base64.b64encode(signature).decode("ascii")},
    }


def _dumps(document):
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def tag_manifest(existing_layers, layer):
    """(manifest bytes, config bytes) of the ``.sig`` manifest: the layers already there plus ``layer``."""
    # Signatures by several keys share one payload blob: layers differ only in their annotation.
    return cosign_tag_manifest([entry for entry in existing_layers if entry != layer] + [layer])


def referrer_manifest(layer, subject):
    """Manifest bytes of an OCI 1.1 signature referrer, shaped as cosign's ``WriteReferrer`` makes it."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SIGNATURE_ARTIFACT,
        "config": {"mediaType": OCI_EMPTY, "digest": OCI_EMPTY_DIGEST, "size": len(OCI_EMPTY_DATA)},
        "layers": [layer],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size},
    }
    return _dumps(manifest)


def sign_image(client, repository, subject, key, scheme="tag", annotations=None, identity=None,
               check_mode=False):
    """Sign the manifest ``subject`` (a Descriptor) with ``key`` unless such a signature is there.

    Returns dict(changed, scheme, digest (the signature manifest; None in check mode when one would be
    written), tag (tag scheme), key_fingerprint, fallback_index (True when the referrers fallback tag was
    written)).
    """
    if scheme not in SCHEMES:
        raise InvalidOptionError("scheme must be one of %s, not %s" % (", ".join(SCHEMES), scheme),
                                 action="sign")
    annotations = dict((str(k), str(v)) for k, v in (annotations or {}).items())
    identity = identity or default_identity(client.registry, repository)
    status = read_signatures(client, repository, subject.digest, keys=[key.public_key])
    result = dict(changed=False, scheme=scheme, digest=None, tag=None, key_fingerprint=key.fingerprint,
                  fallback_index=False, identity=identity)
    if scheme == "tag":
        result["tag"] = signature_tag(subject.digest)
    present = existing_signature(status, key.public_key, scheme, annotations)
    if present is not None:
        result["digest"] = present["digest"]
        return result
    result["changed"] = True
    if check_mode:
        return result
    payload = make_payload(subject.digest, identity, annotations)
    layer = _layer_descriptor(payload, key.sign(payload))
    client.uploads.upload_blob(repository, payload, digest=layer["digest"], size=len(payload))
    if scheme == "tag":
        current = _get_manifest(client, repository, result["tag"])
        existing = [d.to_dict() for d in current.manifest.layers] if current is not None else []
        raw, config = tag_manifest(existing, layer)
        client.uploads.upload_blob(repository, config, digest=sha256_digest(config), size=len(config))
        put = client.manifests.put_manifest(repository, result["tag"], raw, OCI_MANIFEST)
        result["digest"] = put.digest
        return result
    client.uploads.upload_blob(repository, OCI_EMPTY_DATA, digest=OCI_EMPTY_DIGEST, size=len(OCI_EMPTY_DATA))
    raw = referrer_manifest(layer, subject)
    digest = sha256_digest(raw)
    put = client.manifests.put_manifest(repository, digest, raw, OCI_MANIFEST)
    result["digest"] = digest
    if put.subject_digest is None:
        # No referrers API answered for the subject: list the signature in the fallback index.
        descriptor = {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(raw),
                      "artifactType": SIGNATURE_ARTIFACT}
        result["fallback_index"] = merge_fallback_index(client, repository, subject.digest, [descriptor])
    return result


__all__ = [
    "HAS_CRYPTOGRAPHY", "HAS_NACL", "PublicKey", "PrivateKey", "SignatureKeyError", "check_signature",
    "default_identity", "existing_signature", "load_private_key", "load_public_key", "load_public_keys",
    "make_payload", "parse_payload", "read_signatures", "referrer_manifest", "sign_image", "signature_tag",
    "tag_manifest",
]
