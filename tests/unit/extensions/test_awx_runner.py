# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX guide's job templates, run the way AWX runs a job: ansible-runner over a private data directory.

AWX renders the credential types' injectors (environment variables, and files named through
``tower.filename``), writes ``env/envvars``, ``env/extravars``, ``env/passwords``, ``env/settings``, the
inventory and the project into a private data directory, and hands it to ansible-runner. This test
does the same with the collection's two credential types (source: the basic-auth registry, destination:
the token registry, both trusted only through the credentials' CA field), runs the guide's promotion
job, and the guide's sharded cleanup as a sliced job (slice k of N gets hosts k, k+N, ... and runs with
``--limit``, as AWX slices an inventory), checks the registries with skopeo, and scans the artifacts
(``job_events``, ``stdout``) for every secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import secrets
import subprocess
import sys

import pytest
import yaml

from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.unit.extensions import awx_rendering, collection_paths

RUNNER = collection_paths.venv_binary("ansible-runner")
pytestmark = pytest.mark.skipif(not os.access(RUNNER, os.X_OK), reason="ansible-runner (requirements-dev.txt) is not installed")

GUIDE = os.path.join(awx_rendering.ROOT, "docs", "docsite", "rst", "guide_awx.rst")
PROMOTE_EVENT = os.path.join(awx_rendering.ROOT, "extensions", "eda", "playbooks", "promote_event.yml")
SLICES = 3
# AWX's own prompt-to-answer map; nothing in these jobs prompts, but its values must not leak either.
PASSWORDS = {r"^Vault password:\s*?$": "vault-" + secrets.token_hex(8)}


