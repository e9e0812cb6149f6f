"""auth.py: challenges, scopes, credential files and helpers, token flows (with `responses`)."""

import base64
import json
import os
import stat
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from ansible_collections.oci.registry.plugins.module_utils import _auth as auth
from ansible_collections.oci.registry.plugins.module_utils._auth import (
    Credentials,
    TokenCache,
    load_credentials,
    normalize_scopes,
    parse_challenges,
    scopes_cover,
)
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    InsufficientScopeError,
    PermissionDeniedError,
)

REG = "https://reg.example"
REALM = "https://auth.example/token"
CHALLENGE = 'Bearer realm="%s",service="reg.example"' % REALM


# ----------------------------------------------------------------------------- challenges

def test_parse_bearer_challenge_with_commas_in_quotes_and_escapes():
    header = ('Bearer realm="https://auth.example/token",service="reg.example",'
              'scope="repository:team/app:pull,push repository:127.0.0.1:5000/x:pull",error="insufficient_scope",'
              'note="say \\"hi\\""')
    (challenge,) = parse_challenges(header)
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.example/token"
    assert challenge.service == "reg.example"
    assert challenge.scope == "repository:team/app:pull,push repository:127.0.0.1:5000/x:pull"
    assert challenge.error == "insufficient_scope"
    assert challenge.params["note"] == 'say "hi"'


def test_parse_several_challenges_and_unquoted_values():
    challenges = parse_challenges('Basic realm=Registry, Bearer realm="https://a/t",service=svc')
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[0].realm == "Registry"
    assert challenges[1].service == "svc"
    assert auth.preferred_challenge(challenges).scheme == "bearer"
    assert parse_challenges("") == []
    assert parse_challenges('basic realm="x"')[0].scheme == "basic"


def test_scopes_merge_actions_and_keep_host_port_names():
    scopes = normalize_scopes(["repository:127.0.0.1:5000/team/app:pull", "repository:127.0.0.1:5000/team/app:push",
                               "repository:src:pull", "registry:catalog:*"])
    assert scopes == ("registry:catalog:*", "repository:127.0.0.1:5000/team/app:pull,push", "repository:src:pull")
    assert scopes_cover(scopes, ["repository:127.0.0.1:5000/team/app:push"])
    assert not scopes_cover(scopes, ["repository:src:push"])
    assert scopes_cover(["repository:a:*"], ["repository:a:delete"])


def test_token_cache_expires(monkeypatch):
    now = [1000.0]
    cache = TokenCache(clock=lambda: now[0])
    cache.put("k", "tok", 300, ())
    assert cache.get("k").value == "tok"
    now[0] += 289
    assert cache.get("k") is not None
    now[0] += 2  # inside the safety margin before expiry
    assert cache.get("k") is None
    assert "tok" not in repr(cache.put("k", "tok", 60, ()))


# ----------------------------------------------------------------------------- credential files

def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(data, handle)
    return str(path)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_CONFIG", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_docker_config_base64_auth_matches_by_host(clean_env):
    path = _write(str(clean_env / "home/.docker/config.json"), {"auths": {
        "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hubuser:hub:pw").decode()},
        "http://127.0.0.1:5000": {"auth": base64.b64encode(b"u1:p1").decode()},
    }})
    assert load_credentials("docker.io") == Credentials("hubuser", "hub:pw", None, path)
    assert load_credentials("127.0.0.1:5000")[:2] == ("u1", "p1")
    assert load_credentials("other.example") is None


def test_containers_auth_json_wins_and_repository_specific_entry(clean_env, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(clean_env / "run"))
    _write(str(clean_env / "run/containers/auth.json"), {"auths": {
        "reg.example": {"auth": base64.b64encode(b"generic:g").decode()},
        "reg.example/team": {"auth": base64.b64encode(b"team:t").decode()},
    }})
    _write(str(clean_env / "home/.docker/config.json"), {"auths": {
        "reg.example": {"auth": base64.b64encode(b"docker:d").decode()}}})
    assert load_credentials("reg.example").username == "generic"
    assert load_credentials("reg.example", repository="team/app").username == "team"


