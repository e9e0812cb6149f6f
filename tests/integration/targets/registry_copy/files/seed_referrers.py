# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed an index with two referrers (signature, SBOM) kept in the sha256-<hex> tag index; print JSON.

    seed_referrers.py ROOT VARIANT REPOSITORY TAG

The digests come from tests/registries/images.py, independent of the module under test.
"""

import json
import os
import sys


def main():
    root, variant, repository, tag = sys.argv[1:5]
    sys.path.insert(0, os.path.join(root, "tests"))
    from registries import images, load_env  # pylint: disable=import-error

    env = load_env()
    index = images.push_index(env, variant, repository, tag, seed="copy-referrers")
    signature = images.push_artifact(env, variant, repository, index)
    sbom = images.push_artifact(env, variant, repository, index, artifact_type="application/spdx+json",
                                payload=b'{"spdxVersion": "SPDX-2.3"}', existing_referrers=[signature])
    json.dump({
        "digest": index.digest,
        "raw": index.raw.decode("utf-8"),
        "referrers": [signature.digest, sbom.digest],
        "fallback_tag": index.digest.replace(":", "-"),
    }, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
