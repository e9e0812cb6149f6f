"""Cosign-compatible signatures: cosign-made fixtures, an independent verifier, and real registries.

The independent checks below use the ``cryptography`` library and ``json`` directly, written
from cosign's specification (specs/SIGNATURE_SPEC.md), not through _signature.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._signature import (
    SignatureKeyError,
    check_signature,
    load_private_key,
    load_public_key,
    make_payload,
    read_signatures,
    sign_image,
    signature_tag,
)
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.cosign import attest_tag
from ansible_collections.oci.registry.tests.registries.rawpush import RawRegistry

FIXTURES = Path(__file__).parent / "fixtures" / "cosign"
# The digest of fixtures/cosign/image.manifest.json, which every containers/image fixture signs.
FIXTURE_DIGEST = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"
COSIGN_PUB = str(FIXTURES / "containers-image-cosign.pub")
OTHER_PUB = str(FIXTURES / "containers-image-cosign2.pub")
SIGSTORE_PREFIX = b"\x00sigstore-json\n"


def fixture_signature(name):
    """(payload bytes, base64 signature) from a containers/image sigstore signature file."""
    raw = (FIXTURES / name).read_bytes()
    assert raw.startswith(SIGSTORE_PREFIX)
    data = json.loads(raw[len(SIGSTORE_PREFIX):])
    assert data["mimeType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    return base64.b64decode(data["payload"]), data["annotations"]["dev.cosignproject.cosign/signature"]


@pytest.fixture
def hsign_repo(request):
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    return "hsign/%s-%s" % (name, secrets.token_hex(4))


def client(env, variant="plain", user=None):
    registry = env["registries"][variant]
    password = registry["users"][user] if user else None
    return RegistryClient(registry["url"], username=user, password=password, ca_path=env["ca_path"])


def independent_verify(public_pem, payload, signature_b64):
    """cosign's rule for key-based verification, written against cryptography alone."""
    key = serialization.load_pem_public_key(public_pem.encode() if isinstance(public_pem, str) else public_pem)
    signature = base64.b64decode(signature_b64)
    if isinstance(key, ec.EllipticCurvePublicKey):
        # `cosign verify --key` uses SHA-256 for every curve (--signature-digest-algorithm defaults to sha256)
        key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(key, ed25519.Ed25519PublicKey)
        key.verify(signature, payload)


# ------------------------------------------------------------------ fixtures made by cosign


def test_fixture_manifest_has_the_signed_digest():
    raw = (FIXTURES / "image.manifest.json").read_bytes()
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == FIXTURE_DIGEST


@pytest.mark.parametrize("name", ["cosign-valid.signature", "cosign-valid-2.signature",
                                  "skopeo-valid-with-tag.signature"])
def test_cosign_made_signatures_verify(name):
    payload, signature = fixture_signature(name)
    found = check_signature(payload, signature, [load_public_key(COSIGN_PUB)], FIXTURE_DIGEST)
    assert found["verified"] is True, found["reason"]
    assert found["reason"] is None
    assert found["key_fingerprint"] == load_public_key(COSIGN_PUB).fingerprint
    assert found["image_digest"] == FIXTURE_DIGEST
    assert found["identity"].startswith("192.168.64.2:5000/")


def test_fixture_annotations_are_reported():
    payload, signature = fixture_signature("skopeo-valid-with-tag.signature")
    found = check_signature(payload, signature, [load_public_key(COSIGN_PUB)], FIXTURE_DIGEST)
    assert found["annotations"]["creator"].startswith("containers/image")


def test_wrong_key_fails_with_reason():
    payload, signature = fixture_signature("cosign-valid.signature")
    found = check_signature(payload, signature, [load_public_key(OTHER_PUB)], FIXTURE_DIGEST)
    assert found["verified"] is False
    assert "does not verify with any of the 1 key" in found["reason"]
    assert found["key_fingerprint"] is None


