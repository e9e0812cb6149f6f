#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_manifest
short_description: Push, retag, untag or delete manifests in a container registry
version_added: 0.1.0
description:
  - With O(state=present), pushes a manifest or index given in O(manifest), or points O(tag) at the manifest of
    another tag or digest of the same repository (O(source), a retag). The manifest is pushed byte for byte, so the
    digest does not change.
  - With O(state=absent) and O(tag), removes only that tag. Other tags on the same digest, and the manifest itself,
    keep working. Registries without tag deletion (distribution 2.x) get a unique throwaway manifest pushed to the
    tag, which is then deleted by its own digest. Before that write, a C(DELETE) of a digest that cannot exist
    checks that the registry accepts deletes here (once per repository and run); where it does not (deletes
    disabled, no delete permission) the module fails and changes nothing.
  - With O(state=absent) and O(digest), deletes the manifest, and with it B(every tag that points to it); the
    result lists those tags in RV(removed_tags).
  - Compares the current digest of the tag (or the presence of the digest) first, so an unchanged manifest sends no
    write request.
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_full
  - oci.registry.attributes.diff_mode
attributes:
  diff_mode:
    details:
      - Shows the digest the tag pointed to before and after, or whether the digest was present.
options:
  repository:
    description:
      - Repository name, without registry host, tag or digest, for example V(team/app).
    type: str
    required: true
  state:
    description:
      - V(present) makes O(tag) (or O(digest)) point to the manifest of O(manifest) or O(source).
      - V(absent) removes O(tag), or deletes the manifest O(digest) with every tag on it.
    type: str
    choices: [present, absent]
    default: present
  tag:
    description:
      - Tag to push to or remove.
      - With O(state=present) and O(source), required.
      - With O(state=absent), mutually exclusive with O(digest).
    type: str
  digest:
    description:
      - With O(state=present) and O(manifest), the expected digest of the manifest; the module fails before pushing
        when the content hashes to something else. Without O(tag) the manifest is pushed by digest only (untagged).
      - With O(state=present) and O(source), the digest O(source) must currently resolve to; the module fails
        instead of retagging an image that moved.
      - With O(state=absent), the manifest to delete (with every tag pointing to it).
    type: str
  manifest:
    description:
      - The manifest or index to push, as a dict or as a JSON string.
      - A string is pushed exactly as given (use it when the digest must match a known value); a dict is serialised
        as compact JSON with sorted keys.
      - Every blob an image manifest references (and every manifest an index references) must already be in the
        repository; otherwise the registry refuses the manifest and the module names the missing blobs.
      - Mutually exclusive with O(source).
    type: raw
  media_type:
    description:
      - Content type to push O(manifest) with.
      - By default the C(mediaType) field of the manifest, else guessed from its shape (OCI manifest or index).
    type: str
  source:
    description:
      - Tag or digest in O(repository) whose manifest O(tag) should point to (retag, promote within a repository).
      - To copy between repositories or registries use M(oci.registry.registry_copy).
      - Mutually exclusive with O(manifest).
    type: str
notes:
  - Deleting needs a registry that allows it (distribution C(storage.delete.enabled=true)); others answer
    C(405 UNSUPPORTED) and the module says so.
  - If the throwaway manifest's delete is refused although the check passed (the registry configuration changed in
    between), the tag is put back and the module fails; the throwaway manifest then stays in the repository,
    untagged, with the annotation C(io.github.oci-registry.placeholder). Delete it by digest once deletes work, or
    let garbage collection with C(--delete-untagged) remove it.
  - Deleting a manifest or tag does not free storage by itself; the registry's garbage collection does.
seealso:
  - module: oci.registry.registry_manifest_info
  - module: oci.registry.registry_copy
  - module: oci.registry.registry_blob
'''

EXAMPLES = r'''
- name: Tag the tested build as stable (retag within the repository)
  oci.registry.registry_manifest:
    registry_url: https://registry.example.com
    username: ci
    password: "{{ registry_password }}"
    repository: team/app
    source: build-1234
    tag: stable

- name: Retag only if build-1234 is still the image that passed the tests
  oci.registry.registry_manifest:
    registry_url: https://registry.example.com
    repository: team/app
    source: build-1234
    digest: "{{ tested_digest }}"
    tag: release-1.4

- name: Push an index that groups two already pushed images
  oci.registry.registry_manifest:
    registry_url: https://registry.example.com
    repository: team/app
    tag: '1.4'
    manifest:
      schemaVersion: 2
      mediaType: application/vnd.oci.image.index.v1+json
      manifests:
        - mediaType: application/vnd.oci.image.manifest.v1+json
          digest: "{{ amd64_digest }}"
          size: "{{ amd64_size | int }}"
          platform: {os: linux, architecture: amd64}
        - mediaType: application/vnd.oci.image.manifest.v1+json
          digest: "{{ arm64_digest }}"
          size: "{{ arm64_size | int }}"
          platform: {os: linux, architecture: arm64}

