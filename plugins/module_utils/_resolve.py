# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Platform resolution, written once for the digest lookup, registry_manifest_info and the copy engine.

The rule: an index gives the first image manifest whose platform matches
(attestations never match). A single image is accepted when the platform it
declares matches: its image configuration's os/architecture[/variant], or for
a schema 1 manifest its ``architecture`` (on linux). An image whose platform
cannot be known (an artifact, a configuration without os/architecture) does
not match any platform: the caller asked for a platform we cannot confirm.

Pure Python on top of the registry client; no Ansible imports.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.oci.registry.plugins.module_utils._errors import NotFoundError
from ansible_collections.oci.registry.plugins.module_utils._media import config_platform, select_platform
from ansible_collections.oci.registry.plugins.module_utils._reference import Platform, parse_platform

# digest: of the selected image manifest; result: its ManifestResult (None when not fetched);
# index: the ManifestResult of the index it was selected from (None for a single image);
# platform: the platform the selected image declares (None when no platform was asked for);
# config: the image configuration (dict) when resolving read it, else None.
Resolved = namedtuple("Resolved", ["digest", "result", "index", "platform", "config"])


class PlatformError(NotFoundError):
    """The reference has no image for the platform asked for, or its platform cannot be known."""


def image_platform(client, repository, manifest):
    """``(platform, config)`` of a single image: the platform it declares (None when it declares none)
    and its configuration when one was read (the configuration blob for schema 2 and OCI images)."""
    if manifest.is_index:
        return None, None
    if manifest.config is None:
        return manifest.declared_platform(), None
    config = client.blobs.get_config(repository, manifest)
    return config_platform(config), config


def check_image_platform(client, repository, manifest, wanted, reference=None):
    """``(platform, config)`` of a single image; raises PlatformError unless its platform matches ``wanted``."""
    found, config = image_platform(client, repository, manifest)
    where = dict(repository=repository, reference=reference, action="resolve platform")
    if found is None:
        raise PlatformError("not an image with a known platform (media type %s), cannot check platform %s"
                            % (manifest.media_type, str(wanted)), hint="leave platform unset for this reference",
                            **where)
    if not wanted.matches(found):
        raise PlatformError("a single-platform image for %s, not %s" % (str(found), str(wanted)),
                            hint="available platforms: %s" % str(found), **where)
    return found, config


def resolve(client, repository, reference, platform=None, fetch=True):
    """The manifest ``reference`` means for ``platform`` (a string, dict or Platform; None: no selection).

    ``fetch=False`` stops at the digest when an index selects it (the lookup needs nothing more).
    """
    result = client.manifests.get_manifest(repository, reference)
    if platform is None:
        return Resolved(result.digest, result, None, None, None)
    wanted = platform if isinstance(platform, Platform) else parse_platform(platform)
    manifest = result.manifest
    if manifest.is_index:
        try:
            descriptor = select_platform(manifest, wanted)
        except NotFoundError as err:
            raise PlatformError(err.message, hint=err.hint, repository=repository, reference=reference,
                                action="resolve platform")
        child = client.manifests.get_manifest(repository, descriptor.digest) if fetch else None
        return Resolved(descriptor.digest, child, result, descriptor.platform, None)
    found, config = check_image_platform(client, repository, manifest, wanted, reference)
    return Resolved(result.digest, result, None, found, config)