def _guide_blocks():
    """The yaml code blocks of the AWX guide, by their first line (``# playbooks/promote.yml in your project``)."""
    with open(GUIDE, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    blocks = {}
    for index, line in enumerate(lines):
        if line.strip() != ".. code-block:: yaml":
            continue
        body = []
        for text in lines[index + 1:]:
            if text.strip() and not text.startswith("    "):
                break
            body.append(text[4:])
        text = "\n".join(body).strip("\n") + "\n"
        blocks[text.splitlines()[0].strip()] = text
    return blocks


def _credential_inputs(registries, variant):
    info = registries["registries"][variant]
    with open(registries["ca_path"], encoding="utf-8") as handle:
        ca_pem = handle.read()
    return {"registry_url": info["url"], "username": "admin", "password": info["users"]["admin"], "ca_cert": ca_pem}


def _write(path, content, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w", encoding="utf-8") as handle:
        handle.write(content)


def _inventory_script(hosts, group_vars):
    """AWX hands ansible-runner an executable inventory script that prints the inventory as JSON."""
    data = {"all": {"hosts": sorted(hosts), "vars": group_vars},
            "_meta": {"hostvars": hosts}}
    return "#! /usr/bin/env python3\nimport sys\nsys.stdout.write(%r)\n" % json.dumps(data)


def _private_data_dir(root, registries, playbooks, extravars, hosts, group_vars=None):
    """A private data directory as AWX writes it for a job with both registry credentials attached."""
    env_dir = os.path.join(root, "env")
    envvars = {
        # What AWX sets for every job (a subset), then what the credentials inject.
        "ANSIBLE_FORCE_COLOR": "False", "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_PARAMIKO_RECORD_HOST_KEYS": "False",
        "AWX_HOST": "https://awx.example.com", "JOB_ID": "4242", "INVENTORY_ID": "7", "PROJECT_REVISION": "0123abc",
        "ANSIBLE_COLLECTIONS_PATH": collection_paths.collections_path(),
        # An execution environment has one Python; here that is the venv's (discovery could pick another).
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    }
    secrets_used = list(PASSWORDS.values())
    for definition_name, variant, prefix in ((awx_rendering.SOURCE, "basic", "src"), (awx_rendering.DESTINATION, "token", "dst")):
        inputs = _credential_inputs(registries, variant)
        secrets_used.append(inputs["password"])
        secrets_used.append(base64.b64encode(("admin:%s" % inputs["password"]).encode()).decode())
        # AWX writes each credential's files into its own temporary directory of the private data dir.
        files_dir = os.path.join(env_dir, "tmp_%s_credential" % prefix)
        injected, files = awx_rendering.render(awx_rendering.load(definition_name), inputs, files_dir=files_dir)
        for key, content in files.items():
            _write(os.path.join(files_dir, key), content)
        envvars.update(injected)
    _write(os.path.join(env_dir, "envvars"), json.dumps(envvars))
    job_vars = dict(extravars, awx_job_id=4242, tower_job_id=4242, awx_job_template_name="oci.registry test")
    _write(os.path.join(env_dir, "extravars"), json.dumps(job_vars))
    _write(os.path.join(env_dir, "passwords"), json.dumps(PASSWORDS))
    _write(os.path.join(env_dir, "settings"), json.dumps({"job_timeout": 300, "pexpect_timeout": 5,
                                                          "suppress_ansible_output": True}))
    _write(os.path.join(root, "inventory", "hosts"), _inventory_script(hosts, group_vars or {}), mode=0o700)
    for name, text in playbooks.items():
        _write(os.path.join(root, "project", name), text, mode=0o644)
    return secrets_used


class Job:
    """One `ansible-runner run` of a private data directory, as AWX's worker starts it (a process per job)."""

    def __init__(self, private_data_dir, playbook, ident, limit=None):
        self.private_data_dir = private_data_dir
        self.artifacts = os.path.join(private_data_dir, "artifacts", ident)
        argv = [RUNNER, "run", private_data_dir, "-p", playbook, "--ident", ident]
        if limit:
            argv += ["--limit", limit]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)

    def wait(self):
        _out, err = self.process.communicate(timeout=600)
        return err.decode("utf-8", "replace")

    def read(self, name):
        with open(os.path.join(self.artifacts, name), encoding="utf-8", errors="replace") as handle:
            return handle.read()

    @property
    def status(self):
        return self.read("status").strip()

    def events(self):
        directory = os.path.join(self.artifacts, "job_events")
        for name in sorted(os.listdir(directory), key=lambda item: int(item.split("-", 1)[0])):
            with open(os.path.join(directory, name), encoding="utf-8") as handle:
                yield json.load(handle)

    def facts(self, name):
        """The values of fact `name` that set_fact tasks reported in the job events (what AWX stores)."""
        values = []
        for event in self.events():
            if event.get("event") == "runner_on_ok":
                facts = event["event_data"].get("res", {}).get("ansible_facts", {})
                if name in facts:
                    values.append(facts[name])
        return values

    def assert_no_secret(self, secrets_used):
        """No secret in what AWX keeps of a job: its events, its stdout and runner's other artifact files.

        The one file left out is runner's ``command``: it records the environment the job ran with, which
        is env/envvars with the injected credentials by design (AWX shows a job's environment only through
        its own redacting serializer, never this file). The test checks that its command line is clean.
        """
        checked = []
        for directory, _dirs, names in os.walk(self.artifacts):
            for name in names:
                path = os.path.join(directory, name)
                relative = os.path.relpath(path, self.artifacts)
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
                if relative == "command":
                    command = " ".join(json.loads(text)["command"])
                    assert not any(secret in command for secret in secrets_used)
                    continue
                checked.append(relative)
                leaked = [secret[:4] + "..." for secret in secrets_used if secret in text]
                assert not leaked, "secret %s in %s" % (leaked, relative)
        assert "stdout" in checked and any(name.startswith("job_events") for name in checked)


@pytest.fixture(scope="module")
def guide():
    blocks = _guide_blocks()
    return {
        "promote": blocks["# playbooks/promote.yml in your project"],
        "cleanup_sharded": blocks["# playbooks/cleanup-sharded.yml"],
        "shards": yaml.safe_load(blocks["# inventories/cleanup-shards.yml in your project: 8 shards"]),
    }


def test_promotion_and_sliced_cleanup_as_awx_runs_them(registries, skopeo, tmp_path, guide):
    prefix = "hevents/awx-%s" % secrets.token_hex(4)
    # The guide names team/app and every repository (.*); here only this test's own repositories.
    promote_yml = guide["promote"].replace("team/app", prefix + "/app")
    cleanup_yml = guide["cleanup_sharded"].replace("cleanup_repository_pattern: '.*'",
                                                   "cleanup_repository_pattern: '^%s/c-'" % prefix)
    assert promote_yml != guide["promote"] and cleanup_yml != guide["cleanup_sharded"]

    release = images.push_oci_image(registries, "basic", prefix + "/app", "1.4.0", seed="hevents-awx-release")
    repositories = ["%s/c-%d" % (prefix, number) for number in range(6)]
    for number, repository in enumerate(repositories):
        images.push_oci_image(registries, "basic", repository, "latest", seed="hevents-awx-keep-%d" % number)
        images.push_oci_image(registries, "basic", repository, "0.%d" % number, seed="hevents-awx-old-%d" % number)

    # The promotion job template: survey answers promote_tag and tested_digest as extra vars.
    promote_dir = str(tmp_path / "promote")
    secrets_used = _private_data_dir(promote_dir, registries, {"promote.yml": promote_yml},
                                     {"promote_tag": "1.4.0", "tested_digest": release.digest},
                                     {"localhost": {"ansible_connection": "local"}})
    promote_job = Job(promote_dir, "promote.yml", "4242")

    # The job template EDA controller launches (run_job_template) with the registry event as extra var.
    pushed = images.push_oci_image(registries, "basic", prefix + "/evt", "2.0.0", seed="hevents-awx-event")
    basic = registries["registries"]["basic"]
    event = {"id": "evt-1", "registry": basic["host"], "registry_url": basic["url"], "repository": prefix + "/evt",
             "tag": "2.0.0", "digest": pushed.digest, "media_type": pushed.media_type, "action": "push",
             "actor": "ci", "source": "distribution", "scan": None, "raw": {}}
    with open(PROMOTE_EVENT, encoding="utf-8") as handle:
        event_playbook = handle.read()
    event_dir = str(tmp_path / "event")
    _private_data_dir(event_dir, registries, {"promote_event.yml": event_playbook},
                      {"registry_event": event, "promote_event_dest_registry": registries["registries"]["token"]["url"]},
                      {"localhost": {"ansible_connection": "local"}})
    event_job = Job(event_dir, "promote_event.yml", "4343")

    # The sliced cleanup job template: AWX gives slice k of N the hosts k, k+N, ... of the inventory.
    shard_hosts = sorted(guide["shards"]["all"]["hosts"].items(), key=lambda item: item[1]["shard_index"])[:SLICES]
    group_vars = dict(guide["shards"]["all"]["vars"], shard_count=SLICES)
    hosts = dict((name, dict(hostvars)) for name, hostvars in shard_hosts)
    slice_jobs = []
    for number in range(SLICES):
        slice_dir = str(tmp_path / ("slice-%d" % number))
        secrets_used = _private_data_dir(slice_dir, registries, {"cleanup-sharded.yml": cleanup_yml},
                                         {"dry_run": False}, hosts, group_vars)
        limit = ",".join(name for name, _vars in shard_hosts[number::SLICES])
        slice_jobs.append(Job(slice_dir, "cleanup-sharded.yml", "5000%d" % number, limit=limit))

    # AWX runs the jobs side by side (the slices on whatever execution nodes have capacity).
    for label, job in [("promotion", promote_job), ("event promotion", event_job)] + [("slice %d" % n, job) for n, job in enumerate(slice_jobs)]:
        errors = job.wait()
        assert job.status == "successful", "%s: %s\n%s\n%s" % (label, job.status, job.read("stdout")[-4000:], errors[-2000:])
        job.assert_no_secret(secrets_used)

    # The promotion: the tested digest under the tag and under stable, on the token registry.
    for tag in ("1.4.0", "stable"):
        assert skopeo.inspect_digest("token", prefix + "/app", tag, user="admin") == release.digest

    assert skopeo.inspect_digest("token", prefix + "/evt", "2.0.0", user="admin") == pushed.digest

    # The slices together cleaned every repository, each exactly once.
    handled = []
    for job in slice_jobs:
        reports = job.facts("cleanup_report")
        assert reports, "a slice set no cleanup_report"
        handled += [entry["repository"] for report in reports for entry in report["repositories"]]
    assert sorted(handled) == sorted(repositories)
    for repository in repositories:
        assert skopeo.list_tags("basic", repository, user="admin") == ["latest"]