- name: Remove the tag build-1234 only (stable keeps working)
  oci.registry.registry_manifest:
    registry_url: https://registry.example.com
    repository: team/app
    tag: build-1234
    state: absent

- name: Delete a manifest, and with it every tag pointing to it
  oci.registry.registry_manifest:
    registry_url: https://registry.example.com
    repository: team/app
    digest: sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
    state: absent
  register: deleted

- name: Say which tags went with it
  ansible.builtin.debug:
    msg: "Removed tags: {{ deleted.removed_tags | join(', ') }}"
'''

RETURN = r'''
digest:
  description:
    - With O(state=present), the digest of the manifest the tag (or digest) now points to.
    - With O(state=absent), the digest that was (or, in check mode, would be) removed or untagged; V(null) when
      there was nothing to remove.
  returned: success
  type: str
  sample: sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
media_type:
  description: Media type of the manifest.
  returned: success, when known
  type: str
  sample: application/vnd.oci.image.manifest.v1+json
previous_digest:
  description: Digest O(tag) pointed to before the task; V(null) when the tag did not exist.
  returned: when O(tag) is set
  type: str
  sample: sha256:1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e
method:
  description:
    - How the tag was removed, V(tag) (C(DELETE) by tag) or V(placeholder) (a unique throwaway manifest pushed to
      the tag and deleted by digest, for registries without tag deletion).
  returned: when O(state=absent) with O(tag) removed a tag outside check mode
  type: str
  sample: placeholder
removed_tags:
  description:
    - Tags that pointed to O(digest) and are gone with it (as far as they could be listed before deleting).
  returned: when O(state=absent) with O(digest)
  type: list
  elements: str
  sample: ['1.3', old-stable]
msg:
  description: What was done, in one line.
  returned: success
  type: str
  sample: Tag team/app:stable now points to sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
diff:
  description: Before and after state, with C(--diff).
  returned: when diff mode is on
  type: dict
  sample:
    before: {repository: team/app, tag: stable, digest: 'sha256:1d3e...'}
    after: {repository: team/app, tag: stable, digest: 'sha256:8e1f...'}
trace:
  description:
    - Requests sent to the registry (method, path, status, duration, bytes), without header values.
    - Only at verbosity 3 (C(-vvv)) and above.
  returned: when verbosity >= 3
  type: list
  elements: dict
  sample:
    - method: HEAD
      host: registry.example.com
      path: /v2/team/app/manifests/stable
      name: request
      attempt: 0
      status: 200
      duration_ms: 4.2
      bytes_sent: 0
      bytes_received: 0
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    connection_argument_spec,
    fail,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import ProtocolError
