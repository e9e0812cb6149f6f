"""Shared fixtures: real registries (tests/registries), skopeo as an independent client, unique names."""

from __future__ import annotations

import re
import secrets

import pytest

from ansible_collections.oci.registry.tests.registries import launcher
from ansible_collections.oci.registry.tests.registries.skopeo import Skopeo


@pytest.fixture(scope="session")
def registries():
    """env.json of running registries (started if needed; stopped at the end only if this session started them).

    State dir: $OCI_REGISTRY_TEST_STATE, else ~/.cache/oci-registry-tests. Concurrent sessions (xdist
    workers, parallel runs) share one set; the last session out stops what a session started.
    """
    with launcher.session() as env:
        yield env


@pytest.fixture(scope="session")
def skopeo(registries):
    """Skopeo(env): inspect_raw, inspect_digest, list_tags, copy, delete, run; credentials via auth files only."""
    return Skopeo(registries)


@pytest.fixture
def unique_repo(request):
    """A repository name no other test uses: test/<test name>-<random>, valid distribution grammar."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:48].strip("-") or "repo"
    return "test/%s-%s" % (name, secrets.token_hex(4))
