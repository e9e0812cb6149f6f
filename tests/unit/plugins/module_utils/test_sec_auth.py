"""Issue 11, security and messages: userinfo never echoed, credentials for a plain-HTTP token service on the
registry's host, withheld vs wrong password, registry_info on a wrong password, credential helper timeout,
and the messages of item 9.

The plain-HTTP token layout is the launcher's ``plaintoken`` variant: a plain-HTTP registry whose realm is
the token service's plain-HTTP port on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from ansible_collections.oci.registry.plugins.module_utils._auth import Authenticator, load_credentials
from ansible_collections.oci.registry.plugins.module_utils._ansible_module import mask_userinfo
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    CredentialsWithheldError,
    InsufficientScopeError,
    InvalidReferenceError,
    RegistryError,
    TLSError,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    normalize_registry_url,
    parse_reference,
    userinfo_secrets,
    validate_reference,
)
from ansible_collections.oci.registry.plugins.modules import registry_copy, registry_info, registry_manifest_info
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

SECRET = "S3cr3t-in-url"


class FakeModule:
    def __init__(self, params):
        self.params = params
        self.no_log_values = set()


# ----------------------------------------------------------------------------- 1. userinfo

@pytest.mark.parametrize("url", [
    "https://alice:%s@registry.example.com:5000" % SECRET,
    "alice:%s@registry.example.com" % SECRET,
    "http://alice:%s@127.0.0.1:5000/v2/" % SECRET,
    "ftp://alice:%s@host" % SECRET,
])
def test_registry_url_with_userinfo_is_refused_without_echo(url):
    with pytest.raises(InvalidReferenceError) as info:
        normalize_registry_url(url)
    text = str(info.value)
    assert SECRET not in text and "alice" not in text
    assert "credentials do not belong in URLs" in text and "username/password" in text


@pytest.mark.parametrize("reference", [
    "alice:%s@registry.example.com:5000/team/app:1.0" % SECRET,
    "http://alice:%s@127.0.0.1:5000/team/app@sha256:%s" % (SECRET, "0" * 64),
    "https://alice:%s@host.example/app" % SECRET,
])
def test_reference_with_userinfo_is_refused_without_echo(reference):
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(reference)
    text = str(info.value)
    assert SECRET not in text and "alice" not in text and "invalid digest" not in text
    assert "src_auth/dest_auth" in text


def test_digest_references_are_not_mistaken_for_userinfo():
    digest = "sha256:" + "a" * 64
    assert parse_reference("nginx@" + digest).digest == digest
    assert parse_reference("127.0.0.1:5000/team/app@" + digest).registry == "127.0.0.1:5000"


@pytest.mark.parametrize("text, secrets", [
    ("https://alice:%s@registry.example.com:5000" % SECRET, ("alice:" + SECRET,)),
    ("alice:%s@registry.example.com/a/b:1" % SECRET, ("alice:" + SECRET,)),
    ("https://alice@registry.example.com", ("alice",)),
    ("nginx@sha256:" + "a" * 64, ()),
    ("registry.example.com/team/app@sha256:" + "a" * 64, ()),
    ("https://registry.example.com", ()),
    (None, ()),
])
def test_userinfo_secrets_finds_what_to_mask_and_leaves_digests_alone(text, secrets):
    assert userinfo_secrets(text) == secrets


def test_module_results_mask_userinfo_in_echoed_arguments():
    """ansible-core <= 2.19 echoes a failed module's arguments as ``invocation``; the userinfo is masked there."""
    module = FakeModule({"registry_url": "https://alice:%s@registry.example.com" % SECRET,
                         "images": [{"src": "bob:pw-two@registry.example.com/a/b:1", "dest": "nginx@sha256:" + "a" * 64}]})
    mask_userinfo(module)
    assert module.no_log_values == {"alice:" + SECRET, "bob:pw-two"}


