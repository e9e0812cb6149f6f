#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_delete
short_description: Remove many tags and delete many manifests across repositories in one run
version_added: 0.2.0
description:
  - Removes the tags and deletes the manifests listed per repository in O(repositories), several repositories at
    a time (O(concurrency)), over reused connections. This is the apply step of the P(oci.registry.cleanup#role)
    role; for one tag or one manifest M(oci.registry.registry_manifest) does the same.
  - A tag is removed on its own (other tags of its manifest keep working), as M(oci.registry.registry_manifest)
    does with O(oci.registry.registry_manifest#module:state=absent) and a tag; deleting a manifest removes every
    tag that still points to it.
  - 'Safe against a plan that went stale: just before it writes in a repository, the module reads that
    repository''s tags again (the tag list, and one C(HEAD) per tag), and once more after untagging and before
    deleting manifests. It refuses to remove a tag that now points to another digest than the C(digest) given
    with it, and refuses to delete a manifest that a tag not listed in O(repositories[].tags) now points to,
    directly or through an index at any depth. Refusals are reported in RV(repositories[].refused), they do not
    fail the module.'
  - 'A tag given with a C(digest) that O(repositories[].digests) deletes goes with that manifest and needs no
    request of its own, so a real run does not C(HEAD) it: the tag list before tells whether it is still there,
    and the tag list after the deletes whether it went (a tag still listed had moved to another manifest; it is
    then reported in RV(repositories[].refused) as moved, as check mode predicts).'
  - 'The window that is left: a tag pushed onto a listed manifest between that last read and the manifest''s
    C(DELETE) (milliseconds to seconds, in the same repository) is deleted with it. The registry API has no
    conditional delete.'
  - One repository failing (for example because the registry refuses deletes) does not stop the others; the
    module then fails after all repositories are done, with every result in RV(repositories).
  - With O(retention) instead of O(repositories), the module reads the repositories, plans the cleanup with the
    rules of P(oci.registry.retention_plan#filter) and applies it in the same run (the race guard above
    included), returning only the report, RV(report). This is the one module run of the
    P(oci.registry.cleanup#role) role; it saves passing the read and the plan from task to task.
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_full
  - oci.registry.attributes.diff_mode
attributes:
  check_mode:
    details:
      - Reads the tags as a real run does and predicts every removal, refusal and C(changed) exactly (only
        RV(repositories[].removed_tags[].via) is predicted as V(tag) where the real run may need a placeholder).
      - With O(retention), reads and plans as a real run does, then predicts the apply the same way.
  diff_mode:
    details:
      - Per repository, the removed tags with their digests and the deleted manifests, before and after.
requirements:
  - cryptography, only for O(retention.verify_keys) (on the node that runs the module)
options:
  repositories:
    description:
      - What to remove, per repository. A repository may appear once.
      - Required unless O(retention) is set; the two exclude each other.
    type: list
    elements: dict
    suboptions:
      repository:
        description: Repository name, for example V(team/app).
        type: str
        required: true
      tags:
        description:
          - Tags to remove. Each is a tag name, or a dict with C(tag) and C(digest); with C(digest) the tag is
            removed only if it still points there (else it is refused as moved).
          - A tag whose manifest is deleted through O(repositories[].digests) goes with it (no separate request).
        type: list
        elements: raw
        default: []
      digests:
        description:
          - Manifest digests to delete. Indexes are deleted first, in this order (put indexes before the manifests
            they list, as the P(oci.registry.retention_plan#filter) filter does), so no index lists a deleted
            manifest; then the image manifests, concurrently.
          - Each is a digest, or a dict with C(digest) and C(media_type), the media type the caller read. With it,
            and a tag of O(repositories[].tags) listed with this digest still in the repository, the module
            sends no C(HEAD) to learn whether the manifest exists and is an index.
          - On the distribution registry this needs C(storage.delete.enabled=true).
        type: list
        elements: raw
        default: []
  retention:
    description:
      - Plan the removals in this run instead of taking them in O(repositories) - read the repositories, plan with
        the rules of P(oci.registry.retention_plan#filter), apply the plan and return RV(report).
      - The options are those of P(oci.registry.cleanup_plan#filter), plus which repositories to read and the
        signature rules (O(retention.keep_signed), O(retention.delete_orphans)), which need the registry.
      - Repository by repository, O(concurrency) at a time (read, plan, apply), so no plan is older than its
        repository's read. A repository of at most 4 tags is not read again before the apply writes there; its
        read, a few requests old, stands for that read. A bigger one is read again just before, as described
        above. Either way the tags are read once more after untagging, before deleting manifests.
    type: dict
    suboptions:
      repositories:
        description:
          - Repository names to clean up.
          - Exactly one of O(retention.repositories) and O(retention.repository_pattern).
        type: list
        elements: str
      repository_pattern:
        description:
          - Regular expression (searched) over the registry's catalog; every matching repository is cleaned up.
          - V(.*) for every repository.
        type: str
      keep_patterns:
        description: Tags matching one of these regular expressions are kept.
        type: list
        elements: str
        default: ['^latest$']
      delete_patterns:
        description: Only tags matching one of these are candidates for removal; unset means every tag.
        type: list
        elements: str
      keep_latest:
        description: Keep the tags of the N newest images among the candidates (by configuration C(created) date).
        type: int
        default: 0
      older_than_days:
        description: Keep candidates younger than this many days (images without a date are kept).
        type: float
      mode:
        description:
          - V(untag) removes the tags only; V(delete) also deletes the manifests that only removed tags used.
        type: str
        choices: [untag, delete]
        default: untag
      keep_signed:
        description:
          - Never remove a signed image, whatever its age or rank. An image counts as signed when it, or a
            manifest its index lists, has a cosign signature, in the tag scheme (C(sha256-<hex>.sig)) or as an
            OCI referrer (referrers API or C(sha256-<hex>) fallback index).
          - Without O(retention.verify_keys) any signature counts, even one nobody can verify; with them, only a
            signature one of the keys verifies over the image's own digest (as P(oci.registry.registry_signature_info#module)
            checks it).
          - Only the images the other rules would remove are looked up, a few requests each (the signature
            manifest, its payload with O(retention.verify_keys), the referrers API). A kept signed image is not
            counted by O(retention.keep_latest), which keeps the newest unsigned ones besides.
          - The report gives, per kept tag, the signature that kept it.
        type: bool
        default: false
      verify_keys:
        description:
          - With O(retention.keep_signed), only signatures one of these public keys verifies keep an image.
          - PEM public keys (C(BEGIN PUBLIC KEY)) - ECDSA P-256/P-384/P-521, RSA or Ed25519 - as text or as paths
            of files on the managed node, as for P(oci.registry.registry_signature_info#module). Needs the
            Python package C(cryptography) on the node.
        type: list
        elements: str
      delete_orphans:
        description:
          - Remove referrer tags (cosign's C(.sig), C(.att), C(.sbom) and the C(sha256-<hex>) fallback index)
            whose subject manifest no longer exists, left behind by other tools. With O(retention.mode=delete),
            their manifests are deleted too.
          - A referrer tag whose subject no tag uses but which still exists is kept (a HEAD per such subject
            tells). With V(false), every referrer tag whose subject no tag here uses is kept.
          - Referrer tags of images this cleanup removes are removed with their image whatever this option says.
        type: bool
        default: false
      dry_run:
        description:
          - Read and plan only; RV(report) lists what would be removed and nothing is written.
          - Unlike check mode, the apply does not predict its refusals (it does not read the registry again), and
            every C(changed) in RV(report) is V(false).
        type: bool
        default: false
  concurrency:
    description:
      - Most repositories worked on at once. Inside a repository, tags are removed one after the other, then
        indexes are deleted one after the other in the order of O(repositories[].digests), then the other
        manifests concurrently; in all, at most twice O(concurrency) requests are in flight.
      - From 1 to 64.
    type: int
    default: 8
seealso:
  - module: oci.registry.registry_manifest
  - module: oci.registry.registry_tag_info
'''

EXAMPLES = r'''
- name: Delete every image of team/* but the latest and the 5 newest, reading and planning in the same run
  oci.registry.registry_delete:
    registry_url: https://registry.example.com
    retention:
      repository_pattern: ^team/
      keep_latest: 5
      mode: delete
  register: cleaned

- name: What went, and what a concurrent push saved
  ansible.builtin.debug:
    msg: "{{ cleaned.report.deleted_manifests }} manifests deleted, refused: {{ cleaned.report.repositories | map(attribute='refused') | flatten }}"

- name: Remove two tags and delete a manifest in two repositories
  oci.registry.registry_delete:
    registry_url: https://registry.example.com
    repositories:
      - repository: team/app
        tags: [dev-1, dev-2]
      - repository: team/tool
        tags:
          - tag: '0.9'
            digest: sha256:10a2d3e1c4f0b1a8a0bd3e8d9d3a3b2e1f0c9d8b7a6f5e4d3c2b1a0f9e8d7c6b
        digests: [sha256:10a2d3e1c4f0b1a8a0bd3e8d9d3a3b2e1f0c9d8b7a6f5e4d3c2b1a0f9e8d7c6b]
  register: deleted

- name: What was refused because a tag started to use it
  ansible.builtin.debug:
    msg: "{{ deleted.repositories | map(attribute='refused') | flatten }}"
'''

RETURN = r'''
report:
  description:
    - With O(retention), the cleanup report, the shape of the P(oci.registry.cleanup#role) role's C(cleanup_report).
    - C(mode), C(dry_run), C(check_mode), C(applied) (whether anything was written), C(repositories) (per repository
      C(repository), C(exists), C(kept) and C(removed) (each C(tag), C(digest), C(reason)), C(deleted) (manifest
      digests), C(reclaimable_bytes), C(warnings), C(changed), C(refused) (as RV(repositories[].refused)),
      C(error)), and the totals C(removed_tags), C(deleted_manifests), C(reclaimable_bytes), C(failed_repositories).
    - Refused tags and manifests are not in C(removed) and C(deleted).
  returned: when O(retention) is set
  type: dict
repositories:
  description: One entry per entry of O(repositories), in that order.
  returned: when O(repositories) is set
  type: list
  elements: dict
  contains:
    repository:
      description: Repository name.
      type: str
      returned: always
    changed:
      description: Whether a tag was removed or a manifest deleted (in check mode, would be).
      type: bool
      returned: always
    removed_tags:
      description:
        - Tags removed, sorted, each with C(tag), C(digest) (where it pointed) and C(via), how it was removed
          V(tag) (C(DELETE) by tag), V(placeholder) (the registry cannot delete tags; a throwaway manifest was
          pushed to the tag and deleted), or V(manifest) (its manifest was deleted).
      type: list
      elements: dict
      returned: always
      sample: [{tag: dev-1, digest: 'sha256:10a2...', via: placeholder}]
      contains:
        tag:
          description: The tag.
          type: str
          returned: always
        digest:
          description: The digest it pointed to.
          type: str
          returned: always
        via:
          description: V(tag), V(placeholder) or V(manifest).
          type: str
          returned: always
    deleted:
      description: Manifest digests deleted, in order.
      type: list
      elements: str
      returned: always
    absent:
      description: Tags and digests that were already gone (no request was needed).
      type: list
      elements: str
      returned: always
    refused:
      description:
        - Items not removed because the registry changed since the plan, each with C(tag) or C(digest) and the
          C(reason), for example V(tag release-1, which the plan keeps, now points to it).
      type: list
      elements: dict
      returned: always
    error:
      description:
        - V(null), or why this repository failed (C(msg), and C(status), C(code), C(hint) when known). What was
          done before the failure is still listed.
      type: dict
      returned: always
failed_repositories:
  description:
    - Names of the repositories whose RV(repositories[].error) is set (with O(retention), whose
      C(error) in RV(report) is set, read errors included).
  returned: always
  type: list
  elements: str
diff:
  description: Before and after, by repository (C(tags) tag to digest, C(manifests)), with C(--diff).
  returned: when diff mode is on
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    connection_argument_spec,
    fail,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._bulk_delete import DEFAULT_CONCURRENCY, apply
from ansible_collections.oci.registry.plugins.module_utils._cleanup import clean
from ansible_collections.oci.registry.plugins.module_utils._options import check_number
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_repository,
    validate_tag,
)


def entries_from_params(module):
    entries = []
    seen = set()
    for item in module.params['repositories']:
        repository = validate_repository(item['repository'])
        if repository in seen:
            fail(module, 'repository %s is listed twice in repositories; merge its tags and digests' % repository)
        seen.add(repository)
        tags = []
        for tag in item['tags'] or []:
            if isinstance(tag, dict):
                if set(tag) - set(('tag', 'digest')) or not tag.get('tag'):
                    fail(module, 'repositories[%s].tags: a dict needs tag (and may have digest), got %r'
                         % (repository, tag))
                validate_tag(str(tag['tag']))
                if tag.get('digest'):
                    validate_digest(str(tag['digest']))
                tags.append({'tag': str(tag['tag']), 'digest': str(tag['digest']) if tag.get('digest') else None})
            elif isinstance(tag, str):
                validate_tag(tag)
                tags.append(tag)
            else:
                fail(module, 'repositories[%s].tags: each item is a tag name or a dict, got %r' % (repository, tag))
        digests = []
        seen_digests = set()
        for digest in item['digests'] or []:
            if isinstance(digest, dict):
                if set(digest) - set(('digest', 'media_type')) or not digest.get('digest'):
                    fail(module, 'repositories[%s].digests: a dict needs digest (and may have media_type), got %r'
                         % (repository, digest))
                value = {'digest': validate_digest(str(digest['digest'])),
                         'media_type': str(digest['media_type']) if digest.get('media_type') else None}
            elif isinstance(digest, str):
                value = validate_digest(digest)
            else:
                fail(module, 'repositories[%s].digests: each item is a digest or a dict, got %r' % (repository, digest))
            name = value['digest'] if isinstance(value, dict) else value
            if name not in seen_digests:
                seen_digests.add(name)
                digests.append(value)
        entries.append({'repository': repository, 'tags': tags, 'digests': digests})
    return entries


def run_retention(module):
    outcome = clean(client_from_params(module), module.params['retention'], check_mode=module.check_mode,
                    concurrency=module.params['concurrency'])
    result = outcome.result
    if module._diff and outcome.diff() is not None:
        result['diff'] = outcome.diff()
    failed = result['failed_repositories']
    if failed:
        first = next(entry for entry in result['report']['repositories'] if entry['error'])
        fail(module, '%d of %d repositories failed, first %s: %s' % (
            len(failed), len(result['report']['repositories']), first['repository'], first['error']['msg']), **result)
    return result


def run(module):
    check_number('concurrency', module.params['concurrency'])
    if module.params['retention'] is not None:
        return run_retention(module)
    entries = entries_from_params(module)
    client = client_from_params(module)
    reports, before, after = apply(client, entries, check_mode=module.check_mode,
                                   concurrency=module.params['concurrency'])
    failed = [report['repository'] for report in reports if report['error'] is not None]
    result = dict(changed=any(report['changed'] for report in reports), repositories=reports,
                  failed_repositories=failed)
    if module._diff:
        result['diff'] = dict(before=before, after=after)
    if failed:
        first = next(report for report in reports if report['error'] is not None)
        fail(module, '%d of %d repositories failed, first %s: %s' % (
            len(failed), len(reports), first['repository'], first['error']['msg']), **result)
    return result


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repositories=dict(type='list', elements='dict', options=dict(
            repository=dict(type='str', required=True),
            tags=dict(type='list', elements='raw', default=[]),
            digests=dict(type='list', elements='raw', default=[]),
        )),
        retention=dict(type='dict', options=dict(
            repositories=dict(type='list', elements='str'),
            repository_pattern=dict(type='str'),
            keep_patterns=dict(type='list', elements='str', default=['^latest$']),
            delete_patterns=dict(type='list', elements='str'),
            keep_latest=dict(type='int', default=0),
            older_than_days=dict(type='float'),
            mode=dict(type='str', choices=['untag', 'delete'], default='untag'),
            keep_signed=dict(type='bool', default=False),
            verify_keys=dict(type='list', elements='str', no_log=False),
            delete_orphans=dict(type='bool', default=False),
            dry_run=dict(type='bool', default=False),
        ), mutually_exclusive=[('repositories', 'repository_pattern')],
            required_one_of=[('repositories', 'repository_pattern')]),
        concurrency=dict(type='int', default=DEFAULT_CONCURRENCY),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[('repositories', 'retention')],
                           required_one_of=[('repositories', 'retention')])
    run_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
