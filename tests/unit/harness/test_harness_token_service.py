"""The token service follows the distribution token spec: GET and POST flows, refresh, grants, signed JWTs."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ansible_collections.oci.registry.tests.registries import images, launcher

EXPIRED = -120  # beyond the registry's 60 s clock leeway


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _decode(token):
    header, claims, _signature = token.split(".")
    return json.loads(_b64url_decode(header)), json.loads(_b64url_decode(claims))


@pytest.fixture
def token(registries):
    return registries["registries"]["token"]


@pytest.fixture
def client_id():
    """A client_id per test: stats by_client_id then counts only this test's requests, whoever else uses the service."""
    return "harness-" + secrets.token_hex(6)


def _get(registries, token, scopes, user=None, password=None, **params):
    auth = (user, password if password is not None else token["users"][user]) if user else None
    return requests.get(token["realm"], params=dict(params, service=token["service"], scope=scopes), auth=auth,
                        verify=registries["ca_path"], timeout=10)


def _post(registries, token, **form):
    form.setdefault("service", token["service"])
    return requests.post(token["realm"], data=form, verify=registries["ca_path"], timeout=10)


def _tags_status(registries, token, repository, access_token):
    return requests.get("%s/v2/%s/tags/list" % (token["url"], repository), headers={"Authorization": "Bearer " + access_token},
                        verify=registries["ca_path"], timeout=10).status_code


def test_get_flow_grants_every_requested_scope(registries, token, unique_repo):
    other = unique_repo + "-other"
    images.push_oci_image(registries, "token", unique_repo, "v1")
    images.push_oci_image(registries, "token", other, "v1")
    scopes = ["repository:%s:pull,push" % unique_repo, "repository:%s:pull" % other, "registry:catalog:*"]
    response = _get(registries, token, scopes, "admin")
    assert response.status_code == 200
    body = response.json()
    assert body["token"] == body["access_token"] and body["expires_in"] > 0 and body["issued_at"]
    access = {(entry["type"], entry["name"]): entry["actions"] for entry in _decode(body["token"])[1]["access"]}
    assert access == {("repository", unique_repo): ["pull", "push"], ("repository", other): ["pull"], ("registry", "catalog"): ["*"]}
    assert _tags_status(registries, token, unique_repo, body["token"]) == 200
    assert _tags_status(registries, token, other, body["token"]) == 200


def test_get_flow_grants_only_what_the_user_may(registries, token, unique_repo):
    scopes = ["repository:%s:pull,push,delete" % unique_repo, "repository:public/x:pull,push", "registry:catalog:*"]
    puller = _decode(_get(registries, token, scopes, "puller").json()["token"])[1]["access"]
    assert puller == [{"type": "repository", "name": unique_repo, "actions": ["pull"]},
                      {"type": "repository", "name": "public/x", "actions": ["pull"]}]
    anonymous = _decode(_get(registries, token, scopes).json()["token"])[1]
    assert anonymous["access"] == [{"type": "repository", "name": "public/x", "actions": ["pull"]}]
    assert anonymous["sub"] == ""


def test_get_flow_offline_token_needs_credentials(registries, token):
    scope = ["repository:public/x:pull"]
    assert "refresh_token" in _get(registries, token, scope, "admin", offline_token="true", account="admin").json()
    assert "refresh_token" not in _get(registries, token, scope, offline_token="true").json()
    assert "refresh_token" not in _get(registries, token, scope, "admin").json()


def test_get_flow_rejects_unknown_service(registries, token):
    response = requests.get(token["realm"], params={"service": "elsewhere", "scope": "repository:a:pull"}, verify=registries["ca_path"], timeout=10)
    assert response.status_code == 400


def test_post_flow_requires_client_id(registries, token):
    response = _post(registries, token, grant_type="password", username="admin", password=token["users"]["admin"],
                     scope="repository:a:pull")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_post_flow_password_grant_and_refresh(registries, token, client_id, unique_repo):
    images.push_oci_image(registries, "token", unique_repo, "v1")
    scope = "repository:%s:pull" % unique_repo
    first = _post(registries, token, grant_type="password", client_id=client_id, access_type="offline", username="puller",
                  password=token["users"]["puller"], scope=scope)
    assert first.status_code == 200
    assert first.json()["scope"] == scope
    refresh_token = first.json()["refresh_token"]
    assert _tags_status(registries, token, unique_repo, first.json()["access_token"]) == 200
    refreshed = _post(registries, token, grant_type="refresh_token", client_id=client_id, refresh_token=refresh_token, scope=scope)
    assert refreshed.status_code == 200
    assert "refresh_token" not in refreshed.json()
    claims = _decode(refreshed.json()["access_token"])[1]
    assert claims["sub"] == "puller"
    assert _tags_status(registries, token, unique_repo, refreshed.json()["access_token"]) == 200
    online = _post(registries, token, grant_type="password", client_id=client_id, username="puller", password=token["users"]["puller"], scope=scope)
    assert "refresh_token" not in online.json()


