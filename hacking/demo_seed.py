"""Seed the demo's staging registry and write the playbook variables to a JSON file.

Usage: demo_seed.py STATE_DIR OUTPUT_JSON

Uses the test image builders (tests/registries/images.py), not the collection, so the demo starts
from content the collection did not write.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from registries import images, load_env  # noqa: E402  (path set up above)


def main():
    env = load_env(sys.argv[1] if len(sys.argv) > 1 else None)
    staging, production = env["registries"]["plain"], env["registries"]["plain2"]

    # team/app: five releases a month apart, each a two-platform index with a BuildKit-style
    # attestation; 1.4.0 (the one the demo promotes) also carries a signature referrer.
    releases = {}
    for month, version in enumerate(["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"], start=1):
        releases[version] = images.push_index(env, "plain", "team/app", version, seed="demo/app/" + version,
                                              created="2026-%02d-15T12:00:00Z" % month)
    images.tag_manifest(env, "plain", "team/app", releases["1.4.0"], ["latest"])
    images.push_oci_image(env, "plain", "team/app", "pr-17", seed="demo/app/pr-17", created="2026-01-20T08:00:00Z")
    images.push_oci_image(env, "plain", "team/app", "pr-18", seed="demo/app/pr-18", created="2026-02-21T08:00:00Z")
    signature = images.push_artifact(env, "plain", "team/app", releases["1.4.0"])

    # upstream/tool: what the mirror role syncs, semver tags plus noise it must ignore.
    for version in ["0.9.0", "1.0.0", "1.1.0", "1.2.3", "2.0.0", "nightly"]:
        images.push_oci_image(env, "plain", "upstream/tool", version, seed="demo/tool/" + version)

    with open(sys.argv[2], "w") as out:
        json.dump({
            "demo_staging": staging["host"],
            "demo_production": production["host"],
            "demo_tested_digest": releases["1.4.0"].digest,
            "demo_signature_digest": signature.digest,
            "demo_release_digests": {version: index.digest for version, index in releases.items()},
        }, out, indent=2)


if __name__ == "__main__":
    main()
