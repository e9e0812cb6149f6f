"""Data shaping of the promote role's signature gates and production signing (pure, no registry)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.promote_sign_groups import promote_sign_groups
from ansible_collections.oci.registry.plugins.filter.promote_sign_report import promote_sign_report
from ansible_collections.oci.registry.plugins.filter.promote_signature_checks import promote_signature_checks
from ansible_collections.oci.registry.plugins.filter.promote_signature_gate import promote_signature_gate

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
SRC_AUTH = {"username": "ci", "password": "s3cret"}


def release():
    return [
        {"src": "http://stage:5000/team/api:1.0", "dest": "https://prod.example.com/team/api", "additional_tags": ["stable"]},
        {"src": "http://stage:5000/team/web:1.0", "expected_digest": D2,
         "dest": ["https://prod.example.com/team/web", {"dest": "https://dr.example.com/team/web", "auth": {"username": "dr"}}]},
        {"src": "https://other.example.com/lib/base@" + D1, "src_auth": {"username": "other"},
         "dest": "https://prod.example.com/lib/base:1"},
    ]


def test_checks_group_by_source_registry_and_credentials_and_check_the_copied_digest():
    groups = promote_signature_checks(release(), src_auth=SRC_AUTH)
    assert [g["registry_url"] for g in groups] == ["http://stage:5000", "https://other.example.com"]
    assert groups[0]["auth"] == SRC_AUTH and groups[1]["auth"] == {"username": "other"}
    # The expected digest (what the copy will pin) is what gets checked, not the moving tag.
    assert groups[0]["images"] == [{"repository": "team/api", "reference": "1.0"},
                                   {"repository": "team/web", "reference": D2}]
    assert groups[1]["images"] == [{"repository": "lib/base", "reference": D1}]
    assert groups[0]["entries"] == [0, 1] and groups[1]["entries"] == [2]


def test_checks_reject_bad_input_with_the_variable_named():
    with pytest.raises(AnsibleFilterError, match=r"promote_images\[0\] needs src and dest"):
        promote_signature_checks([{"src": "host/a:1"}])


def info(digest, verified, attestations=(), reasons=()):
    return {"digest": digest, "verified": verified, "attestations": list(attestations),
            "signatures": [{"verified": False, "reason": reason} for reason in reasons]}


def test_gate_passes_and_pins_every_source_to_the_checked_digest():
    images = release()
    groups = promote_signature_checks(images, src_auth=SRC_AUTH)
    results = [{"images": [info(D1, True, ["https://slsa.dev/provenance/v1"]), info(D2, True, ["https://slsa.dev/provenance/v1"])]},
               {"images": [info(D1, True, ["https://slsa.dev/provenance/v1"])]}]
    gate = promote_signature_gate(results, groups, images, require_signature=True,
                                  required_attestations=["https://slsa.dev/provenance/v1"])
    assert gate["refusals"] == []
    assert [image["expected_digest"] for image in gate["images"]] == [D1, D2, D1]
    assert "expected_digest" not in images[0]  # the input is not modified


def test_gate_refuses_unsigned_with_reasons_and_missing_attestations():
    images = release()
    groups = promote_signature_checks(images)
    results = [{"images": [info(D1, False, reasons=["the signature does not verify with any of the 1 key(s)"]),
                           info(D2, True)]},
               {"images": [info(D1, False)]}]
    gate = promote_signature_gate(results, groups, images, require_signature=True,
                                  required_attestations=["https://spdx.dev/Document"])
    assert gate["refusals"] == [
        "promote refused by promote_require_signature: http://stage:5000/team/api:1.0 (%s) has no signature verified "
        "by promote_verify_keys (the signature does not verify with any of the 1 key(s)); "
        "https://other.example.com/lib/base@%s (%s) has no signature verified by promote_verify_keys "
        "(no signature found)" % (D1, D1, D1),
        "promote refused by promote_require_attestations: http://stage:5000/team/api:1.0 (%s) lacks "
        "https://spdx.dev/Document; http://stage:5000/team/web:1.0 (%s) lacks https://spdx.dev/Document; "
        "https://other.example.com/lib/base@%s (%s) lacks https://spdx.dev/Document" % (D1, D2, D1, D1),
    ]
    for line in gate["refusals"]:
        assert "s3cret" not in line


def test_gate_without_signature_requirement_ignores_unsigned():
    images = release()[:1]
    groups = promote_signature_checks(images)
    gate = promote_signature_gate([{"images": [info(D1, False, ["x"])]}], groups, images, required_attestations=["x"])
    assert gate["refusals"] == []


def copy_result(images):
    # registry_copy images results, one per (image, destination, tag) target, in promote_targets order.
    return {"images": [
        {"src_digest": D1, "dest_digest": D1}, {"src_digest": D1, "dest_digest": D1},  # api: 1.0, stable
        {"src_digest": D2, "dest_digest": D2}, {"src_digest": D2, "dest_digest": D2},  # web: prod, dr
        {"src_digest": D1, "dest_digest": None},  # base, check mode
    ], "summary": {"failed": 0, "refused": 0}}


def test_sign_groups_sign_each_destination_repository_once_with_its_credentials():
    images = release()
    groups = promote_sign_groups(images, copy_result(images), dest_auth={"username": "prod"})
    assert [(g["registry_url"], g["auth"]) for g in groups] == [
        ("https://prod.example.com", {"username": "prod"}), ("https://dr.example.com", {"username": "dr"})]
    assert groups[0]["images"] == [{"repository": "team/api", "reference": D1},
                                   {"repository": "team/web", "reference": D2},
                                   {"repository": "lib/base", "reference": D1}]
    assert groups[1]["images"] == [{"repository": "team/web", "reference": D2}]

    results = [{"images": [{"digest": D1, "signature_digest": D2, "changed": True, "key_fingerprint": "sha256:k"}] * 3},
               {"images": [{"digest": D2, "signature_digest": D1, "changed": False, "key_fingerprint": "sha256:k"}]}]
    report = promote_sign_report(results, groups)
    assert [entry["dest"] for entry in report] == [
        "https://prod.example.com/team/api:1.0", "https://prod.example.com/team/web:1.0",
        "https://prod.example.com/lib/base:1", "https://dr.example.com/team/web:1.0"]
    assert [entry["changed"] for entry in report] == [True, True, True, False]


def test_sign_groups_refuse_a_copy_result_that_does_not_match():
    with pytest.raises(AnsibleFilterError, match="reported 1 results for 5 destinations"):
        promote_sign_groups(release(), {"images": [{}], "summary": {"failed": 0, "refused": 0}})


def test_sign_groups_of_a_copy_that_failed_as_a_whole_are_empty():
    """The role evaluates the signing loop before its ``when``: a failed copy must leave the refusal to the role."""
    failed = {"failed": True, "changed": False, "msg": "cannot reach registry.example.com (connection refused)"}
    assert promote_sign_groups(release(), failed) == []


def test_sign_groups_before_the_copy_use_the_destination_tags():
    groups = promote_sign_groups(release(), None, dest_auth={"username": "prod"})
    assert groups[0]["images"] == [{"repository": "team/api", "reference": "1.0"},
                                   {"repository": "team/web", "reference": "1.0"},
                                   {"repository": "lib/base", "reference": "1"}]
