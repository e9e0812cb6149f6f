#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_signature_info
short_description: Find and verify cosign signatures, attestations and SBOMs of an image
version_added: 0.2.0
description:
  - Finds the cosign-compatible signatures of an image in both places cosign writes them, the tag scheme
    (a C(sha256-<hex>.sig) tag in the image's repository) and OCI 1.1 referrers (the referrers API, or the
    C(sha256-<hex>) fallback index on registries without it).
  - Verifies each against O(keys). A signature counts as verified only if the signature over its payload is valid
    for one of the keys B(and) the payload's C(docker-manifest-digest) is the image's digest (and, with O(identity),
    its C(docker-reference) is that identity).
  - Also lists attestation predicate types (C(.att) tag, in-toto referrers) and SBOMs (C(.sbom) tag, SBOM referrers).
  - An unsigned image is a result (RV(verified=false)), never a failure.
  - Key-based signatures only. Keyless (Fulcio certificate, Rekor) verification is not done.
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_info
  - oci.registry.attributes.diff_mode_none
requirements:
  - cryptography (on the node that runs the module)
options:
  repository:
    description:
      - Repository of the image, without registry host, for example V(team/app).
      - Required unless O(images) is given.
    type: str
  reference:
    description:
      - Tag or digest of the image.
    type: str
    default: latest
  platform:
    description:
      - When the reference is an index, check the signatures of this platform's image instead of the index's,
        as C(os/architecture[/variant]); the same platform rule as M(oci.registry.registry_manifest_info).
      - cosign signs whatever digest it is given, usually the index; leave unset to check that one.
    type: str
  images:
    description:
      - Check several images of the registry in one run instead of O(repository) and O(reference).
      - Results are in RV(images), in this order.
    type: list
    elements: dict
    suboptions:
      repository:
        description: Repository of the image.
        type: str
        required: true
      reference:
        description: Tag or digest.
        type: str
        default: latest
      platform:
        description: As O(platform).
        type: str
  keys:
    description:
      - PEM public keys to verify with, each as the PEM text or the path of a PEM file on the node.
      - ECDSA (P-256, P-384, P-521), RSA (PKCS#1 v1.5 with SHA-256) and Ed25519 keys, as C(cosign public-key)
        writes them.
      - Without keys, signatures are listed but none is verified.
    type: list
    elements: str
    default: []
  identity:
    description:
      - When set, a signature is verified only if its payload's C(docker-reference) equals this value, for example
        V(registry.example.com/team/app).
      - cosign itself ignores the field; set it to refuse signatures copied from another repository.
    type: str
seealso:
  - module: oci.registry.registry_sign
  - module: oci.registry.registry_manifest_info
'''

EXAMPLES = r'''
- name: Is the release signed by the build system?
  oci.registry.registry_signature_info:
    registry_url: https://registry.example.com
    repository: team/app
    reference: '1.4'
    keys:
      - "{{ lookup('ansible.builtin.file', 'cosign.pub') }}"
  register: sig

- name: Refuse to deploy an unsigned image
  ansible.builtin.assert:
    that: sig.verified
    fail_msg: "team/app:1.4 has no signature by the build key: {{ sig.signatures | map(attribute='reason') | list }}"

- name: Check a whole release in one run
  oci.registry.registry_signature_info:
    registry_url: https://registry.example.com
    images:
      - repository: team/api
        reference: '2.0'
      - repository: team/web
        reference: '2.0'
    keys: [/etc/pki/cosign/build.pub]
  register: release

- name: Which ones are not signed?
  ansible.builtin.debug:
    msg: "{{ release.images | rejectattr('verified') | map(attribute='repository') | list }}"
'''

RETURN = r'''
digest:
  description: Digest of the image whose signatures were checked (of the platform's image when O(platform) selected one).
  returned: when O(repository) is given
  type: str
  sample: sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
verified:
  description:
    - Whether at least one signature is verified by one of O(keys).
    - With O(images), whether every image has one.
  returned: always
  type: bool
  sample: true
signatures:
  description: Every signature found, verified or not.
  returned: when O(repository) is given
  type: list
  elements: dict
  contains:
    scheme:
      description: V(tag) (C(sha256-<hex>.sig)) or V(referrer) (OCI 1.1 referrer).
      type: str
      returned: always
    digest:
      description: Digest of the manifest holding the signature.
      type: str
      returned: always
    layer_digest:
      description: Digest of the signed payload blob.
      type: str
      returned: always
    verified:
      description: Whether this signature is verified (valid for a key, over this image's digest).
      type: bool
      returned: always
    key_fingerprint:
      description:
        - V(sha256:) and the SHA-256 of the DER public key that made the signature valid; V(null) when no key did.
      type: str
      returned: always
    identity:
      description: The payload's C(critical.identity.docker-reference).
      type: str
      returned: always
    image_digest:
      description: The digest the payload names (C(critical.image.docker-manifest-digest)).
      type: str
      returned: always
    annotations:
      description: The payload's C(optional) section (cosign's C(-a key=value) annotations).
      type: dict
      returned: always
    reason:
      description: Why the signature is not verified; V(null) when it is.
      type: str
      returned: always
  sample:
    - scheme: tag
      digest: sha256:5b0f2e0d1c2b3a4958677685a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b
      layer_digest: sha256:1119abab63e605dcc281019bad0424744178b6f61ba57378701fe7391994c999
      verified: true
      key_fingerprint: sha256:f1057bf3c114d5486f0bdb3c702596d6154158248980d4be49f6c61fdc62c591
      identity: registry.example.com/team/app
      image_digest: sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
      annotations: {release: '1.4'}
      reason: null
attestations:
  description: Predicate types of the attestations attached to the image, sorted, each once.
  returned: when O(repository) is given
  type: list
  elements: str
  sample: [https://slsa.dev/provenance/v1]
attestation_details:
  description: Each attestation found, with V(scheme), V(digest) (its manifest) and V(predicate_type).
  returned: when O(repository) is given
  type: list
  elements: dict
sboms:
  description: SBOMs attached to the image, with V(scheme), V(digest) (its manifest) and V(media_type).
  returned: when O(repository) is given
  type: list
  elements: dict
  sample: [{scheme: tag, digest: 'sha256:0e1f...', media_type: text/spdx+json}]
referrers_via:
  description: How referrers were listed, V(api), V(tag) (the C(sha256-<hex>) fallback index) or V(none).
  returned: when O(repository) is given
  type: str
  sample: tag
index_digest:
  description: Digest of the index the platform's image was selected from.
  returned: when O(platform) selected an image from an index
  type: str
images:
  description:
    - One result per entry of O(images), in order, each with V(repository), V(reference) and the keys above
      (V(digest), V(verified), V(signatures), V(attestations), V(attestation_details), V(sboms), V(referrers_via)).
  returned: when O(images) is given
  type: list
  elements: dict
'''


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    client_from_params,
    connection_argument_spec,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    parse_platform,
    validate_reference,
    validate_repository,
)

try:
    from ansible_collections.oci.registry.plugins.module_utils._resolve import resolve
    from ansible_collections.oci.registry.plugins.module_utils._signature import load_public_keys, read_signatures
except ImportError:  # requests missing: run_module reports it cleanly
    resolve = load_public_keys = read_signatures = None


def check_image(client, keys, identity, repository, reference, platform):
    repository = validate_repository(repository)
    reference = validate_reference(reference or 'latest')
    if platform:
        resolved = resolve(client, repository, reference, parse_platform(platform), fetch=False)
        digest, index = resolved.digest, resolved.index
    else:
        digest, index = client.manifests.get_digest(repository, reference), None
    result = read_signatures(client, repository, digest, keys=keys, identity=identity)
    if index is not None:
        result['index_digest'] = index.digest
    return result


def run(module):
    params = module.params
    keys = load_public_keys(params['keys'])
    client = client_from_params(module)
    if params['repository']:
        result = check_image(client, keys, params['identity'], params['repository'], params['reference'],
                             params['platform'])
        result['changed'] = False
        return result
    results = []
    for image in params['images']:
        found = check_image(client, keys, params['identity'], image['repository'], image['reference'],
                            image['platform'])
        found.update(repository=image['repository'], reference=image['reference'])
        results.append(found)
    return dict(changed=False, images=results, verified=all(entry['verified'] for entry in results))


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository=dict(type='str'),
        reference=dict(type='str', default='latest'),
        platform=dict(type='str'),
        images=dict(type='list', elements='dict', options=dict(
            repository=dict(type='str', required=True),
            reference=dict(type='str', default='latest'),
            platform=dict(type='str'),
        )),
        keys=dict(type='list', elements='str', default=[], no_log=False),
        identity=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[('repository', 'images')],
                           required_one_of=[('repository', 'images')])
    run_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
