# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets never leak: every module, the lookup and registry_copy with src_auth/dest_auth run with
real passwords and tokens against the basic and token registries (successes and failures:
wrong password, missing repository, denied push) through ansible-playbook at -vvv; stdout,
stderr, the log file and every registered result (with its request trace) are searched for the
passwords, the bearer token handed to a module, and JWTs (``eyJ``...) or refresh tokens the
token service issued. Also: ``no_log`` on every secret option and suboption."""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import subprocess
import sys
import textwrap

import pytest
import requests

from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.unit.reliability.reliability_helpers import COLLECTION_ROOT, LEDGER

MODULES = ("registry_artifact", "registry_blob", "registry_catalog_info", "registry_copy", "registry_info",
           "registry_manifest", "registry_manifest_info", "registry_tag_info")
SECRET_NAME = re.compile(r"(?i)(password|passwd|token|secret)")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}")
REFRESH = re.compile(r"(?i)refresh_token[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9_-]{20,})")


class _Captured(Exception):
    pass


def argument_spec_of(name, monkeypatch):
    module = importlib.import_module("ansible_collections.oci.registry.plugins.modules." + name)
    captured = {}

    def fake(*args, **kwargs):
        captured.update(kwargs)
        raise _Captured()

    monkeypatch.setattr(module, "AnsibleModule", fake)
    with pytest.raises(_Captured):
        module.main()
    return captured["argument_spec"]


def secret_options(spec, prefix=""):
    """(path, option) for every option and suboption whose name says it holds a secret."""
    for name, option in spec.items():
        path = prefix + name
        if SECRET_NAME.search(name):
            yield path, option
        if option.get("options"):
            yield from secret_options(option["options"], path + ".")


@pytest.mark.parametrize("name", MODULES)
def test_every_secret_option_is_no_log(name, monkeypatch):
    spec = argument_spec_of(name, monkeypatch)
    found = list(secret_options(spec))
    assert any(path.endswith("password") for path, _option in found)
    for path, option in found:
        assert option.get("no_log") is True, "%s: option %s lacks no_log=True" % (name, path)
    if name == "registry_copy":
        for auth in ("src_auth", "dest_auth"):
            assert spec[auth]["options"]["password"]["no_log"] is True
            assert spec[auth]["options"]["bearer_token"]["no_log"] is True


# --------------------------------------------------------------------------- ansible-playbook -vvv

PLAYBOOK = textwrap.dedent("""\
    - hosts: localhost
      gather_facts: false
      vars:
        b: &basic
          registry_url: "{{ basic_url }}"
          username: admin
          password: "{{ basic_admin }}"
          ca_path: "{{ ca_path }}"
          timeout: 20
          retries: 0
        t: &token
          registry_url: "{{ token_url }}"
          username: admin
          password: "{{ token_admin }}"
          ca_path: "{{ ca_path }}"
          timeout: 20
          retries: 0
        tp: &puller
          registry_url: "{{ token_url }}"
          username: puller
          password: "{{ token_puller }}"
          ca_path: "{{ ca_path }}"
          timeout: 20
          retries: 0
      tasks:
        - {name: info basic, oci.registry.registry_info: {<<: *basic}, register: r01, ignore_errors: true}
        - name: info basic wrong password
          oci.registry.registry_info: {<<: *basic, password: "{{ wrong }}"}
          register: r02
          ignore_errors: true
        - {name: catalog basic, oci.registry.registry_catalog_info: {<<: *basic, limit: 5}, register: r03,
           ignore_errors: true}
        - {name: tags basic, oci.registry.registry_tag_info: {<<: *basic, repository: "{{ repo }}",
           include_digests: true}, register: r04, ignore_errors: true}
        - name: tags basic missing repository
          oci.registry.registry_tag_info: {<<: *basic, repository: "{{ repo }}-missing"}
          register: r05
          ignore_errors: true
        - {name: manifest info basic, oci.registry.registry_manifest_info: {<<: *basic, repository: "{{ repo }}",
           reference: v1, include_config: true}, register: r06, ignore_errors: true}
        - {name: retag basic, oci.registry.registry_manifest: {<<: *basic, repository: "{{ repo }}", tag: v2,
           source: v1}, register: r07, ignore_errors: true}
        - {name: blob upload basic, oci.registry.registry_blob: {<<: *basic, repository: "{{ repo }}",
           src: "{{ blob_src }}"}, register: r08, ignore_errors: true}
        - {name: blob download basic, oci.registry.registry_blob: {<<: *basic, repository: "{{ repo }}",
           digest: "{{ r08.digest | default('sha256:' ~ '0' * 64) }}", dest: "{{ blob_dest }}"}, register: r09,
           ignore_errors: true}
        - name: blob delete basic wrong password
          oci.registry.registry_blob: {<<: *basic, password: "{{ wrong }}", repository: "{{ repo }}",
                                       digest: "{{ r08.digest | default('sha256:' ~ '0' * 64) }}", state: absent}
          register: r10
          ignore_errors: true
        - {name: info token, oci.registry.registry_info: {<<: *token}, register: r11, ignore_errors: true}
        - name: info token wrong password
          oci.registry.registry_info: {<<: *token, password: "{{ wrong }}"}
          register: r12
          ignore_errors: true
        - {name: tags token puller, oci.registry.registry_tag_info: {<<: *puller, repository: "{{ repo }}",
           include_details: true}, register: r13, ignore_errors: true}
        - name: tags token bearer_token
          oci.registry.registry_tag_info:
            registry_url: "{{ token_url }}"
            bearer_token: "{{ bearer }}"
            auth_type: token
            ca_path: "{{ ca_path }}"
            repository: "{{ repo }}"
          register: r14
          ignore_errors: true
        - {name: retag token puller denied, oci.registry.registry_manifest: {<<: *puller, repository: "{{ repo }}",
           tag: denied, source: v1}, register: r15, ignore_errors: true}
        - {name: blob upload token puller denied, oci.registry.registry_blob: {<<: *puller,
           repository: "{{ repo }}-denied", src: "{{ blob_src }}"}, register: r16, ignore_errors: true}
        - {name: manifest info token missing, oci.registry.registry_manifest_info: {<<: *token,
           repository: "{{ repo }}", reference: nope}, register: r17, ignore_errors: true}
        - {name: catalog token, oci.registry.registry_catalog_info: {<<: *token, limit: 5}, register: r18,
           ignore_errors: true}
        - name: copy basic to token with src_auth/dest_auth
          oci.registry.registry_copy:
            src: "{{ basic_host }}/{{ repo }}:v1"
            dest: "{{ token_host }}/{{ repo }}-copy:v1"
            src_auth: {username: admin, password: "{{ basic_admin }}", ca_path: "{{ ca_path }}"}
            dest_auth: {username: admin, password: "{{ token_admin }}", ca_path: "{{ ca_path }}"}
          register: r19
          ignore_errors: true
        - name: copy to token as puller (push denied)
          oci.registry.registry_copy:
            src: "{{ basic_host }}/{{ repo }}:v1"
            dest: "{{ token_host }}/{{ repo }}-denied:v1"
            src_auth: {username: admin, password: "{{ basic_admin }}", ca_path: "{{ ca_path }}"}
            dest_auth: {username: puller, password: "{{ token_puller }}", ca_path: "{{ ca_path }}"}
          register: r20
          ignore_errors: true
        - name: copy with a wrong src password
          oci.registry.registry_copy:
            src: "{{ basic_host }}/{{ repo }}:v1"
            dest: "{{ token_host }}/{{ repo }}-copy:v1"
            src_auth: {username: admin, password: "{{ wrong }}", ca_path: "{{ ca_path }}"}
            dest_auth: {username: admin, password: "{{ token_admin }}", ca_path: "{{ ca_path }}"}
          register: r21
          ignore_errors: true
        - name: lookup with credentials
          ansible.builtin.set_fact:
            looked_up: "{{ lookup('oci.registry.digest', token_host ~ '/' ~ repo ~ ':v1', username='admin',
                           password=token_admin, ca_path=ca_path) }}"
          register: r22
          ignore_errors: true
        - name: lookup with a wrong password
          ansible.builtin.set_fact:
            looked_up_wrong: "{{ lookup('oci.registry.digest', token_host ~ '/' ~ repo ~ ':v1', username='admin',
                                 password=wrong, ca_path=ca_path) }}"
          register: r23
          ignore_errors: true
        - name: artifact push basic
          oci.registry.registry_artifact: {<<: *basic, repository: "hart/{{ repo | replace('/', '-') }}", tag: v1,
                                           files: ["{{ blob_src }}"]}
          register: r24
          ignore_errors: true
        - name: artifact push token puller denied
          oci.registry.registry_artifact: {<<: *puller, repository: "hart/{{ repo | replace('/', '-') }}", tag: v1,
                                           files: ["{{ blob_src }}"]}
          register: r25
          ignore_errors: true
        - name: keep every result
          ansible.builtin.copy:
            dest: "{{ results_file }}"
            content: "{{ [r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11, r12, r13, r14, r15, r16, r17, r18,
                          r19, r20, r21, r22, r23, looked_up | default(''), r24, r25] | to_json }}"
    """)


def collections_path():
    """The directory holding ansible_collections/ (the .build tree, or ansible-test's copy)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(COLLECTION_ROOT)))


def fetch_bearer(env, repo):
    token = env["registries"]["token"]
    params = {"service": token["service"], "scope": "repository:%s:pull" % repo, "offline_token": "true",
              "client_id": "secrets-test"}
    response = requests.get(token["realm"], params=params,
                            auth=("admin", token["users"]["admin"]), verify=env["ca_path"], timeout=20)
    response.raise_for_status()
    body = response.json()
    return body.get("token") or body["access_token"], body.get("refresh_token")


def test_no_secret_in_any_output(registries, unique_repo, tmp_path):
    basic, token = registries["registries"]["basic"], registries["registries"]["token"]
    images.push_oci_image(registries, "basic", unique_repo, "v1", layers=(2048,), seed=unique_repo)
    images.push_oci_image(registries, "token", unique_repo, "v1", layers=(2048,), seed=unique_repo)
    bearer, refresh = fetch_bearer(registries, unique_repo)
    wrong = "Wr0ng-" + secrets.token_hex(8)
    blob_src = tmp_path / "blob.bin"
    blob_src.write_bytes(secrets.token_bytes(4096))
    extra = {
        "basic_url": basic["url"], "basic_host": basic["host"], "basic_admin": basic["users"]["admin"],
        "token_url": token["url"], "token_host": token["host"], "token_admin": token["users"]["admin"],
        "token_puller": token["users"]["puller"], "ca_path": registries["ca_path"], "wrong": wrong,
        "repo": unique_repo, "bearer": bearer, "blob_src": str(blob_src), "blob_dest": str(tmp_path / "out.bin"),
        "results_file": str(tmp_path / "results.json"),
    }
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    log = tmp_path / "ansible.log"
    env = {
        "HOME": os.environ.get("HOME", str(tmp_path)), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ANSIBLE_COLLECTIONS_PATH": collections_path(), "ANSIBLE_LOG_PATH": str(log), "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "ANSIBLE_REMOTE_TEMP": str(tmp_path / "remote"),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0", "ANSIBLE_HOST_KEY_CHECKING": "0", "PYTHONPATH": "",
    }
    argv = [sys.executable, "-m", "ansible.cli.playbook", "-vvv", "-i", "localhost,", "-c", "local",
            "-e", "@" + str(tmp_path / "vars.json"), str(tmp_path / "play.yml")]
    done = subprocess.run(argv, env=env, capture_output=True, timeout=240, cwd=str(tmp_path), check=False)
    stdout, stderr = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, stdout[-3000:] + stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    haystacks = {"stdout": stdout, "stderr": stderr, "log": log.read_text() if log.exists() else "",
                 "results": json.dumps(results)}

    # The playbook did what it should (so the grep covers real successes and real failures).
    outcome = [bool(result.get("failed")) if isinstance(result, dict) else None for result in results[:23]]
    # 0-based: r05 r10 (missing repo / wrong password), r15 r16 r17 (denied push, missing), r20 r21 r23
    expected_failures = {4, 9, 14, 15, 16, 19, 20, 22}
    print("outcomes:", outcome)
    for index, failed in enumerate(outcome):
        assert failed == (index in expected_failures), (index + 1, results[index])
    # r02 r12: registry_info reports a wrong password instead of failing (issue 11 item 7), with the reason.
    for index in (1, 11):
        assert results[index]["authenticated"] is False and results[index]["accessible"] is False
        assert results[index]["auth_error"], results[index]
    assert results[23].startswith("sha256:")
    # registry_artifact: a push with Basic credentials works, a pull-only token user is refused.
    assert not results[24].get("failed") and results[24]["changed"] is True, results[24]
    assert results[25].get("failed") is True, results[25]
    assert any("trace" in result for result in results[:21] if isinstance(result, dict))

    secret_values = {
        "basic admin password": basic["users"]["admin"], "basic alice password": basic["users"]["alice"],
        "token admin password": token["users"]["admin"], "token puller password": token["users"]["puller"],
        "wrong password": wrong, "bearer token": bearer,
    }
    if refresh:
        secret_values["refresh token"] = refresh
    leaks = []
    for where, text in haystacks.items():
        for what, value in secret_values.items():
            if value and value in text:
                leaks.append("%s in %s" % (what, where))
        for match in JWT.finditer(text):
            leaks.append("JWT %s... in %s" % (match.group(0)[:12], where))
        for match in REFRESH.finditer(text):
            leaks.append("refresh token %s... in %s" % (match.group(1)[:6], where))
    print("secrets searched: %d values + JWT/refresh patterns in %d KiB of output; found: %d"
          % (len(secret_values), sum(len(text) for text in haystacks.values()) // 1024, len(leaks)))
    LEDGER["secrets_searched_kib"] = sum(len(text) for text in haystacks.values()) // 1024
    LEDGER["secrets_found"] = len(leaks)
    assert leaks == []