@pytest.mark.parametrize("form, status", [
    ({"grant_type": "password", "username": "admin", "password": "wrong"}, 401),
    ({"grant_type": "refresh_token", "refresh_token": "not-a-refresh-token"}, 401),
    ({"grant_type": "client_credentials"}, 400),
])
def test_post_flow_rejects_bad_grants(registries, token, client_id, form, status):
    assert _post(registries, token, client_id=client_id, scope="repository:a:pull", **form).status_code == status


def test_refresh_after_expiry(registries, token, client_id, unique_repo):
    images.push_oci_image(registries, "token", unique_repo, "v1")
    scope = "repository:%s:pull" % unique_repo
    expired = _post(registries, token, grant_type="password", client_id=client_id, access_type="offline", username="admin",
                    password=token["users"]["admin"], scope=scope, test_expires_in=str(EXPIRED)).json()
    assert expired["expires_in"] == EXPIRED
    assert _tags_status(registries, token, unique_repo, expired["access_token"]) == 401
    renewed = _post(registries, token, grant_type="refresh_token", client_id=client_id, refresh_token=expired["refresh_token"], scope=scope)
    assert renewed.status_code == 200 and renewed.json()["expires_in"] > 0
    assert _tags_status(registries, token, unique_repo, renewed.json()["access_token"]) == 200


def test_token_expiry_is_configurable_live(registries, token):
    previous = launcher.load_env(registries["state_dir"])["registries"]["token"]["token_expiry"]
    try:
        env = launcher.set_token_expiry(previous + 7, registries["state_dir"])
        assert env["registries"]["token"]["token_expiry"] == previous + 7
        assert _get(registries, token, ["repository:public/x:pull"]).json()["expires_in"] == previous + 7
    finally:
        launcher.set_token_expiry(previous, registries["state_dir"])
    assert _get(registries, token, ["repository:public/x:pull"]).json()["expires_in"] == previous


def test_jwt_is_rs256_signed_by_a_certificate_chained_to_the_ca(registries, token):
    raw_token = _get(registries, token, ["repository:public/x:pull"], "admin").json()["token"]
    header, claims = _decode(raw_token)
    assert header["alg"] == "RS256"
    chain = [x509.load_der_x509_certificate(base64.b64decode(entry)) for entry in header["x5c"]]
    with open(registries["ca_path"], "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    chain[0].verify_directly_issued_by(ca)
    signing_input, _sep, signature = raw_token.rpartition(".")
    chain[0].public_key().verify(_b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(Exception):
        chain[0].public_key().verify(_b64url_decode(signature), signing_input.encode() + b"x", padding.PKCS1v15(), hashes.SHA256())
    assert claims["iss"] == token["issuer"]
    assert claims["aud"] == token["service"]
    assert claims["sub"] == "admin"
    assert claims["exp"] - claims["iat"] == token["token_expiry"]


def test_stats_count_by_flow_user_and_grant_and_reset(registries, token, client_id):
    stats_url = token["stats_url"]
    scope = "repository:public/stats-check:pull"
    _get(registries, token, [scope], "puller", client_id=client_id)
    _post(registries, token, grant_type="password", client_id=client_id, username="admin", password=token["users"]["admin"], scope=scope)
    _post(registries, token, grant_type="password", client_id=client_id, username="admin", password="wrong", scope=scope)
    stats = requests.get(stats_url, verify=registries["ca_path"], timeout=10).json()
    assert stats["by_client_id"][client_id] == 2
    assert stats["by_flow"]["get"] >= 1 and stats["by_flow"]["post_password"] >= 2
    assert stats["by_user"]["puller"] >= 1 and stats["by_user"]["admin"] >= 1
    assert stats["by_grant"]["repository:public/stats-check:pull"] >= 2
    assert stats["failures"]["invalid_grant"] >= 1
    reset = requests.post(stats_url + "/reset", verify=registries["ca_path"], timeout=10).json()
    assert client_id not in reset["by_client_id"]