def test_unknown_key_signature_fails():
    payload, signature = fixture_signature("unknown-cosign-key.signature")
    keys = [load_public_key(COSIGN_PUB), load_public_key(OTHER_PUB)]
    found = check_signature(payload, signature, keys, FIXTURE_DIGEST)
    assert found["verified"] is False
    assert "2 key(s)" in found["reason"]


def test_signature_over_another_digest_fails():
    modified = (FIXTURES / "modified.manifest.json").read_bytes()
    other_digest = "sha256:" + hashlib.sha256(modified).hexdigest()
    payload, signature = fixture_signature("cosign-valid.signature")
    found = check_signature(payload, signature, [load_public_key(COSIGN_PUB)], other_digest)
    assert found["verified"] is False
    assert found["key_fingerprint"] is not None  # the signature itself is good
    assert found["reason"] == "the payload signs %s, not the image %s" % (FIXTURE_DIGEST, other_digest)


def test_tampered_payload_fails():
    payload, signature = fixture_signature("cosign-valid.signature")
    tampered = payload.replace(b"cosign-signed-single-sample", b"cosign-signed-single-sampl3")
    assert tampered != payload
    found = check_signature(tampered, signature, [load_public_key(COSIGN_PUB)], FIXTURE_DIGEST)
    assert found["verified"] is False
    assert "does not verify" in found["reason"]


def test_wrong_identity_fails():
    payload, signature = fixture_signature("cosign-valid.signature")
    key = load_public_key(COSIGN_PUB)
    found = check_signature(payload, signature, [key], FIXTURE_DIGEST, identity="example.com/other")
    assert found["verified"] is False
    assert found["reason"] == ("the payload identity 192.168.64.2:5000/cosign-signed-single-sample is not "
                               "the expected example.com/other")
    right = check_signature(payload, signature, [key], FIXTURE_DIGEST,
                            identity="192.168.64.2:5000/cosign-signed-single-sample")
    assert right["verified"] is True


def test_public_key_as_text_equals_path():
    text = Path(COSIGN_PUB).read_text()
    assert load_public_key(text).fingerprint == load_public_key(COSIGN_PUB).fingerprint
    der = serialization.load_pem_public_key(text.encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert load_public_key(text).fingerprint == "sha256:" + hashlib.sha256(der).hexdigest()


@pytest.mark.parametrize("name", ["cosign-encrypted-ec.key", "cosign-encrypted-rsa.key", "sigstore-encrypted.key"])
def test_cosign_encrypted_keys_from_cosign_tests_load(name):
    key = load_private_key(str(FIXTURES / name), "hello")
    payload = make_payload("sha256:" + "1" * 64, "example.com/app")
    independent_verify(key.public_key.pem, payload, base64.b64encode(key.sign(payload)))


def test_cosign_key_wrong_passphrase_is_one_clean_line():
    with pytest.raises(SignatureKeyError) as caught:
        load_private_key(str(FIXTURES / "sigstore-encrypted.key"), "not-the-passphrase-xyz")
    text = str(caught.value)
    assert "wrong key_passphrase" in text
    assert "not-the-passphrase-xyz" not in text and "\n" not in text


def test_encrypted_pkcs8_needs_passphrase():
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(b"s3cret-pass")).decode()
    assert load_private_key(pem, "s3cret-pass").fingerprint == load_public_key(
        private.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode()).fingerprint
    with pytest.raises(SignatureKeyError, match="encrypted: give key_passphrase"):
        load_private_key(pem)
    with pytest.raises(SignatureKeyError) as caught:
        load_private_key(pem, "wrong-pass")
    assert "wrong-pass" not in str(caught.value) and "PRIVATE KEY-----" not in str(caught.value)


@pytest.mark.parametrize("name", ["pkcs8-ec-p256.key", "pkcs8-ed25519.key", "sec1-ec-p384.key"])
def test_our_signatures_verify_independently(name):
    key = load_private_key(str(FIXTURES / name))
    payload = make_payload("sha256:" + "2" * 64, "example.com/app", {"build": "42"})
    signature = base64.b64encode(key.sign(payload))
    independent_verify(key.public_key.pem, payload, signature)
    assert check_signature(payload, signature.decode(), [key.public_key], "sha256:" + "2" * 64)["verified"]


