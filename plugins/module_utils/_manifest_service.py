# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""registry_manifest's service: push or retag a manifest, remove a tag, delete a manifest.

Every task reads first (HEAD of the tag or digest) and writes only when the state differs, so a
repeated run sends no write and check mode predicts from the same reads. Removing a tag is the
client's ``delete_tag`` (DELETE by tag, else the placeholder that restores nothing it should not).

Pure Python on top of the registry client; no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.oci.registry.plugins.module_utils._errors import ProtocolError
from ansible_collections.oci.registry.plugins.module_utils._media import (
    MAX_MANIFEST_SIZE,
    SCHEMA1_TYPES,
    dumps_canonical,
    parse_manifest,
    sha256_digest,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_reference,
    validate_repository,
    validate_tag,
)
from ansible_collections.oci.registry.plugins.module_utils._service import Outcome, ServiceError


def manifest_from_option(value, media_type=None):
    """(raw bytes, media type) of a manifest given as a dict or a JSON string, without any request."""
    if isinstance(value, dict):
        raw = dumps_canonical(value)
    elif isinstance(value, str):
        raw = value.encode('utf-8', 'surrogateescape')
    else:
        raise ServiceError('manifest must be a dict or a JSON string, got %s' % type(value).__name__)
    if len(raw) > MAX_MANIFEST_SIZE:
        raise ServiceError('manifest is %d bytes, more than the %d bytes registries accept'
                           % (len(raw), MAX_MANIFEST_SIZE))
    try:
        parsed = parse_manifest(raw, media_type)
    except ProtocolError as err:
        raise ServiceError('manifest is not a valid manifest or index: %s' % (err.message or err))
    media_type = media_type or parsed.media_type
    if not media_type:
        raise ServiceError('cannot tell the media type of the manifest; set mediaType in it or the media_type option')
    if parsed.media_type in SCHEMA1_TYPES:
        raise ServiceError('schema 1 manifests are read-only; registries no longer accept them')
    return raw, media_type


def where(repository, reference):
    return '%s%s%s' % (repository, '@' if ':' in reference else ':', reference)


