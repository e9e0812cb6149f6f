"""Each registry variant behaves like a real deployment, seen through skopeo (an independent client)."""

from __future__ import annotations

import pytest
import requests

from ansible_collections.oci.registry.tests.registries import images

UNAUTHORIZED = ("unauthorized", "authentication required", "401")


def _unauthorized(stderr):
    return any(word in stderr.lower() for word in UNAUTHORIZED)


@pytest.mark.parametrize("variant, expected_status, scheme", [
    ("plain", 200, None), ("plain2", 200, None), ("tls", 200, None), ("basic", 401, "basic"), ("token", 401, "bearer"),
])
def test_variant_answers_v2_with_its_auth_scheme(registries, variant, expected_status, scheme):
    info = registries["registries"][variant]
    response = requests.get(info["url"] + "/v2/", verify=registries["ca_path"], timeout=10)
    assert response.status_code == expected_status
    assert response.headers.get("Docker-Distribution-API-Version") == "registry/2.0"
    if scheme:
        assert response.headers["WWW-Authenticate"].lower().startswith(scheme)
    if variant == "token":
        challenge = response.headers["WWW-Authenticate"]
        assert 'realm="%s"' % info["realm"] in challenge
        assert 'service="%s"' % info["service"] in challenge


def test_plain_registries_are_distinct(registries):
    plain, plain2 = registries["registries"]["plain"], registries["registries"]["plain2"]
    assert plain["url"].startswith("http://127.0.0.1:") and plain2["url"].startswith("http://127.0.0.1:")
    assert plain["host"] != plain2["host"]


@pytest.mark.parametrize("variant", ["plain", "plain2", "tls", "basic", "token"])
def test_push_and_inspect_through_skopeo(registries, skopeo, unique_repo, variant):
    user = "admin" if variant in ("basic", "token") else None
    image = images.push_oci_image(registries, variant, unique_repo, "v1", seed=unique_repo)
    assert skopeo.inspect_digest(variant, unique_repo, "v1", user=user) == image.digest
    assert skopeo.list_tags(variant, unique_repo, user=user) == ["v1"]


def test_tls_fails_without_ca_and_works_with_it(registries, skopeo, unique_repo):
    images.push_oci_image(registries, "tls", unique_repo, "v1")
    untrusted = skopeo.inspect_raw("tls", unique_repo, "v1", ca=False, check=False)
    assert untrusted.returncode != 0
    assert "certificate" in untrusted.stderr.lower()
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(registries["registries"]["tls"]["url"] + "/v2/", timeout=10)
    assert b"schemaVersion" in skopeo.inspect_raw("tls", unique_repo, "v1")


def test_tls_certificate_names_localhost_too(registries):
    port = registries["registries"]["tls"]["host"].rsplit(":", 1)[1]
    response = requests.get("https://localhost:%s/v2/" % port, verify=registries["ca_path"], timeout=10)
    assert response.status_code == 200


def test_basic_right_credentials_work_wrong_get_401(registries, skopeo, unique_repo):
    info = registries["registries"]["basic"]
    images.push_oci_image(registries, "basic", unique_repo, "v1")
    assert skopeo.list_tags("basic", unique_repo, user="alice") == ["v1"]
    assert requests.get(info["url"] + "/v2/", auth=("alice", info["users"]["alice"]), verify=registries["ca_path"], timeout=10).status_code == 200
    assert requests.get(info["url"] + "/v2/", auth=("alice", info["users"]["admin"]), verify=registries["ca_path"], timeout=10).status_code == 401
    anonymous = skopeo.list_tags("basic", unique_repo, user=None, check=False)
    assert anonymous.returncode != 0 and _unauthorized(anonymous.stderr)


def test_basic_users_have_different_passwords(registries):
    users = registries["registries"]["basic"]["users"]
    assert set(users) == {"admin", "alice"}
    assert users["admin"] != users["alice"]


def test_token_wrong_password_gets_401(registries):
    info = registries["registries"]["token"]
    response = requests.get(info["realm"], params={"service": info["service"], "scope": "repository:any/repo:pull"},
                            auth=("admin", info["users"]["puller"]), verify=registries["ca_path"], timeout=10)
    assert response.status_code == 401


def test_token_admin_pushes_puller_pulls_but_cannot_push(registries, skopeo, unique_repo, tmp_path):
    image = images.push_oci_image(registries, "token", unique_repo, "v1", seed=unique_repo)
    assert skopeo.inspect_digest("token", unique_repo, "v1", user="puller") == image.digest
    denied = skopeo.copy(skopeo.reference("token", unique_repo, "v1"), skopeo.reference("token", unique_repo, "v2"),
                         src_variant="token", src_user="puller", dest_variant="token", dest_user="puller", check=False)
    assert denied.returncode != 0
    assert skopeo.list_tags("token", unique_repo, user="admin") == ["v1"]


def test_token_anonymous_pulls_public_only(registries, skopeo, unique_repo):
    public_repo = "public/" + unique_repo.split("/", 1)[1]
    public = images.push_oci_image(registries, "token", public_repo, "v1")
    images.push_oci_image(registries, "token", unique_repo, "v1")
    assert skopeo.inspect_digest("token", public_repo, "v1", user=None) == public.digest
    private = skopeo.inspect_raw("token", unique_repo, "v1", user=None, check=False)
    assert private.returncode != 0 and _unauthorized(private.stderr)
    push = skopeo.copy(skopeo.reference("token", public_repo, "v1"), skopeo.reference("token", public_repo, "v2"),
                       src_variant="token", dest_variant="token", check=False)
    assert push.returncode != 0