def test_modules_never_echo_userinfo(capsys):
    url = "https://alice:%s@registry.example.com:5000" % SECRET
    info = run(registry_info, capsys, registry_url=url)
    copy = run(registry_copy, capsys, src="alice:%s@registry.example.com/a/b:1" % SECRET,
               dest="registry.example.com/a/c:1")
    for result in (info, copy):
        assert result["failed"] is True
        assert SECRET not in json.dumps(result) and "alice" not in json.dumps(result)
    assert "username/password" in info["msg"]
    assert "src_auth/dest_auth" in copy["msg"]


# ----------------------------------------------------------------------------- 2. plain-HTTP realm

@pytest.mark.parametrize("registry, realm, allowed", [
    ("http://127.0.0.1:5004", "http://127.0.0.1:5005/token", True),   # same host, other port
    ("http://registry.example:5004", "http://REGISTRY.example/token", True),
    ("http://127.0.0.1:5004", "http://localhost:5005/token", False),  # another host name
    ("https://127.0.0.1:5004", "http://127.0.0.1:5005/token", False),  # would downgrade an HTTPS registry
    ("http://127.0.0.1:5004", "https://auth.example/token", True),
])
def test_which_realms_get_credentials(registry, realm, allowed):
    assert Authenticator(registry, "u", "p")._may_send_credentials_to(realm) is allowed


def _push(client, repo):
    data = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    from ansible_collections.oci.registry.plugins.module_utils._media import sha256_digest

    digest = sha256_digest(data)
    client.uploads.monolithic_upload(repo, digest, data)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest,
                                      "size": len(data)}, "layers": []})
    return client.manifests.put_manifest(repo, "v1", manifest, "application/vnd.oci.image.manifest.v1+json")


def test_plain_http_token_service_on_the_same_host_gets_the_credentials(registries, skopeo, unique_repo):
    """Registry http://127.0.0.1:P, realm http://127.0.0.1:T/token: skopeo authenticates, so must we."""
    variant = registries["registries"]["plaintoken"]
    client = RegistryClient(variant["url"], username="admin", password=variant["users"]["admin"], retries=0)
    put = _push(client, unique_repo)
    assert not client.auth.credentials_withheld
    assert skopeo.inspect_digest("plaintoken", unique_repo, "v1", user="admin") == put.digest


def test_withheld_credentials_say_so_not_permissions(registries, unique_repo):
    """The realm is on another host name (127.0.0.1 vs localhost): withheld, and the error says it."""
    variant = registries["registries"]["plaintoken"]
    url = variant["url"].replace("127.0.0.1", "localhost")
    client = RegistryClient(url, username="admin", password=variant["users"]["admin"], retries=0)
    with pytest.raises(CredentialsWithheldError) as info:
        _push(client, unique_repo)
    text = str(info.value)
    assert not isinstance(info.value, InsufficientScopeError)
    assert "withheld" in text and "HTTPS" in text and variant["realm"] in text
    assert "lacks push/delete" not in text and "check username and password" not in text
    assert variant["users"]["admin"] not in text


def test_wrong_password_is_not_reported_as_withheld(registries, unique_repo):
    variant = registries["registries"]["plaintoken"]
    client = RegistryClient(variant["url"], username="admin", password="wrong-" + SECRET, retries=0)
    with pytest.raises(AuthenticationError) as info:
        _push(client, unique_repo)
    text = str(info.value)
    assert not isinstance(info.value, CredentialsWithheldError)
    assert "check username and password" in text and "withheld" not in text and SECRET not in text


# ----------------------------------------------------------------------------- 7. registry_info

