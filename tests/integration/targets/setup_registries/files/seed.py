# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed a deterministic image into a test registry and print what was pushed as JSON.

The integration targets call this through ansible.builtin.command, so the expected
digests come from tests/registries/images.py (an independent implementation), not from
the modules under test.

    seed.py ROOT VARIANT KIND REPOSITORY TAG [TAG...] [--seed TEXT] [--user USER]

KIND: oci (OCI image), docker (Docker v2 image), index (OCI index linux/amd64 +
linux/arm64/v8 with attestations), docker-index (Docker manifest list).
"""

import argparse
import json
import os
import sys


def image_record(image):
    return {
        "digest": image.digest,
        "media_type": image.media_type,
        "size": image.size,
        "raw": image.raw.decode("utf-8"),
        "config_digest": image.config["digest"],
        "config_size": image.config["size"],
        "layers": image.layers,
        "platform": ("%s/%s%s" % (image.platform["os"], image.platform["architecture"],
                                  "/" + image.platform["variant"] if image.platform.get("variant") else "")
                     if image.platform else None),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root", help="collection root (holds tests/registries)")
    parser.add_argument("variant")
    parser.add_argument("kind", choices=("oci", "docker", "index", "docker-index"))
    parser.add_argument("repository")
    parser.add_argument("tags", nargs="+")
    parser.add_argument("--seed", default="oci.registry")
    parser.add_argument("--user", default=None, help="default: admin where the variant has users")
    parser.add_argument("--created", default=None)
    parser.add_argument("--label", action="append", default=[], help="KEY=VALUE, repeatable")
    args = parser.parse_args()

    sys.path.insert(0, os.path.join(args.root, "tests"))
    from registries import images, load_env  # pylint: disable=import-error

    env = load_env()
    user = images.DEFAULT_USER if args.user is None else args.user
    options = {"seed": args.seed}
    if args.created:
        options["created"] = args.created
    if args.label:
        options["labels"] = dict(label.split("=", 1) for label in args.label)
    first, rest = args.tags[0], args.tags[1:]
    if args.kind == "oci":
        pushed = images.push_oci_image(env, args.variant, args.repository, first, user=user, **options)
    elif args.kind == "docker":
        pushed = images.push_docker_image(env, args.variant, args.repository, first, user=user, **options)
    else:
        pushed = images.push_index(env, args.variant, args.repository, first, user=user,
                                   docker=args.kind == "docker-index", **options)
    if rest:
        images.tag_manifest(env, args.variant, args.repository, pushed, rest, user=user)

    result = {"repository": args.repository, "tags": args.tags, "digest": pushed.digest,
              "media_type": pushed.media_type, "size": pushed.size, "raw": pushed.raw.decode("utf-8")}
    if hasattr(pushed, "images"):
        result["images"] = [image_record(image) for image in pushed.images]
        result["attestations"] = [image.digest for image in pushed.attestations]
        result["platforms"] = [record["platform"] for record in result["images"]]
    else:
        result.update(image_record(pushed))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