class ManifestService(object):
    """One registry_manifest task on ``client``; ``check_mode`` predicts instead of writing."""

    def __init__(self, client, check_mode=False):
        self.client = client
        self.check_mode = check_mode

    def apply(self, options):
        """Run the task the registry_manifest options describe."""
        repository = validate_repository(options['repository'])
        tag = validate_tag(options['tag']) if options.get('tag') is not None else None
        digest = validate_digest(options['digest']) if options.get('digest') is not None else None
        source, manifest = options.get('source'), options.get('manifest')
        if options.get('state', 'present') == 'present':
            if source is not None:
                validate_reference(source)
                if tag is None:
                    raise ServiceError('state=present with source needs tag: the tag to point at the manifest of '
                                       'source')
            elif manifest is None:
                raise ServiceError('state=present needs manifest (the content to push) or source (a tag or digest '
                                   'to retag)')
            return self.present(repository, tag=tag, digest=digest, source=source, manifest=manifest,
                                media_type=options.get('media_type'))
        if (tag is None) == (digest is None):
            raise ServiceError('state=absent needs exactly one of tag (remove only that tag) or digest (delete the '
                               'manifest and every tag on it)')
        if manifest is not None or source is not None:
            raise ServiceError('manifest and source are only used with state=present')
        if tag is not None:
            return self.absent_tag(repository, tag)
        return self.absent_digest(repository, digest)

    # ------------------------------------------------------------------ present

    def _content(self, repository, digest, source, manifest, media_type):
        """(raw, media type, digest) of what to push: the manifest of ``source``, or the ``manifest`` option."""
        if source is not None:
            source = validate_reference(source)
            fetched = self.client.manifests.get_manifest_raw(repository, source)
            if digest is not None and fetched.digest != digest:
                raise ServiceError('source %s resolves to %s, not the expected digest %s; refusing to tag an image '
                                   'that moved' % (where(repository, source), fetched.digest, digest),
                                   digest=fetched.digest)
            return fetched.raw, fetched.media_type, fetched.digest
        raw, media_type = manifest_from_option(manifest, media_type)
        new_digest = sha256_digest(raw)
        if digest is not None and digest != new_digest:
            raise ServiceError('manifest hashes to %s, not to the given digest %s; pass the manifest as the exact '
                               'JSON string to keep its bytes' % (new_digest, digest), digest=new_digest)
        return raw, media_type, new_digest

    def present(self, repository, tag=None, digest=None, source=None, manifest=None, media_type=None):
        """Point ``tag`` (or, without a tag, the digest itself) at a manifest."""
        raw, media_type, new_digest = self._content(repository, digest, source, manifest, media_type)
        result = dict(digest=new_digest, media_type=media_type)
        target = tag or new_digest
        current = self.client.manifests.head_manifest(repository, target)
        if tag is not None:
            previous = current.digest if current is not None else None
            result['previous_digest'] = previous
            changed = previous != new_digest
            before = dict(repository=repository, tag=tag, digest=previous)
            after = dict(repository=repository, tag=tag, digest=new_digest)
        else:
            changed = current is None
            before = dict(repository=repository, digest=new_digest, present=not changed)
            after = dict(repository=repository, digest=new_digest, present=True)

        warnings = []
        if changed and not self.check_mode:
            pushed = self.client.manifests.put_manifest(repository, target, raw, media_type)
            if pushed.digest and pushed.digest != new_digest:
                # The registry rewrote the manifest: tell the user rather than report a digest that is not there.
                warnings.append('the registry stored the manifest as %s, not as %s' % (pushed.digest, new_digest))
                result['digest'] = after['digest'] = pushed.digest
        result['changed'] = changed
        if tag is not None:
            verb = ('would point' if self.check_mode else 'now points') if changed else 'already points'
            result['msg'] = 'Tag %s %s to %s' % (where(repository, tag), verb, result['digest'])
        else:
            action = ('would be pushed' if self.check_mode else 'pushed') if changed else 'already present'
            result['msg'] = 'Manifest %s %s' % (where(repository, new_digest), action)
        return Outcome(result, before, after, warnings)

    # ------------------------------------------------------------------ absent

    def absent_tag(self, repository, tag):
        """Remove ``tag`` only; the manifest and its other tags stay."""
        current = self.client.manifests.head_manifest(repository, tag)
        digest = current.digest if current is not None else None
        result = dict(changed=current is not None, digest=digest, previous_digest=digest)
        if current is None:
            result['msg'] = 'Tag %s is already absent' % where(repository, tag)
        else:
            result['media_type'] = current.media_type
            if not self.check_mode:
                result['method'] = self.client.manifests.delete_tag(repository, tag)
            result['msg'] = 'Tag %s %s (it pointed to %s; the manifest and its other tags stay)' % (
                where(repository, tag), 'would be removed' if self.check_mode else 'removed', digest)
        return Outcome(result, dict(repository=repository, tag=tag, digest=digest),
                       dict(repository=repository, tag=tag, digest=None))

    def tags_on_digest(self, repository, digest):
        for group in self.client.tags.list_tags_by_digests(repository):
            if group.get('digest') == digest:
                return sorted(group.get('tags') or [])
        return []

    def absent_digest(self, repository, digest):
        """Delete the manifest ``digest``, and with it every tag on it (listed first, so the result names them)."""
        current = self.client.manifests.head_manifest(repository, digest)
        result = dict(changed=current is not None, digest=digest if current is not None else None, removed_tags=[])
        if current is None:
            result['msg'] = 'Manifest %s is already absent' % where(repository, digest)
        else:
            result['media_type'] = current.media_type
            result['removed_tags'] = self.tags_on_digest(repository, digest)
            if not self.check_mode:
                self.client.manifests.delete_manifest(repository, digest)
            result['msg'] = 'Manifest %s %s, and with it every tag on it: %s' % (
                where(repository, digest), 'would be deleted' if self.check_mode else 'deleted',
                ', '.join(result['removed_tags']) or 'none')
        return Outcome(result,
                       dict(repository=repository, digest=digest, present=current is not None,
                            tags=result['removed_tags']),
                       dict(repository=repository, digest=digest, present=False, tags=[]))


__all__ = ['ManifestService', 'manifest_from_option', 'where']