@pytest.mark.parametrize("variant_name", ["basic", "token", "plaintoken"])
def test_registry_info_reports_a_wrong_password(registries, capsys, variant_name):
    variant = registries["registries"][variant_name]
    result = run(registry_info, capsys, registry_url=variant["url"], username="admin", password="wrong-" + SECRET,
                 ca_path=registries["ca_path"], retries=0)
    assert not result.get("failed"), result
    assert result["authenticated"] is False and result["accessible"] is False
    assert result["auth_error"] and SECRET not in json.dumps(result)
    good = run(registry_info, capsys, registry_url=variant["url"], username="admin",
               password=variant["users"]["admin"], ca_path=registries["ca_path"])
    assert good["authenticated"] is True and good["accessible"] is True and good.get("auth_error") is None


def test_registry_info_reports_withheld_credentials(registries, capsys):
    variant = registries["registries"]["plaintoken"]
    result = run(registry_info, capsys, registry_url=variant["url"].replace("127.0.0.1", "localhost"),
                 username="admin", password=variant["users"]["admin"], retries=0)
    assert not result.get("failed"), result
    assert result["authenticated"] is False and "withheld" in result["auth_error"]


# ----------------------------------------------------------------------------- 8. credential helper

def _hanging_helper(directory, child_pid_file):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "docker-credential-hang")
    with open(path, "w") as handle:
        # A child that outlives a killed parent unless the whole group goes, then the helper hangs.
        handle.write("#!/bin/sh\nsleep 300 &\necho $! > %s\nsleep 300\n" % child_pid_file)
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_hanging_credential_helper_is_killed_with_its_children_after_the_timeout(tmp_path, monkeypatch):
    pid_file = str(tmp_path / "child.pid")
    _hanging_helper(str(tmp_path / "bin"), pid_file)
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    auth_file = tmp_path / "config.json"
    auth_file.write_text(json.dumps({"credHelpers": {"reg.example": "hang"}}))
    with pytest.raises(AuthenticationError) as info:
        RegistryClient("https://reg.example", auth_file=str(auth_file), timeout=1)
    assert "did not answer within 1 seconds" in str(info.value)
    with open(pid_file) as handle:
        child = int(handle.read().strip())
    for dummy in range(50):  # SIGKILL is asynchronous; reaping by init may take a moment
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child), "the helper's child %d is still running" % child


def test_credential_helper_gets_the_task_timeout(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr("ansible_collections.oci.registry.plugins.module_utils._auth.run_credential_helper",
                        lambda helper, server, timeout=None: seen.append(timeout))
    auth_file = tmp_path / "config.json"
    auth_file.write_text(json.dumps({"credHelpers": {"reg.example": "any"}}))
    load_credentials("reg.example", auth_file=str(auth_file), timeout=7)
    RegistryClient("https://reg.example", auth_file=str(auth_file), timeout=9)
    assert seen == [7, 9]


# ----------------------------------------------------------------------------- 9. messages

def test_http_to_a_tls_registry_hints_https(registries):
    tls = registries["registries"]["tls"]["host"]
    client = RegistryClient("http://" + tls, retries=0, timeout=10)
    with pytest.raises(RegistryError) as info:
        client.tags.list_tags("any/repo")
    assert info.value.status == 400 and "https://" in info.value.hint


@pytest.mark.parametrize("reference", ["md5:abc", "sha1:" + "a" * 40, "blake3:" + "a" * 64])
def test_unknown_digest_algorithms_are_refused_before_any_request(reference, capsys):
    with pytest.raises(InvalidReferenceError, match="unsupported digest algorithm"):
        validate_reference(reference)
    result = run(registry_manifest_info, capsys, registry_url="http://127.0.0.1:9", repository="a/b",
                 reference=reference, retries=0)
    assert result["failed"] is True and "unsupported digest algorithm" in result["msg"]
    assert "cannot reach" not in result["msg"]  # refused before any request to the closed port


def test_missing_ca_path_fails_even_without_verification(tmp_path):
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(TLSError) as info:
        RegistryClient("https://reg.example", ca_path=missing, validate_certs=False)
    assert missing in str(info.value) and "checked even with validate_certs=false" in str(info.value)