def test_rsa_signature_verifies_independently():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    key = load_private_key(pem)
    payload = make_payload("sha256:" + "3" * 64, "example.com/app")
    independent_verify(key.public_key.pem, payload, base64.b64encode(key.sign(payload)))


def test_payload_is_byte_for_byte_what_cosign_writes():
    # cosign-valid.signature's payload was written by cosign for this digest and identity, without annotations.
    payload, dummy = fixture_signature("cosign-valid.signature")
    assert make_payload(FIXTURE_DIGEST, "192.168.64.2:5000/cosign-signed-single-sample") == payload


def test_unsupported_and_unreadable_keys():
    small = ec.generate_private_key(ec.SECP224R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(SignatureKeyError, match="unsupported key type"):
        load_public_key(small)
    with pytest.raises(SignatureKeyError, match="neither PEM text nor an existing file"):
        load_public_key("/nonexistent/cosign.pub")
    with pytest.raises(SignatureKeyError, match="not a PEM public key"):
        load_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


# ------------------------------------------------------------------ real registries


def push_cosign_fixture_signatures(c, repository, names):
    """Store cosign-made payloads and signatures as cosign's tag scheme does, byte for byte."""
    layers = []
    for name in names:
        payload, signature = fixture_signature(name)
        digest = c.uploads.upload_blob(repository, payload).digest
        layers.append({"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": len(payload),
                       "digest": digest, "annotations": {"dev.cosignproject.cosign/signature": signature}})
    rootfs = {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]}
    config = json.dumps({"architecture": "", "os": "", "rootfs": rootfs, "config": {}}).encode()
    config_digest = c.uploads.upload_blob(repository, config).digest
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config),
                           "digest": config_digest}, "layers": layers}
    c.manifests.put_manifest(repository, signature_tag(FIXTURE_DIGEST), json.dumps(manifest).encode(),
                             "application/vnd.oci.image.manifest.v1+json")


def test_cosign_fixtures_in_a_registry_are_found_and_verified(registries, hsign_repo):
    with client(registries) as c:
        push_cosign_fixture_signatures(c, hsign_repo, ["cosign-valid.signature", "unknown-cosign-key.signature"])
        status = read_signatures(c, hsign_repo, FIXTURE_DIGEST, keys=[load_public_key(COSIGN_PUB)])
    assert status["verified"] is True
    assert [entry["verified"] for entry in status["signatures"]] == [True, False]
    assert {entry["scheme"] for entry in status["signatures"]} == {"tag"}
    assert status["referrers_via"] == "none"
    assert status["attestations"] == [] and status["sboms"] == []


def test_unsigned_image_reports_nothing(registries, hsign_repo):
    image = images.push_oci_image(registries, "plain", hsign_repo, "1.0", seed=hsign_repo)
    with client(registries) as c:
        status = read_signatures(c, hsign_repo, image.digest, keys=[load_public_key(COSIGN_PUB)])
    assert status["verified"] is False and status["signatures"] == []


