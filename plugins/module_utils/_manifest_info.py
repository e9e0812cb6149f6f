# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""registry_manifest_info's service: describe the manifest a reference means, for a platform if asked.

Platform selection is ``resolve``'s (the one rule); this file only shapes what it found into the
module's result, and reads the image configuration when asked to.

Pure Python on top of the registry client; no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.oci.registry.plugins.module_utils._media import config_platform, index_platforms
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    parse_platform,
    validate_reference,
    validate_repository,
)
from ansible_collections.oci.registry.plugins.module_utils._resolve import resolve
from ansible_collections.oci.registry.plugins.module_utils._service import Outcome, ServiceError


def config_summary(descriptor, data):
    """The RV(config) entry: the fields people look for in an image configuration, and all of it as ``raw``."""
    container = data.get('config') or {}
    return dict(
        digest=descriptor.digest,
        media_type=descriptor.media_type,
        created=data.get('created'),
        author=data.get('author'),
        os=data.get('os'),
        architecture=data.get('architecture'),
        variant=data.get('variant'),
        labels=container.get('Labels') or {},
        env=container.get('Env') or [],
        entrypoint=container.get('Entrypoint') or [],
        cmd=container.get('Cmd') or [],
        working_dir=container.get('WorkingDir') or '',
        user=container.get('User') or '',
        history=data.get('history') or [],
        raw=data,
    )


def describe_manifest(client, repository, reference='latest', platform=None, include_config=False):
    """The registry_manifest_info result for ``reference`` in ``repository`` (an Outcome, never a change)."""
    repository = validate_repository(repository)
    reference = validate_reference(reference)
    wanted = parse_platform(platform) if platform else None

    result = dict(changed=False)
    resolved = None
    if wanted is None:
        # Not parsed strictly: a manifest of an unknown kind is still described (raw, digest, size).
        fetched = client.manifests.get_manifest_raw(repository, reference)
    else:
        resolved = resolve(client, repository, reference, wanted)
        fetched = resolved.result
        if resolved.index is not None:
            result.update(index_digest=resolved.index.digest, index_media_type=resolved.index.media_type)
    manifest = fetched.manifest
    result.update(
        digest=fetched.digest,
        media_type=fetched.media_type,
        size=fetched.size,
        raw=fetched.raw.decode('utf-8', 'surrogateescape'),
        manifest=manifest.data if manifest is not None else None,
        is_index=bool(manifest is not None and manifest.is_index),
        platforms=[],
    )
    if manifest is None:
        return Outcome(result)

    if manifest.is_index:
        result['platforms'] = index_platforms(manifest)
        if include_config:
            raise ServiceError('%s:%s is an index of %d manifests (%s); set platform to choose the image whose '
                               'configuration to read' % (repository, reference, len(manifest.manifests),
                                                          ', '.join(result['platforms']) or 'no platforms'),
                               digest=result['digest'], platforms=result['platforms'])
        return Outcome(result)

    result['layers'] = [dict(digest=layer.digest, size=layer.size, media_type=layer.media_type)
                        for layer in manifest.layers]
    if resolved is not None:
        result['platforms'] = [str(resolved.platform)]
    if include_config:
        data = resolved.config if resolved is not None else None
        if data is None and manifest.config is not None:
            data = client.blobs.get_config(repository, manifest)
        # schema 1 manifests carry no configuration blob; artifacts may have one that is not JSON
        result['config'] = config_summary(manifest.config, data) if data is not None else None
        found = config_platform(data)
        if found is not None:
            result['platforms'] = [str(found)]
    return Outcome(result)


__all__ = ['config_summary', 'describe_manifest']
