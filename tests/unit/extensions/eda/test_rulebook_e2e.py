# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end through ansible-rulebook: push to a notifying registry, the rulebook promotes the pushed digest.

Needs ansible-rulebook (requirements-eda.txt) and Java 17+; `make eda` (OCI_REGISTRY_EDA=1) installs both.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import secrets
import shutil
import socket
import subprocess
import time

import pytest

from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.skopeo import Skopeo
from ansible_collections.oci.registry.tests.unit.extensions import collection_paths
from ansible_collections.oci.registry.tests.unit.extensions.eda.listener import free_port
from ansible_collections.oci.registry.tests.unit.extensions.eda.notifying_registry import VARIANT, notifying_registry

ROOT = collection_paths.ROOT
RULEBOOK = os.path.join("extensions", "eda", "rulebooks", "promote_on_push.yml")
# Java start-up, the first playbook run and the promotion; a bound on waiting, not an assertion.
PROMOTION_WAIT = 180


def _rulebook_binary():
    candidate = collection_paths.venv_binary("ansible-rulebook")
    return candidate if os.access(candidate, os.X_OK) else shutil.which("ansible-rulebook")


def _java_major():
    java = shutil.which("java", path=os.path.join(os.environ.get("JAVA_HOME", ""), "bin") + os.pathsep + os.environ.get("PATH", ""))
    if not java:
        return None
    output = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    for word in output.replace('"', " ").split():
        if word[:1].isdigit():
            return int(word.split(".")[0])
    return None


RULEBOOK_BINARY = _rulebook_binary()
pytestmark = pytest.mark.skipif(
    RULEBOOK_BINARY is None or (_java_major() or 0) < 17,
    reason="needs ansible-rulebook and Java 17+: run `make eda` (OCI_REGISTRY_EDA=1 bootstrap installs "
           "requirements-eda.txt and, when java is missing, Debian's openjdk-17-jre-headless)")


def _wait_listening(port, process, output_path):
    deadline = time.monotonic() + PROMOTION_WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    with open(output_path, encoding="utf-8", errors="replace") as handle:
        raise AssertionError("ansible-rulebook never listened on %d:\n%s" % (port, handle.read()[-4000:]))


def test_rulebook_promotes_the_pushed_digest(registries, tmp_path):
    token = secrets.token_urlsafe(24)
    port = free_port()
    repository = "hevents/rulebook-%s" % secrets.token_hex(4)
    destination = registries["registries"]["plain"]
    (tmp_path / "vars.yml").write_text(json.dumps({
        "registry_events_port": port, "registry_events_token": token,
        "promote_dest_registry": destination["url"], "promote_tag_regex": r"^v?[0-9]+\.[0-9]+\.[0-9]+$",
    }))
    (tmp_path / "inventory.yml").write_text(json.dumps({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}))
    env = collection_paths.child_env()
    output_path = str(tmp_path / "rulebook.log")
    with open(output_path, "wb") as output:
        process = subprocess.Popen(
            [RULEBOOK_BINARY, "-i", str(tmp_path / "inventory.yml"), "--vars", str(tmp_path / "vars.yml"),
             "-r", RULEBOOK, "-v"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_listening(port, process, output_path)
        with notifying_registry(registries, str(tmp_path / "registry"), "http://127.0.0.1:%d/" % port, token) as private:
            skopeo = Skopeo(private)
            # Not a release tag: the source filters it out, nothing is promoted for it.
            images.push_oci_image(private, VARIANT, repository, "latest", seed="hevents-rulebook-latest")
            release = images.push_oci_image(private, VARIANT, repository, "1.2.3", seed="hevents-rulebook-release")
            deadline = time.monotonic() + PROMOTION_WAIT
            promoted = None
            while time.monotonic() < deadline and process.poll() is None:
                result = skopeo.run(["inspect", "--format", "{{.Digest}}"] + skopeo.options("plain")
                                    + [skopeo.reference("plain", repository, "1.2.3")], check=False)
                if result.returncode == 0:
                    promoted = result.stdout.decode().strip()
                    break
                time.sleep(1)
        with open(output_path, encoding="utf-8", errors="replace") as handle:
            log = handle.read()
        assert promoted == release.digest, "not promoted; ansible-rulebook output:\n%s" % log[-6000:]
        assert Skopeo(registries).list_tags("plain", repository) == ["1.2.3"]
        assert token not in log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(10)