def test_identity_token_and_explicit_auth_file(clean_env):
    path = _write(str(clean_env / "auth.json"), {"auths": {"reg.example": {"identitytoken": "refresh-xyz"}}})
    creds = load_credentials("reg.example", auth_file=path)
    assert creds.identity_token == "refresh-xyz" and creds.username is None
    assert "refresh-xyz" not in repr(creds)
    with pytest.raises(AuthenticationError, match="does not exist"):
        load_credentials("reg.example", auth_file=str(clean_env / "missing.json"))


def _fake_helper(directory, name, script_body):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "docker-credential-%s" % name)
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\n" + script_body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return path


def test_cred_helpers_and_creds_store_via_fake_helper(clean_env, monkeypatch):
    bindir = str(clean_env / "bin")
    log = str(clean_env / "helper.log")
    _fake_helper(bindir, "fake", 'read server; echo "$1 $server" >> %s\n'
                 'case "$server" in\n'
                 '  reg.example) echo \'{"ServerURL":"reg.example","Username":"helperuser","Secret":"s3"}\';;\n'
                 '  tok.example) echo \'{"ServerURL":"tok.example","Username":"<token>","Secret":"idtok"}\';;\n'
                 '  *) echo "credentials not found in native keychain"; exit 1;;\n'
                 'esac\n' % log)
    monkeypatch.setenv("PATH", bindir + os.pathsep + os.environ["PATH"])
    config = {"credHelpers": {"reg.example": "fake"}, "credsStore": "fake", "auths": {"tok.example": {}}}
    path = _write(str(clean_env / "config.json"), config)
    assert load_credentials("reg.example", auth_file=path)[:2] == ("helperuser", "s3")
    assert load_credentials("tok.example", auth_file=path).identity_token == "idtok"
    assert load_credentials("nothing.example", auth_file=path) is None
    with open(log) as handle:
        assert handle.read().splitlines() == ["get reg.example", "get tok.example", "get nothing.example"]


def test_missing_cred_helper_is_an_error_but_missing_store_is_not(clean_env):
    path = _write(str(clean_env / "config.json"), {"credHelpers": {"reg.example": "absent-helper"}})
    with pytest.raises(AuthenticationError, match="docker-credential-absent-helper is not on PATH"):
        load_credentials("reg.example", auth_file=path)
    path = _write(str(clean_env / "config2.json"), {"credsStore": "absent-helper"})
    assert load_credentials("reg.example", auth_file=path) is None


def test_client_picks_credentials_from_auth_file(clean_env):
    path = _write(str(clean_env / "auth.json"), {"auths": {"reg.example": {
        "auth": base64.b64encode(b"fileuser:filepw").decode()}}})
    client = RegistryClient(REG, auth_file=path, auth_type="basic")
    assert client.username == "fileuser" and client.credentials_source == path
    assert "filepw" not in repr(client)


# ----------------------------------------------------------------------------- token flows

def _token_body(token, refresh=None, expires_in=300):
    body = {"token": token, "expires_in": expires_in}
    if refresh:
        body["refresh_token"] = refresh
    return json.dumps(body)


def _form(call):
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@responses.activate
def test_token_post_password_grant_cached_per_scope_set():
    responses.add(responses.GET, REG + "/v2/team/app/tags/list", status=401, headers={"WWW-Authenticate": CHALLENGE})
    responses.add(responses.POST, REALM, body=_token_body("tok-pull", refresh="r1"))
    responses.add(responses.GET, REG + "/v2/team/app/tags/list", json={"name": "team/app", "tags": ["a"]})
    client = RegistryClient(REG, username="alice", password="pw-secret")
    for _attempt in range(3):
        assert client.tags.list_tags("team/app").tags == ["a"]
    token_calls = [c for c in responses.calls if c.request.url.startswith(REALM)]
    assert len(token_calls) == 1
    form = _form(token_calls[0])
    assert form == {"grant_type": "password", "username": "alice", "password": "pw-secret",
                    "service": "reg.example", "scope": "repository:team/app:pull",
                    "client_id": auth.CLIENT_ID, "access_type": "offline"}
    authorized = [c for c in responses.calls if c.request.url.startswith(REG + "/v2/team/app")
                  and c.request.headers.get("Authorization") == "Bearer tok-pull"]
    assert len(authorized) == 3


