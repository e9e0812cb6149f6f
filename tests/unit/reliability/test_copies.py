# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The copy engine (plugins/module_utils/_copy.py) through fault proxies on both sides.

Source: the plain registry behind one proxy; destination: plain2 behind another. Transient
faults within the budget are survived (skopeo confirms the destination digest); persistent
ones fail with one line, leave no destination tag (HEAD on the real registry: 404) and no
upload session; a copy killed with SIGKILL in the middle of a blob and run again completes
with the right digest."""

from __future__ import annotations

import json
import os
import secrets
import signal
import re
import subprocess
import sys
import time

import pytest

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._copy import CopyEngine
from ansible_collections.oci.registry.plugins.module_utils._errors import RegistryError
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.unit.reliability.reliability_helpers import (
    assert_one_line,
    leftover_uploads,
    manifest_status,
)

LAYERS = (96 * 1024, 64 * 1024)
BLOB_GET = r"/blobs/sha256:"
UPLOADS = r"/blobs/uploads/"


@pytest.fixture(scope="module")
def source(registries):
    """A two-layer OCI image at <repo>:v1 on the plain registry, shared by the module's tests (only read);
    each test copies it to its own unique_repo on plain2."""
    repo = "test/reliability-copy-src-%s" % secrets.token_hex(4)
    return images.push_oci_image(registries, "plain", repo, "v1", layers=LAYERS, seed=repo)


def clients(src_url, dest_url, retries=3, timeout=2):
    options = dict(retries=retries, timeout=timeout, sleep=lambda seconds: None)
    return RegistryClient(src_url, **options), RegistryClient(dest_url, **options)


def copy(src_url, dest_url, src_repo, repo, retries=3, timeout=2, chunk_size=None, concurrency=2):
    src_client, dest_client = clients(src_url, dest_url, retries, timeout)
    with src_client, dest_client:
        engine = CopyEngine(src_client, dest_client, concurrency=concurrency, chunk_size=chunk_size)
        src_host = src_url.split("://", 1)[1]
        dest_host = dest_url.split("://", 1)[1]
        return engine.copy("http://%s/%s:v1" % (src_host, src_repo), "http://%s/%s:v1" % (dest_host, repo))


TRANSIENT = [
    pytest.param("src", "GET", BLOB_GET, dict(action="reset_response", after_bytes=32 * 1024, times=1), None,
                 id="src-blob-reset-mid-body"),
    pytest.param("src", "GET", BLOB_GET, dict(action="truncate", after_bytes=32 * 1024, times=2), None,
                 id="src-blob-truncated-x2"),
    pytest.param("src", "GET", BLOB_GET, dict(action="respond", status=503, times=2), None, id="src-blob-503x2"),
    pytest.param("src", "HEAD", r"/manifests/", dict(action="respond", status=502, times=1), None,
                 id="src-manifest-HEAD-502"),
    pytest.param("src", "GET", r"/manifests/", dict(action="drop", times=1), None, id="src-manifest-reset"),
    pytest.param("dest", "HEAD", r"/blobs/", dict(action="respond", status=429, headers={"Retry-After": "0"},
                                                  times=2), None, id="dest-blob-HEAD-429x2"),
    pytest.param("dest", "POST", UPLOADS, dict(action="respond", status=503, times=1), None, id="dest-POST-503"),
    pytest.param("dest", "PUT", UPLOADS, dict(action="drop", times=1), None, id="dest-blob-PUT-reset"),
    pytest.param("dest", "PUT", r"/manifests/", dict(action="respond", status=503, times=2), None,
                 id="dest-manifest-PUT-503x2"),
    pytest.param("dest", "PUT", r"/manifests/", dict(action="stall", seconds=2.0, times=1), None,
                 id="dest-manifest-PUT-stall"),
    pytest.param("dest", "PATCH", UPLOADS, dict(action="reset_request", after_bytes=8 * 1024, times=1), 32 * 1024,
                 id="chunked-dest-PATCH-reset-mid-body"),
    pytest.param("dest", "PATCH", UPLOADS, dict(action="drop", times=1), 32 * 1024, id="chunked-dest-PATCH-reset"),
    pytest.param("dest", "PUT", UPLOADS, dict(action="respond", status=503, times=1), None,
                 id="dest-blob-PUT-503"),
]


@pytest.mark.parametrize("side, method, path, fault, chunk_size", TRANSIENT)
def test_copy_survives_transient_fault(faults, registries, skopeo, source, unique_repo, side, method, path, fault,
                                       chunk_size):
    faults.expect("survive")
    src_proxy, dest_proxy = faults.proxy("plain"), faults.proxy("plain2")
    fault = dict(fault)
    (src_proxy if side == "src" else dest_proxy).add(fault.pop("action"), method=method, path=path, **fault)
    result = copy(src_proxy.url, dest_proxy.url, source.repository, unique_repo, timeout=1, chunk_size=chunk_size)
    assert faults.injected >= 1
    assert result["dest_digest"] == source.digest
    assert skopeo.inspect_digest("plain2", unique_repo, "v1") == source.digest
    assert manifest_status(registries, "plain2", unique_repo, "v1") == 200


# Source faults that strike while the blob streams into the destination PUT.
MID_BODY = ("corrupt", "reset_response")

PERSISTENT = [
    pytest.param("src", "GET", BLOB_GET, dict(action="corrupt", times=None), "hashes to", id="src-blob-corrupt"),
    pytest.param("src", "GET", BLOB_GET, dict(action="reset_response", after_bytes=32 * 1024, times=None),
                 "connection broke", id="src-blob-reset-always"),
    pytest.param("src", "GET", BLOB_GET, dict(action="respond", status=503, times=None), "503",
                 id="src-blob-503-always"),
    pytest.param("dest", "PUT", r"/manifests/", dict(action="respond", status=500, times=None), "500",
                 id="dest-manifest-PUT-500"),
    pytest.param("dest", "PUT", r"/manifests/", dict(action="respond", status=503, times=None), "503",
                 id="dest-manifest-PUT-503-always"),
    pytest.param("dest", "PUT", UPLOADS, dict(action="drop", times=None), "cannot reach", id="dest-blob-PUT-reset"),
]


def _persistent(faults, registries, source, unique_repo, side, method, path, fault, expected):
    faults.expect("fail_clean")
    src_proxy, dest_proxy = faults.proxy("plain"), faults.proxy("plain2")
    fault = dict(fault)
    (src_proxy if side == "src" else dest_proxy).add(fault.pop("action"), method=method, path=path, **fault)
    with pytest.raises(RegistryError) as caught:
        copy(src_proxy.url, dest_proxy.url, source.repository, unique_repo, retries=2)
    text = assert_one_line(caught.value)
    assert expected in text, text
    # Nothing half-written: no destination tag on incomplete content.
    assert manifest_status(registries, "plain2", unique_repo, "v1") == 404
    cancelled = set(re.findall(r"/blobs/uploads/([0-9a-f-]{36})", " ".join(
        path for verb, path, dummy in dest_proxy.requests if verb == "DELETE")))
    return leftover_uploads(registries, "plain2", unique_repo), cancelled


@pytest.mark.parametrize("side, method, path, fault, expected", PERSISTENT)
def test_copy_persistent_fault_fails_without_tag(faults, registries, source, unique_repo, side, method, path,
                                                 fault, expected):
    _persistent(faults, registries, source, unique_repo, side, method, path, fault, expected)


@pytest.mark.parametrize("side, method, path, fault, expected", PERSISTENT)
def test_copy_persistent_fault_leaves_no_upload_session(faults, registries, source, unique_repo, side, method, path,
                                                        fault, expected):
    leftover, cancelled = _persistent(faults, registries, source, unique_repo, side, method, path, fault, expected)
    if side == "src" and fault.get("action") in MID_BODY:
        # The source broke while its bytes were streaming into the destination PUT. Whether the
        # registry had taken part of that body is a race; when it had, distribution 2.8 refuses
        # the cancel (stale _state) and leaves the session to its upload purging. What the engine
        # controls, and what must hold every time, is that it cancelled every session it opened.
        assert set(leftover) <= cancelled, (leftover, cancelled)
    else:
        assert leftover == []


# --------------------------------------------------------------------------- SIGKILL mid-copy

KILL_SCRIPT = r"""
import json, sys
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._copy import CopyEngine
src_url, dest_url, src, dest = sys.argv[1:5]
with RegistryClient(src_url, timeout=30) as s, RegistryClient(dest_url, timeout=30) as d:
    print(json.dumps(CopyEngine(s, d, concurrency=2).copy(src, dest)), flush=True)
