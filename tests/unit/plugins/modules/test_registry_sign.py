# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_sign and registry_signature_info run in-process against the real plain registry."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.oci.registry.plugins.module_utils._signature import load_private_key
from ansible_collections.oci.registry.plugins.modules import registry_sign, registry_signature_info
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

FIXTURES = Path(__file__).parent.parent / "module_utils" / "fixtures" / "cosign"
KEY = str(FIXTURES / "sigstore-encrypted.key")
PASSPHRASE = "hello"


@pytest.fixture
def signed_setup(registries, request):
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    repository = "hsign/%s-%s" % (name, secrets.token_hex(4))
    image = images.push_oci_image(registries, "plain", repository, "1.0", seed=repository)
    return registries["registries"]["plain"]["url"], repository, image


def public_pem():
    return load_private_key(KEY, PASSPHRASE).public_key.pem


def test_sign_check_mode_writes_nothing_then_sign_then_idempotent(signed_setup, capsys, skopeo):
    url, repository, image = signed_setup
    common = dict(registry_url=url, repository=repository, reference="1.0", key=KEY, key_passphrase=PASSPHRASE,
                  annotations={"release": "1.0"})

    predicted = run(registry_sign, capsys, check_mode=True, **common)
    assert not predicted.get("failed"), predicted.get("msg")
    assert predicted["changed"] is True and predicted["signature_digest"] is None
    tags = skopeo.list_tags("plain", repository)
    assert predicted["tag"] not in tags

    first = run(registry_sign, capsys, **common)
    assert first["changed"] is True and first["digest"] == image.digest
    assert first["tag"] in skopeo.list_tags("plain", repository)
    second = run(registry_sign, capsys, **common)
    assert second["changed"] is False and second["signature_digest"] == first["signature_digest"]
    # The key and passphrase never appear in a result.
    for result in (predicted, first, second):
        text = json.dumps(result)
        assert "PRIVATE KEY" not in text and '"%s"' % PASSPHRASE not in text

    info = run(registry_signature_info, capsys, registry_url=url, repository=repository, reference="1.0",
               keys=[public_pem()])
    assert info["verified"] is True
    assert info["signatures"][0]["key_fingerprint"] == first["key_fingerprint"]
    assert info["signatures"][0]["annotations"] == {"release": "1.0"}


def test_wrong_passphrase_fails_before_any_request(signed_setup, capsys):
    url, repository, dummy = signed_setup
    result = run(registry_sign, capsys, registry_url=url, repository=repository, reference="1.0", key=KEY,
                 key_passphrase="definitely-wrong")
    assert result["failed"] is True
    assert "wrong key_passphrase" in result["msg"] and "definitely-wrong" not in result["msg"]
    assert "\n" not in result["msg"]


def test_signature_info_never_fails_on_unsigned_and_bulk(signed_setup, capsys):
    url, repository, image = signed_setup
    unsigned = run(registry_signature_info, capsys, registry_url=url, repository=repository, reference="1.0",
                   keys=[str(FIXTURES / "containers-image-cosign.pub")])
    assert not unsigned.get("failed"), unsigned.get("msg")
    assert unsigned["verified"] is False and unsigned["signatures"] == []
    assert unsigned["digest"] == image.digest

    signed = run(registry_sign, capsys, registry_url=url, images=[{"repository": repository, "reference": "1.0"}],
                 key=str(FIXTURES / "pkcs8-ec-p256.key"), scheme="referrer")
    assert signed["changed"] is True and signed["images"][0]["fallback_index"] is True
    key_pem = serialization.load_pem_private_key((FIXTURES / "pkcs8-ec-p256.key").read_bytes(), None).public_key(
    ).public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    bulk = run(registry_signature_info, capsys, registry_url=url,
               images=[{"repository": repository, "reference": "1.0"},
                       {"repository": repository, "reference": image.digest}],
               keys=[str(FIXTURES / "containers-image-cosign.pub"), key_pem])
    assert not bulk.get("failed"), bulk.get("msg")
    assert bulk["verified"] is True
    assert [entry["repository"] for entry in bulk["images"]] == [repository, repository]
    assert [entry["signatures"][0]["scheme"] for entry in bulk["images"]] == ["referrer", "referrer"]
    assert [entry["referrers_via"] for entry in bulk["images"]] == ["tag", "tag"]