from ansible_collections.oci.registry.plugins.module_utils._media import (
    MAX_MANIFEST_SIZE,
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


def manifest_from_option(module, value, media_type):
    """(raw bytes, media type) of the manifest option, without any request."""
    if isinstance(value, dict):
        raw = dumps_canonical(value)
    elif isinstance(value, str):
        raw = to_bytes(value, errors='surrogate_or_strict')
    else:
        fail(module, 'manifest must be a dict or a JSON string, got %s' % type(value).__name__)
    if len(raw) > MAX_MANIFEST_SIZE:
        fail(module, 'manifest is %d bytes, more than the %d bytes registries accept' % (len(raw), MAX_MANIFEST_SIZE))
    try:
        parsed = parse_manifest(raw, media_type)
    except ProtocolError as err:
        fail(module, 'manifest is not a valid manifest or index: %s' % (err.message or err))
    media_type = media_type or parsed.media_type
    if not media_type:
        fail(module, 'cannot tell the media type of the manifest; set mediaType in it or the media_type option')
    if parsed.media_type and parsed.media_type.startswith('application/vnd.docker.distribution.manifest.v1'):
        fail(module, 'schema 1 manifests are read-only; registries no longer accept them')
    return raw, media_type


def where(repository, reference):
    return '%s%s%s' % (repository, '@' if ':' in reference else ':', reference)


def present(module, client, repository, tag, digest):
    params = module.params
    result = dict(changed=False)
    if params['source'] is not None:
        source = validate_reference(params['source'])
        fetched = client.manifests.get_manifest_raw(repository, source)
        if digest is not None and fetched.digest != digest:
            fail(module, 'source %s resolves to %s, not the expected digest %s; refusing to tag an image that moved'
                 % (where(repository, source), fetched.digest, digest), digest=fetched.digest)
        raw, media_type, new_digest = fetched.raw, fetched.media_type, fetched.digest
    else:
        raw, media_type = manifest_from_option(module, params['manifest'], params['media_type'])
        new_digest = sha256_digest(raw)
        if digest is not None and digest != new_digest:
            fail(module, 'manifest hashes to %s, not to the given digest %s; pass the manifest as the exact JSON string '
                 'to keep its bytes' % (new_digest, digest), digest=new_digest)

    result.update(digest=new_digest, media_type=media_type)
    target = tag or new_digest
    current = client.manifests.head_manifest(repository, target)
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

    if changed and not module.check_mode:
        pushed = client.manifests.put_manifest(repository, target, raw, media_type)
        if pushed.digest and pushed.digest != new_digest:
            # The registry rewrote the manifest: tell the user rather than report a digest that is not there.
            module.warn('the registry stored the manifest as %s, not as %s' % (pushed.digest, new_digest))
            result['digest'] = pushed.digest
            after['digest'] = pushed.digest
    result['changed'] = changed
    verb = ('would point' if module.check_mode else 'now points') if changed else 'already points'
    if tag is not None:
        result['msg'] = 'Tag %s %s to %s' % (where(repository, tag), verb, result['digest'])
    else:
        action = ('would be pushed' if module.check_mode else 'pushed') if changed else 'already present'
        result['msg'] = 'Manifest %s %s' % (where(repository, new_digest), action)
    if module._diff:
        result['diff'] = dict(before=before, after=after)
    return result


def absent_tag(module, client, repository, tag):
    current = client.manifests.head_manifest(repository, tag)
    result = dict(changed=current is not None, digest=current.digest if current is not None else None,
                  previous_digest=current.digest if current is not None else None)
    if current is not None:
        result['media_type'] = current.media_type
    if current is not None and not module.check_mode:
        result['method'] = client.manifests.delete_tag(repository, tag)
    if current is None:
        result['msg'] = 'Tag %s is already absent' % where(repository, tag)
    else:
        result['msg'] = 'Tag %s %s (it pointed to %s; the manifest and its other tags stay)' % (
            where(repository, tag), 'would be removed' if module.check_mode else 'removed', current.digest)
    if module._diff:
        result['diff'] = dict(before=dict(repository=repository, tag=tag, digest=result['digest']),
                              after=dict(repository=repository, tag=tag, digest=None))
    return result


def tags_on_digest(client, repository, digest):
    for group in client.tags.list_tags_by_digests(repository):
        if group.get('digest') == digest:
            return sorted(group.get('tags') or [])
    return []


def absent_digest(module, client, repository, digest):
    current = client.manifests.head_manifest(repository, digest)
    result = dict(changed=current is not None, digest=digest if current is not None else None, removed_tags=[])
    if current is None:
        result['msg'] = 'Manifest %s is already absent' % where(repository, digest)
    else:
        result['media_type'] = current.media_type
        # Deleting by digest takes every tag on it along; list them first so the user can see what went.
        result['removed_tags'] = tags_on_digest(client, repository, digest)
        if not module.check_mode:
            client.manifests.delete_manifest(repository, digest)
        result['msg'] = 'Manifest %s %s, and with it every tag on it: %s' % (
            where(repository, digest), 'would be deleted' if module.check_mode else 'deleted',
            ', '.join(result['removed_tags']) or 'none')
    if module._diff:
        result['diff'] = dict(
            before=dict(repository=repository, digest=digest, present=current is not None, tags=result['removed_tags']),
            after=dict(repository=repository, digest=digest, present=False, tags=[]))
    return result


def run(module):
    params = module.params
    repository = validate_repository(params['repository'])
    tag = validate_tag(params['tag']) if params['tag'] is not None else None
    digest = validate_digest(params['digest']) if params['digest'] is not None else None
    if params['state'] == 'present':
        if params['source'] is not None:
            validate_reference(params['source'])
            if tag is None:
                fail(module, 'state=present with source needs tag: the tag to point at the manifest of source')
        elif params['manifest'] is None:
            fail(module, 'state=present needs manifest (the content to push) or source (a tag or digest to retag)')
    else:
        if (tag is None) == (digest is None):
            fail(module, 'state=absent needs exactly one of tag (remove only that tag) or digest (delete the manifest '
                         'and every tag on it)')
        if params['manifest'] is not None or params['source'] is not None:
            fail(module, 'manifest and source are only used with state=present')

    client = client_from_params(module)
    if params['state'] == 'present':
        return present(module, client, repository, tag, digest)
    if tag is not None:
        return absent_tag(module, client, repository, tag)
    return absent_digest(module, client, repository, digest)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        tag=dict(type='str'),
        digest=dict(type='str'),
        manifest=dict(type='raw'),
        media_type=dict(type='str'),
        source=dict(type='str'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('manifest', 'source')],
        supports_check_mode=True,
    )
    run_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
