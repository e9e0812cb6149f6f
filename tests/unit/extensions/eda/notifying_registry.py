# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private distribution registry whose `notifications` endpoint is the event source under test.

Not one of the shared registries of tests/registries: those are shared by every test and session,
and a notification endpoint is per test. Changing tests/registries/launcher.py would also change its
harness version, which restarts the shared registries under every other running session.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request

from ansible_collections.oci.registry.tests.registries import launcher

VARIANT = "plain_events"  # "plain..." tells the harness's skopeo wrapper that it is plain HTTP


def _config(port, data_dir, endpoint_url, token):
    # JSON is YAML, as the launcher's own configs use.
    return {
        "version": "0.1",
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": data_dir}, "delete": {"enabled": True},
                    "maintenance": {"uploadpurging": {"enabled": False}}},
        "http": {"addr": "127.0.0.1:%d" % port, "secret": secrets.token_hex(16)},
        "notifications": {"endpoints": [{
            "name": "eda", "url": endpoint_url, "headers": {"Authorization": ["Bearer " + token]},
            # A failed delivery is retried soon, so a test sees redeliveries within its wait.
            "timeout": "3s", "threshold": 3, "backoff": "1s",
            "ignoredmediatypes": ["application/octet-stream"],
        }]},
    }


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):  # nosec - a local URL the test built
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextlib.contextmanager
def notifying_registry(env, directory, endpoint_url, token):
    """Start `docker-registry serve` notifying endpoint_url; yield a copy of env with it as variant plain_events."""
    os.makedirs(os.path.join(directory, "data"), exist_ok=True)
    port = launcher.free_port()
    config_path = os.path.join(directory, "config.yml")
    with open(config_path, "w", encoding="utf-8") as handle:
        json.dump(_config(port, os.path.join(directory, "data"), endpoint_url, token), handle)
    log_path = os.path.join(directory, "registry.log")
    with open(log_path, "ab") as log:
        process = subprocess.Popen([launcher.REGISTRY_BINARY, "serve", config_path], stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + launcher.READY_TIMEOUT
        while not _answers(url + "/v2/"):
            if process.poll() is not None or time.monotonic() > deadline:
                with open(log_path, encoding="utf-8", errors="replace") as handle:
                    raise RuntimeError("the notifying registry did not start:\n" + handle.read()[-2000:])
            time.sleep(0.1)
        private_env = copy.deepcopy(dict(env))
        private_env["registries"][VARIANT] = {"url": url, "host": url.split("://", 1)[1], "log": log_path}
        yield private_env
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
