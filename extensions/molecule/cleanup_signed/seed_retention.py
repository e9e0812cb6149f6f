# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seed the cleanup_signed scenario in molecule-signed/retention (registry "plain").

- ``latest``: kept by pattern;
- ``1.0``: a multi-platform index signed with the build key (kept: verified);
- ``1.1``: signed with a key nobody trusts (removed, with its signature);
- ``1.2``: unsigned (removed);
- a signature whose image was deleted afterwards (an orphan: removed);
- ``nightly``: signed, then the tag moved to a new unsigned image, so the signed image is untagged but
  still there (its signature stays; the new nightly is removed).

Signatures are made by tests/registries/cosign.py (cryptography and raw HTTP, after cosign's
specification), not by the collection. Prints the seed JSON (env, digests, build public key).
"""

from __future__ import absolute_import, division, print_function

import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "extensions", "molecule", "shared"))

from registries import ensure_started  # noqa: E402  pylint: disable=import-error,wrong-import-position
from registries import images  # noqa: E402  pylint: disable=import-error,wrong-import-position
from registries.cosign import sign_tag  # noqa: E402  pylint: disable=import-error,wrong-import-position
from registries.rawpush import RawRegistry  # noqa: E402  pylint: disable=import-error,wrong-import-position
from seed import wipe  # noqa: E402  pylint: disable=import-error,wrong-import-position

REPOSITORY = "molecule-signed/retention"
BUILD_KEY = os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "fixtures", "cosign", "pkcs8-ec-p256.key")


def main():
    env = ensure_started()
    wipe(env, "plain", REPOSITORY)
    with open(BUILD_KEY, "rb") as handle:
        build = serialization.load_pem_private_key(handle.read(), None)
    stranger = ec.generate_private_key(ec.SECP256R1())
    latest = images.push_oci_image(env, "plain", REPOSITORY, "latest", seed="molecule/retention/latest")
    release = images.push_index(env, "plain", REPOSITORY, "1.0", seed="molecule/retention/1.0")
    foreign = images.push_oci_image(env, "plain", REPOSITORY, "1.1", seed="molecule/retention/1.1")
    unsigned = images.push_oci_image(env, "plain", REPOSITORY, "1.2", seed="molecule/retention/1.2")
    gone = images.push_oci_image(env, "plain", REPOSITORY, "gone", seed="molecule/retention/gone")
    old_nightly = images.push_oci_image(env, "plain", REPOSITORY, "nightly", seed="molecule/retention/nightly-1")
    identity = "%s/%s" % (env["registries"]["plain"]["host"], REPOSITORY)
    with RawRegistry(env, "plain") as registry:
        for image, key in ((release, build), (foreign, stranger), (gone, build), (old_nightly, build)):
            sign_tag(registry, REPOSITORY, image.digest, key, identity)
        response = registry.request("DELETE", "/v2/%s/manifests/%s" % (REPOSITORY, gone.digest),
                                    ["repository:%s:delete,pull,push" % REPOSITORY])
        assert response.status_code == 202, response.status_code
    nightly = images.push_oci_image(env, "plain", REPOSITORY, "nightly", seed="molecule/retention/nightly-2")
    digests = {"latest": latest.digest, "release": release.digest, "release_children": release.manifest_digests,
               "foreign": foreign.digest, "unsigned": unsigned.digest, "gone": gone.digest,
               "old_nightly": old_nightly.digest, "nightly": nightly.digest}
    build_public = build.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    json.dump({"env": env, "digests": digests, "build_public": build_public}, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