@pytest.mark.parametrize("variant,user", [("plain", None), ("token", "admin")])
def test_sign_tag_scheme_writes_what_cosign_reads(registries, hsign_repo, skopeo, variant, user):
    image = images.push_oci_image(registries, variant, hsign_repo, "1.0", seed=hsign_repo)
    key = load_private_key(str(FIXTURES / "sigstore-encrypted.key"), "hello")
    with client(registries, variant, user) as c:
        subject = c.manifests.head_manifest(hsign_repo, "1.0")
        written = sign_image(c, hsign_repo, subject, key, annotations={"release": "1.0"})
        again = sign_image(c, hsign_repo, subject, key, annotations={"release": "1.0"})
        requests_before = c.request_count
        checked = sign_image(c, hsign_repo, subject, key, annotations={"release": "2.0"}, check_mode=True)
        status = read_signatures(c, hsign_repo, image.digest, keys=[key.public_key])
    assert written["changed"] is True and again["changed"] is False
    assert again["digest"] == written["digest"]
    assert checked["changed"] is True
    assert written["tag"] == "sha256-%s.sig" % image.digest.split(":")[1]
    assert status["verified"] is True and len(status["signatures"]) == 1
    assert requests_before > 0

    # Spec conformance, read back with skopeo (an independent client).
    host = registries["registries"][variant]["host"]
    manifest = json.loads(skopeo.inspect_raw(variant, hsign_repo, written["tag"], user=user))
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    assert set(layer["annotations"]) == {"dev.cosignproject.cosign/signature"}
    with client(registries, variant, user) as c:
        with c.blobs.get_blob(hsign_repo, layer["digest"]) as stream:
            payload = stream.read_all()
    document = json.loads(payload)
    assert document == {"critical": {"identity": {"docker-reference": "%s/%s" % (host, hsign_repo)},
                                     "image": {"docker-manifest-digest": image.digest},
                                     "type": "cosign container image signature"},
                        "optional": {"release": "1.0"}}
    independent_verify(key.public_key.pem, payload, layer["annotations"]["dev.cosignproject.cosign/signature"])


def test_second_signature_is_appended_to_the_sig_manifest(registries, hsign_repo):
    image = images.push_oci_image(registries, "plain", hsign_repo, "1.0", seed=hsign_repo)
    first = load_private_key(str(FIXTURES / "pkcs8-ec-p256.key"))
    second = load_private_key(str(FIXTURES / "pkcs8-ed25519.key"))
    with client(registries) as c:
        subject = c.manifests.head_manifest(hsign_repo, image.digest)
        sign_image(c, hsign_repo, subject, first)
        sign_image(c, hsign_repo, subject, second)
        both = read_signatures(c, hsign_repo, image.digest, keys=[first.public_key, second.public_key])
        only_second = read_signatures(c, hsign_repo, image.digest, keys=[second.public_key])
    assert [entry["verified"] for entry in both["signatures"]] == [True, True]
    assert [entry["key_fingerprint"] for entry in both["signatures"]] == [first.fingerprint, second.fingerprint]
    assert [entry["verified"] for entry in only_second["signatures"]] == [False, True]