@responses.activate
def test_refresh_token_reused_for_new_scope_without_password():
    responses.add(responses.GET, REG + "/v2/a/tags/list", status=401, headers={"WWW-Authenticate": CHALLENGE})
    responses.add(responses.POST, REALM, body=_token_body("tok-a", refresh="refresh-1"))
    responses.add(responses.GET, REG + "/v2/a/tags/list", json={"name": "a", "tags": []})
    responses.add(responses.GET, REG + "/v2/b/tags/list", json={"name": "b", "tags": []})
    client = RegistryClient(REG, username="alice", password="pw-secret")
    client.tags.list_tags("a")
    client.tags.list_tags("b")
    forms = [_form(c) for c in responses.calls if c.request.url.startswith(REALM)]
    assert [f["grant_type"] for f in forms] == ["password", "refresh_token"]
    assert forms[1]["refresh_token"] == "refresh-1" and "password" not in forms[1]
    assert forms[1]["scope"] == "repository:b:pull"


@responses.activate
def test_identity_token_uses_refresh_grant():
    responses.add(responses.GET, REG + "/v2/a/tags/list", status=401, headers={"WWW-Authenticate": CHALLENGE})
    responses.add(responses.POST, REALM, body=_token_body("tok"))
    responses.add(responses.GET, REG + "/v2/a/tags/list", json={"name": "a", "tags": []})
    client = RegistryClient(REG, auth_type="auto", auth_file=None)
    client.auth._identity_token = "idtok"
    client.tags.list_tags("a")
    (token_call,) = [c for c in responses.calls if c.request.url.startswith(REALM)]
    assert _form(token_call)["grant_type"] == "refresh_token" and _form(token_call)["refresh_token"] == "idtok"


@pytest.mark.parametrize("post_status", [400, 401, 404, 405])
@responses.activate
def test_post_falls_back_to_get_with_basic(post_status):
    responses.add(responses.GET, REG + "/v2/a/tags/list", status=401, headers={"WWW-Authenticate": CHALLENGE})
    responses.add(responses.POST, REALM, status=post_status)
    responses.add(responses.GET, REALM, body=json.dumps({"access_token": "tok-get"}))
    responses.add(responses.GET, REG + "/v2/a/tags/list", json={"name": "a", "tags": ["x"]})
    client = RegistryClient(REG, username="alice", password="pw")
    assert client.tags.list_tags("a").tags == ["x"]
    get_call = [c for c in responses.calls if c.request.method == "GET" and c.request.url.startswith(REALM)][0]
    query = parse_qs(urlsplit(get_call.request.url).query)
    assert query["scope"] == ["repository:a:pull"] and query["service"] == ["reg.example"]
    assert get_call.request.headers["Authorization"] == "Basic " + base64.b64encode(b"alice:pw").decode()
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer tok-get"


@responses.activate
def test_anonymous_token_is_a_plain_get():
    responses.add(responses.GET, REG + "/v2/library/alpine/tags/list", status=401,
                  headers={"WWW-Authenticate": CHALLENGE})
    responses.add(responses.GET, REALM, body=_token_body("anon"))
    responses.add(responses.GET, REG + "/v2/library/alpine/tags/list", json={"name": "x", "tags": []})
    client = RegistryClient(REG, auth_type="anonymous")
    client.tags.list_tags("library/alpine")
    token_call = [c for c in responses.calls if c.request.url.startswith(REALM)][0]
    assert "Authorization" not in token_call.request.headers
    assert not any(c.request.method == "POST" for c in responses.calls)


