"""An independent cosign-format signer for tests, over raw HTTP (rawpush) and the cryptography library.

Written from cosign's signature specification, separately from plugins/module_utils/_signature.py,
so that tests check the collection against another implementation. Also writes the broken cases
(tampered payload, a signature copied from another image) and attestations.

    python3 -m registries.cosign VARIANT REPOSITORY DIGEST KEY [--identity X] [--annotation K=V]
        [--payload-digest D] [--tamper] [--attestation PREDICATE_TYPE] [--user USER]
"""

from __future__ import annotations

import argparse
import base64
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
EMPTY = b"{}"


def sign_bytes(private, payload):
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return private.sign(payload, ec.ECDSA(hashes.SHA256()))
    if isinstance(private, rsa.RSAPrivateKey):
        return private.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    return private.sign(payload)


def payload_for(digest, identity, annotations=None):
    return json.dumps({"critical": {"identity": {"docker-reference": identity},
                                    "image": {"docker-manifest-digest": digest},
                                    "type": "cosign container image signature"},
                       "optional": annotations or None}, separators=(",", ":")).encode()


def attach(registry, repository, tag, layers):
    """An OCI manifest tagged ``tag`` with an empty config and (media type, bytes, annotations) layers."""
    config_digest = registry.push_blob(repository, EMPTY)
    descriptors = []
    for media_type, data, annotations in layers:
        descriptor = {"mediaType": media_type, "size": len(data), "digest": registry.push_blob(repository, data)}
        if annotations:
            descriptor["annotations"] = annotations
        descriptors.append(descriptor)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(EMPTY),
                           "digest": config_digest},
                "layers": descriptors}
    return registry.put_manifest(repository, tag, json.dumps(manifest).encode(), OCI_MANIFEST)


def sign_tag(registry, repository, digest, private, identity, annotations=None, payload_digest=None, tamper=False):
    """Write ``sha256-<hex>.sig`` for ``digest``; ``payload_digest`` signs another digest, ``tamper`` edits the
    payload after signing. Returns the signature manifest digest."""
    payload = payload_for(payload_digest or digest, identity, annotations)
    signature = base64.b64encode(sign_bytes(private, payload)).decode()
    if tamper:
        payload = payload.replace(b'"type"', b'"type" ', 1)
    return attach(registry, repository, digest.replace(":", "-") + ".sig",
                  [(SIMPLE_SIGNING, payload, {SIGNATURE_ANNOTATION: signature})])


def attest_tag(registry, repository, digest, predicate_type):
    statement = {"_type": "https://in-toto.io/Statement/v1", "predicateType": predicate_type,
                 "subject": [{"digest": {"sha256": digest.split(":")[1]}}], "predicate": {}}
    envelope = json.dumps({"payloadType": "application/vnd.in-toto+json",
                           "payload": base64.b64encode(json.dumps(statement).encode()).decode(),
                           "signatures": []}).encode()
    return attach(registry, repository, digest.replace(":", "-") + ".att",
                  [("application/vnd.dsse.envelope.v1+json", envelope, {"predicateType": predicate_type})])


def main(argv=None):
    from registries import ensure_started  # pylint: disable=import-outside-toplevel
    from registries.rawpush import RawRegistry  # pylint: disable=import-outside-toplevel
    parser = argparse.ArgumentParser()
    parser.add_argument("variant")
    parser.add_argument("repository")
    parser.add_argument("digest")
    parser.add_argument("key", help="unencrypted PEM private key file")
    parser.add_argument("--identity")
    parser.add_argument("--annotation", action="append", default=[])
    parser.add_argument("--payload-digest")
    parser.add_argument("--tamper", action="store_true")
    parser.add_argument("--attestation")
    parser.add_argument("--user")
    args = parser.parse_args(argv)
    env = ensure_started()
    with open(args.key, "rb") as handle:
        private = serialization.load_pem_private_key(handle.read(), None)
    identity = args.identity or "%s/%s" % (env["registries"][args.variant]["host"], args.repository)
    annotations = dict(item.split("=", 1) for item in args.annotation)
    with RawRegistry(env, args.variant, args.user) as registry:
        result = {"signature": sign_tag(registry, args.repository, args.digest, private, identity, annotations,
                                        args.payload_digest, args.tamper)}
        if args.attestation:
            result["attestation"] = attest_tag(registry, args.repository, args.digest, args.attestation)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