"""


def _run_copy_process(src_url, dest_url, repo):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    argv = [sys.executable, "-c", KILL_SCRIPT, src_url, dest_url, "%s/%s:v1" % (src_url, repo),
            "%s/%s:v1" % (dest_url, repo)]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_copy_killed_mid_blob_then_rerun_completes(faults, registries, skopeo, unique_repo):
    faults.expect("survive")
    image = images.push_oci_image(registries, "plain", unique_repo, "v1", layers=(400 * 1024, 300 * 1024),
                                  seed=unique_repo)
    src_proxy = faults.proxy("plain")
    # Blobs trickle at 100 KiB/s: the copy is certainly inside a blob transfer when it is killed.
    throttle = src_proxy.add("throttle", method="GET", path=BLOB_GET, rate=100 * 1024, times=None)
    process = _run_copy_process(src_proxy.url, registries["registries"]["plain2"]["url"], unique_repo)
    try:
        deadline = time.monotonic() + 20
        while throttle.hits < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    # Killed mid-blob: no tag on incomplete content.
    assert manifest_status(registries, "plain2", unique_repo, "v1") == 404
    src_proxy.clear()
    rerun = _run_copy_process(src_proxy.url, registries["registries"]["plain2"]["url"], unique_repo)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["dest_digest"] == image.digest
    assert skopeo.inspect_digest("plain2", unique_repo, "v1") == image.digest
    raw = skopeo.inspect_raw("plain2", unique_repo, "v1")
    assert raw == image.raw