@responses.activate
def test_no_credentials_to_plain_http_realm_on_another_host():
    realm = "http://auth.other.example/token"
    responses.add(responses.GET, REG + "/v2/a/tags/list", status=401,
                  headers={"WWW-Authenticate": 'Bearer realm="%s",service="s"' % realm})
    responses.add(responses.GET, realm, body=_token_body("anon"))
    responses.add(responses.GET, REG + "/v2/a/tags/list", json={"name": "a", "tags": []})
    client = RegistryClient(REG, username="alice", password="pw-secret")
    client.tags.list_tags("a")
    token_calls = [c for c in responses.calls if c.request.url.startswith(realm)]
    assert len(token_calls) == 1
    assert token_calls[0].request.method == "GET"
    assert "Authorization" not in token_calls[0].request.headers
    assert "pw-secret" not in token_calls[0].request.url and "alice" not in token_calls[0].request.url
    assert client.auth.credentials_withheld


@responses.activate
def test_wrong_password_is_authentication_error_without_secret():
    responses.add(responses.GET, REG + "/v2/a/tags/list", status=401, headers={"WWW-Authenticate": CHALLENGE})
    responses.add(responses.POST, REALM, status=401)
    responses.add(responses.GET, REALM, status=401, json={"errors": [{"code": "UNAUTHORIZED",
                                                                     "message": "bad credentials"}]})
    client = RegistryClient(REG, username="alice", password="pw-secret")
    with pytest.raises(AuthenticationError) as info:
        client.tags.list_tags("a")
    text = str(info.value)
    assert "alice" in text and "pw-secret" not in text and "check username and password" in text


@responses.activate
def test_insufficient_scope_is_permission_error_and_not_refetched():
    denied = CHALLENGE + ',scope="repository:a:pull,push",error="insufficient_scope"'
    responses.add(responses.POST, REG + "/v2/a/blobs/uploads/", status=401, headers={"WWW-Authenticate": CHALLENGE})
    responses.add(responses.POST, REALM, body=_token_body("pull-only"))
    responses.add(responses.POST, REG + "/v2/a/blobs/uploads/", status=401, headers={"WWW-Authenticate": denied},
                  json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
    client = RegistryClient(REG, username="puller", password="pw")
    with pytest.raises(PermissionDeniedError) as info:
        client.uploads.start_upload("a")
    assert isinstance(info.value, InsufficientScopeError) and isinstance(info.value, AuthenticationError)
    assert "lacks push/delete permission" in str(info.value)
    assert len([c for c in responses.calls if c.request.url.startswith(REALM)]) == 1


@responses.activate
def test_basic_challenge_then_preemptive_basic():
    responses.add(responses.GET, REG + "/v2/a/tags/list", status=401,
                  headers={"WWW-Authenticate": 'Basic realm="Registry Realm"'})
    responses.add(responses.GET, REG + "/v2/a/tags/list", json={"name": "a", "tags": []})
    client = RegistryClient(REG, username="u", password="p")
    client.tags.list_tags("a")
    client.tags.list_tags("a")
    assert [c.request.headers.get("Authorization") for c in responses.calls] == [
        None, "Basic dTpw", "Basic dTpw"]


@responses.activate
def test_static_bearer_token_and_none_mode():
    responses.add(responses.GET, REG + "/v2/a/tags/list", json={"name": "a", "tags": []})
    RegistryClient(REG, bearer_token="static-tok").tags.list_tags("a")
    RegistryClient(REG, username="u", password="p", auth_type="none").tags.list_tags("a")
    assert responses.calls[0].request.headers["Authorization"] == "Bearer static-tok"
    assert "Authorization" not in responses.calls[1].request.headers


def test_bad_auth_type_and_username_without_password():
    with pytest.raises(AuthenticationError, match="auth_type"):
        RegistryClient(REG, auth_type="kerberos")
    with pytest.raises(AuthenticationError, match="without password"):
        RegistryClient(REG, username="u")
