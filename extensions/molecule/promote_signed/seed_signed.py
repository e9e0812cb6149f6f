# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seed the promote_signed scenario: a signed and attested release, an unsigned one.

The build signature is made by tests/registries/cosign.py (the cryptography library and raw HTTP,
following cosign's signature specification), not by the collection's code: the scenario checks the role against an
independent signer. Prints the seed JSON (env, digests, keys) for converge and verify.
"""

from __future__ import absolute_import, division, print_function

import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import serialization

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "extensions", "molecule", "shared"))

from registries import ensure_started  # noqa: E402  pylint: disable=import-error,wrong-import-position
from registries import images  # noqa: E402  pylint: disable=import-error,wrong-import-position
from registries.cosign import attest_tag, sign_tag  # noqa: E402  pylint: disable=import-error,wrong-import-position
from registries.rawpush import RawRegistry  # noqa: E402  pylint: disable=import-error,wrong-import-position
from seed import wipe  # noqa: E402  pylint: disable=import-error,wrong-import-position

FIXTURES = os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "fixtures", "cosign")
BUILD_KEY = os.path.join(FIXTURES, "pkcs8-ec-p256.key")
PROD_KEY = os.path.join(FIXTURES, "sigstore-encrypted.key")
SLSA = "https://slsa.dev/provenance/v1"


def public_pem(private):
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def cosign_public_pem(path, passphrase):
    """Public key of a cosign encrypted key, decrypted here (scrypt + NaCl secretbox), not by the collection."""
    from nacl.secret import SecretBox  # pylint: disable=import-outside-toplevel
    with open(path) as handle:
        body = "".join(line for line in handle.read().splitlines() if not line.startswith("-----"))
    envelope = json.loads(base64.b64decode(body))
    params = envelope["kdf"]["params"]
    secret = hashlib.scrypt(passphrase, salt=base64.b64decode(envelope["kdf"]["salt"]), n=params["N"], r=params["r"],
                            p=params["p"], maxmem=512 * 1024 * 1024, dklen=32)
    der = SecretBox(secret).decrypt(base64.b64decode(envelope["ciphertext"]), base64.b64decode(envelope["cipher"]["nonce"]))
    return public_pem(serialization.load_der_private_key(der, None))


def main():
    env = ensure_started()
    for variant, repository in (("plain", "molecule-signed/app"), ("plain", "molecule-signed/unsigned"),
                                ("plain2", "molecule-signed/prod"), ("plain2", "molecule-signed/refused")):
        wipe(env, variant, repository)
    with open(BUILD_KEY, "rb") as handle:
        build = serialization.load_pem_private_key(handle.read(), None)
    signed = images.push_index(env, "plain", "molecule-signed/app", "1.0", seed="molecule/signed/1.0")
    unsigned = images.push_oci_image(env, "plain", "molecule-signed/unsigned", "1.0", seed="molecule/signed/unsigned")
    with RawRegistry(env, "plain") as registry:
        identity = "%s/molecule-signed/app" % env["registries"]["plain"]["host"]
        sign_tag(registry, "molecule-signed/app", signed.digest, build, identity, {"built-by": "molecule"})
        attest_tag(registry, "molecule-signed/app", signed.digest, SLSA)
    material = {"build_public": public_pem(build), "prod_private_path": PROD_KEY, "prod_passphrase": "hello",
                "prod_public": cosign_public_pem(PROD_KEY, b"hello"), "slsa": SLSA}
    json.dump({"env": env, "digests": {"signed": signed.digest, "unsigned": unsigned.digest}, "material": material},
              sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
