# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every RETURN value has the type it documents, in its sample and in what the module returns.

The results come from running the modules against the real registries (a fault proxy adds the
Docker Hub rate-limit headers, which no local registry sends). Each result key must be documented,
each documented type must match the value (recursively through ``contains`` and ``elements``),
and each sample must have the documented type: a reader copies the sample into a playbook.
"""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest
import yaml

from ansible_collections.oci.registry.plugins.modules import (
    registry_artifact,
    registry_blob,
    registry_catalog_info,
    registry_info,
    registry_manifest,
    registry_manifest_info,
    registry_tag_info,
)
from ansible_collections.oci.registry.tests.registries import images
from ansible_collections.oci.registry.tests.registries.faultproxy import FaultProxy
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

MODULES = [registry_artifact, registry_blob, registry_catalog_info, registry_info, registry_manifest,
           registry_manifest_info, registry_tag_info]
# Keys Ansible itself adds to every result, documented by Ansible, not by the module.
COMMON_KEYS = {"changed", "invocation", "warnings", "deprecations", "failed", "skipped"}
PYTHON_TYPES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict, "float": (float, int),
                "path": str, "complex": dict}


def returns(module):
    return yaml.safe_load(module.RETURN) or {}


def type_problem(path, kind, value):
    if kind == "raw" or value is None:
        return None  # None: the documentation says when a value is null; the type is for the other cases
    expected = PYTHON_TYPES[kind]
    if isinstance(value, bool) and kind != "bool":
        return "%s: documented %s, is a bool (%r)" % (path, kind, value)
    if not isinstance(value, expected):
        return "%s: documented %s, is %s (%r)" % (path, kind, type(value).__name__, value)
    return None


def check(path, spec, value, problems):
    """Append to ``problems`` where ``value`` does not have the type ``spec`` documents."""
    kind = spec.get("type", "str")
    problem = type_problem(path, kind, value)
    if problem:
        problems.append(problem)
        return
    if kind == "list" and isinstance(value, list):
        elements = spec.get("elements")
        for position, item in enumerate(value):
            item_path = "%s[%d]" % (path, position)
            if elements:
                problem = type_problem(item_path, elements, item)
                if problem:
                    problems.append(problem)
                    continue
            if isinstance(item, dict) and spec.get("contains"):
                check_contains(item_path, spec["contains"], item, problems)
    if isinstance(value, dict) and spec.get("contains"):
        check_contains(path, spec["contains"], value, problems)


def check_contains(path, contains, value, problems):
    for key, sub in contains.items():
        if key in value:
            check("%s.%s" % (path, key), sub, value[key], problems)


def check_samples(path, contains, problems):
    for key, spec in contains.items():
        if "sample" in spec:
            check("%s.%s" % (path, key), spec, spec["sample"], problems)
        if spec.get("contains"):
            check_samples("%s.%s" % (path, key), spec["contains"], problems)


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__.rsplit(".", 1)[-1])
def test_samples_have_the_documented_types(module):
    problems = []
    check_samples("RETURN", returns(module), problems)
    assert problems == []


def kind_of(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def compare_shape(path, sample, value, problems):
    """Where a sample and a real value both have an entry, the entries must be of the same kind.

    This also catches samples of keys that document no ``contains`` (a dict sample holding a
    string where the module returns a number).
    """
    if sample is None or value is None:
        return
    if isinstance(sample, dict) and isinstance(value, dict):
        for key in set(sample) & set(value):
            compare_shape("%s.%s" % (path, key), sample[key], value[key], problems)
    elif isinstance(sample, list) and isinstance(value, list):
        if sample and value:
            compare_shape(path + "[0]", sample[0], value[0], problems)
    elif kind_of(sample) != kind_of(value):
        problems.append("%s: sample is %s (%r), the module returns %s (%r)"
                        % (path, kind_of(sample), sample, kind_of(value), value))


def check_result(module, result):
    assert not result.get("failed"), result.get("msg")
    documented = returns(module)
    undocumented = sorted(set(result) - set(documented) - COMMON_KEYS)
    assert undocumented == [], "%s returns undocumented keys" % module.__name__
    problems = []
    for key, spec in documented.items():
        if key in result:
            check(key, spec, result[key], problems)
            if "sample" in spec:
                compare_shape(key, spec["sample"], result[key], problems)
    assert problems == []
    return result


def test_a_sample_of_another_kind_than_the_result_is_found():
    # registry_info's rate_limit sample once showed "100;w=21600" where the module returns 100.
    problems = []
    compare_shape("rate_limit", {"limit": "100;w=21600", "source": "x"}, {"limit": 100, "source": "y"}, problems)
    assert problems == ["rate_limit.limit: sample is str ('100;w=21600'), the module returns number (100)"]


# ---------------------------------------------------------------- the runs


@pytest.fixture
def had_repo(request):
    name = "".join(c if c.isalnum() else "-" for c in request.node.name.lower()).strip("-")[:40].strip("-")
    return "had/samples-%s-%s" % (name, secrets.token_hex(4))


@pytest.fixture
def plain(registries):
    return registries["registries"]["plain"]["url"]


def test_registry_info_results(registries, plain, capsys):
    with FaultProxy(plain) as proxy:
        proxy.add("respond", method="GET", path=r"^/v2/$", status=200, times=None, body=b"{}", headers={
            "Content-Type": "application/json", "Docker-Distribution-API-Version": "registry/2.0",
            "RateLimit-Limit": "100;w=21600", "RateLimit-Remaining": "76;w=21600",
            "Docker-RateLimit-Source": "203.0.113.7"})
        result = check_result(registry_info, run(registry_info, capsys, registry_url=proxy.url, verbosity=3))
    assert result["rate_limit"] == {"limit": 100, "remaining": 76, "source": "203.0.113.7"}
    token = registries["registries"]["token"]
    result = check_result(registry_info, run(registry_info, capsys, registry_url=token["url"], username="admin",
                                             password=token["users"]["admin"], ca_path=registries["ca_path"]))
    assert result["auth"]["scheme"] == "bearer" and result["authenticated"] is True


def test_registry_blob_results(plain, had_repo, tmp_path, capsys):
    data = images.deterministic_bytes(had_repo, 300 * 1024)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    common = dict(registry_url=plain, diff=True, verbosity=3)
    uploaded = check_result(registry_blob, run(registry_blob, capsys, repository=had_repo, src=str(src),
                                               chunk_size=128 * 1024, **common))
    assert uploaded["method"] == "uploaded" and uploaded["chunks"] == 3
    mounted = check_result(registry_blob, run(registry_blob, capsys, repository=had_repo + "-b", digest=digest,
                                              mount_from=had_repo, **common))
    assert mounted["method"] == "mounted" and mounted["size"] == len(data)
    downloaded = check_result(registry_blob, run(registry_blob, capsys, repository=had_repo, digest=digest,
                                                 dest=str(tmp_path / "out.bin"), mode="0600", **common))
    assert downloaded["method"] == "downloaded" and downloaded["size"] == len(data)
    deleted = check_result(registry_blob, run(registry_blob, capsys, repository=had_repo + "-b", digest=digest,
                                              state="absent", **common))
    assert deleted["method"] == "deleted"
    gone = check_result(registry_blob, run(registry_blob, capsys, repository=had_repo + "-b", digest=digest,
                                           state="absent", **common))
    assert gone["changed"] is False and gone["size"] is None


def test_registry_manifest_results(registries, plain, had_repo, capsys):
    image = images.push_oci_image(registries, "plain", had_repo, "v1", seed=had_repo)
    common = dict(registry_url=plain, repository=had_repo, diff=True, verbosity=3)
    retag = check_result(registry_manifest, run(registry_manifest, capsys, source="v1", tag="v2", **common))
    assert retag["digest"] == image.digest and retag["previous_digest"] is None
    pushed = check_result(registry_manifest, run(registry_manifest, capsys, tag="v3",
                                                 manifest=image.raw.decode(), **common))
    assert pushed["digest"] == image.digest and pushed["changed"] is True
    untagged = check_result(registry_manifest, run(registry_manifest, capsys, tag="v2", state="absent", **common))
    assert untagged["method"] in ("tag", "placeholder")
    deleted = check_result(registry_manifest, run(registry_manifest, capsys, digest=image.digest, state="absent",
                                                  **common))
    assert sorted(deleted["removed_tags"]) == ["v1", "v3"]


def test_registry_manifest_info_results(registries, plain, had_repo, capsys):
    index = images.push_index(registries, "plain", had_repo, "multi", seed=had_repo)
    common = dict(registry_url=plain, repository=had_repo, reference="multi", verbosity=3)
    of_index = check_result(registry_manifest_info, run(registry_manifest_info, capsys, **common))
    assert of_index["is_index"] is True and of_index["size"] == index.size
    image = check_result(registry_manifest_info, run(registry_manifest_info, capsys, platform="linux/arm64",
                                                     include_config=True, **common))
    assert image["index_digest"] == index.digest and image["config"]["architecture"] == "arm64"
    assert json.loads(image["raw"]) == image["manifest"]


def test_registry_tag_info_results(registries, plain, had_repo, capsys):
    images.push_index(registries, "plain", had_repo, "multi", seed=had_repo)
    images.push_oci_image(registries, "plain", had_repo, "single", seed=had_repo + "/single")
    common = dict(registry_url=plain, include_digests=True, include_details=True, verbosity=3)
    one = check_result(registry_tag_info, run(registry_tag_info, capsys, repository=had_repo, **common))
    assert sorted(one["tags"]) == ["multi", "single"]
    assert all(isinstance(group["size"], int) for group in one["tags_by_digest"])
    limited = check_result(registry_tag_info, run(registry_tag_info, capsys, repository=had_repo, limit=1,
                                                  registry_url=plain))
    assert limited["next_last"] == limited["tags"][0]
    many = check_result(registry_tag_info, run(registry_tag_info, capsys, repositories=[had_repo, had_repo + "-none"],
                                               **common))
    assert many["failed_repositories"] == [had_repo + "-none"]
    assert many["repositories"][0]["size"] > 0


def test_registry_catalog_info_results(registries, plain, had_repo, capsys):
    images.push_oci_image(registries, "plain", had_repo, "v1", seed=had_repo)
    result = check_result(registry_catalog_info, run(registry_catalog_info, capsys, registry_url=plain,
                                                     pattern="^had/samples-", limit=1, verbosity=3))
    assert len(result["repositories"]) == 1


def test_registry_artifact_results(registries, plain, tmp_path, capsys):
    repository = "hart/samples-%s" % secrets.token_hex(4)
    images.push_oci_image(registries, "plain", repository, "v1", seed=repository)
    sbom = tmp_path / "sbom.spdx.json"
    sbom.write_bytes(b'{"spdxVersion": "SPDX-2.3"}')
    common = dict(registry_url=plain, repository=repository, diff=True, verbosity=3)
    pushed = check_result(registry_artifact, run(registry_artifact, capsys, tag="sbom", subject="v1",
                                                 artifact_type="application/spdx+json", files=[str(sbom)],
                                                 annotations={"note": "samples"}, **common))
    assert pushed["changed"] is True and pushed["files"][0]["size"] == sbom.stat().st_size
    dest = tmp_path / "dest"
    dest.mkdir()
    pulled = check_result(registry_artifact, run(registry_artifact, capsys, tag="sbom", dest=str(dest), **common))
    assert pulled["artifact_type"] == "application/spdx+json"
    assert pulled["files"][0]["path"] == str(dest / "sbom.spdx.json")
    deleted = check_result(registry_artifact, run(registry_artifact, capsys, tag="sbom", state="absent", **common))
    assert deleted["digest"] == pushed["digest"]