def test_sign_referrer_scheme_uses_fallback_index(registries, hsign_repo, skopeo):
    image = images.push_oci_image(registries, "plain", hsign_repo, "1.0", seed=hsign_repo)
    key = load_private_key(str(FIXTURES / "sec1-ec-p384.key"))
    with client(registries) as c:
        subject = c.manifests.head_manifest(hsign_repo, "1.0")
        written = sign_image(c, hsign_repo, subject, key, scheme="referrer")
        again = sign_image(c, hsign_repo, subject, key, scheme="referrer")
        status = read_signatures(c, hsign_repo, image.digest, keys=[key.public_key])
    assert written["changed"] is True and written["fallback_index"] is True
    assert again["changed"] is False
    assert status["referrers_via"] == "tag"
    (entry,) = status["signatures"]
    assert entry["scheme"] == "referrer" and entry["verified"] is True and entry["digest"] == written["digest"]

    index = json.loads(skopeo.inspect_raw("plain", hsign_repo, "sha256-" + image.digest.split(":")[1]))
    assert [m["digest"] for m in index["manifests"]] == [written["digest"]]
    assert index["manifests"][0]["artifactType"] == "application/vnd.dev.cosign.artifact.sig.v1+json"
    referrer = json.loads(skopeo.inspect_raw("plain", hsign_repo, written["digest"]))
    assert referrer["artifactType"] == "application/vnd.dev.cosign.artifact.sig.v1+json"
    assert referrer["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert referrer["subject"]["digest"] == image.digest
    assert referrer["layers"][0]["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"


def test_attestations_and_sboms_are_reported(registries, hsign_repo):
    image = images.push_oci_image(registries, "plain", hsign_repo, "1.0", seed=hsign_repo)
    statement = {"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://slsa.dev/provenance/v0.2",
                 "subject": [], "predicate": {}}
    envelope = json.dumps({"payloadType": "application/vnd.in-toto+json",
                           "payload": base64.b64encode(json.dumps(statement).encode()).decode(),
                           "signatures": []}).encode()
    sbom = b'{"spdxVersion": "SPDX-2.3"}'
    with client(registries) as c:
        for tag, layer_type, body, annotations in (
                (signature_tag(image.digest, "att"), "application/vnd.dsse.envelope.v1+json", envelope, None),
                (signature_tag(image.digest, "sbom"), "text/spdx+json", sbom, None)):
            digest = c.uploads.upload_blob(hsign_repo, body).digest
            c.uploads.upload_blob(hsign_repo, b"{}")
            layer = {"mediaType": layer_type, "size": len(body), "digest": digest}
            if annotations:
                layer["annotations"] = annotations
            manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2,
                                   "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
                        "layers": [layer]}
            c.manifests.put_manifest(hsign_repo, tag, json.dumps(manifest).encode(),
                                     "application/vnd.oci.image.manifest.v1+json")
        status = read_signatures(c, hsign_repo, image.digest)
    assert status["attestations"] == ["https://slsa.dev/provenance/v0.2"]
    assert [entry["media_type"] for entry in status["sboms"]] == ["text/spdx+json"]
    assert status["verified"] is False


def test_p384_signature_made_with_the_curve_hash_is_accepted():
    # `cosign sign` with a P-384 key hashes with SHA-384 (sigstore's default signer for that curve).
    private = ec.generate_private_key(ec.SECP384R1())
    payload = make_payload("sha256:" + "4" * 64, "example.com/app")
    signature = base64.b64encode(private.sign(payload, ec.ECDSA(hashes.SHA384()))).decode()
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert check_signature(payload, signature, [load_public_key(public)], "sha256:" + "4" * 64)["verified"]


def test_signatures_only_reads_no_attestations_and_without_keys_no_payloads(registries, hsign_repo):
    """What a cleanup with keep_signed asks: is the image signed? The attestation tag and the payload blob are
    left unread (two requests less here); with keys the payload is read and verified as usual."""
    image = images.push_oci_image(registries, "plain", hsign_repo, "1.0", seed=hsign_repo)
    key = load_private_key(str(FIXTURES / "pkcs8-ec-p256.key"))
    with client(registries) as c:
        sign_image(c, hsign_repo, c.manifests.head_manifest(hsign_repo, "1.0"), key)
        with RawRegistry(registries, "plain") as raw:
            attest_tag(raw, hsign_repo, image.digest, "https://slsa.dev/provenance/v1")
        known = frozenset(c.tags.iter_tags(hsign_repo))
        start = c.request_count
        full = read_signatures(c, hsign_repo, image.digest, known_tags=known)
        full_requests = c.request_count - start
        start = c.request_count
        only = read_signatures(c, hsign_repo, image.digest, known_tags=known, signatures_only=True)
        only_requests = c.request_count - start
        verified = read_signatures(c, hsign_repo, image.digest, keys=[key.public_key], known_tags=known,
                                   signatures_only=True)
    assert full["attestations"] == ["https://slsa.dev/provenance/v1"] and only["attestations"] == []
    assert [s["digest"] for s in only["signatures"]] == [s["digest"] for s in full["signatures"]] != []
    assert only["signatures"][0]["reason"] == "no keys given to verify with" and only["verified"] is False
    assert full["signatures"][0]["annotations"] is not None and full["signatures"][0]["image_digest"] == image.digest
    assert only_requests == full_requests - 2
    assert verified["verified"] is True and verified["signatures"][0]["key_fingerprint"] == key.fingerprint
