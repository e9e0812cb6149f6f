#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_sign
short_description: Sign an image with a private key, as cosign does
version_added: 0.2.0
description:
  - Signs an image digest with a private key and stores the signature in the registry in cosign's format, so that
    C(cosign verify --key) and M(oci.registry.registry_signature_info) accept it.
  - The signed payload is cosign's simple-signing document naming the image digest and its repository, with
    O(annotations) in its C(optional) section.
  - Idempotent. When a signature by the same key over the same digest with the same annotations is already there
    (and verifies), nothing is written and C(changed=false).
  - The key and its passphrase are read in memory only, never written to a file, and never returned.
  - Key-based signing only, no Fulcio certificate and no Rekor transparency log entry.
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.connection
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_full
  - oci.registry.attributes.diff_mode_none
requirements:
  - cryptography (on the node that runs the module)
  - PyNaCl, for keys in cosign's encrypted format
options:
  repository:
    description:
      - Repository of the image, without registry host, for example V(team/app).
      - Required unless O(images) is given.
    type: str
  reference:
    description:
      - Tag or digest of the image to sign. A tag is resolved to its digest first; the signature is over the digest
        (for a multi-platform image, the index digest).
      - Required with O(repository).
    type: str
  images:
    description:
      - Sign several images of the registry in one run with the same key, instead of O(repository) and O(reference).
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
        required: true
  key:
    description:
      - The private key, as PEM text or the path of a PEM file on the node.
      - Accepted formats are cosign's encrypted key (C(ENCRYPTED SIGSTORE PRIVATE KEY) or C(ENCRYPTED COSIGN PRIVATE
        KEY), as C(cosign generate-key-pair) writes it), PKCS#8 (C(PRIVATE KEY), or C(ENCRYPTED PRIVATE KEY) with
        O(key_passphrase)), and the traditional C(EC PRIVATE KEY) and C(RSA PRIVATE KEY).
      - ECDSA P-256, P-384, P-521, RSA (2048 bits or more) and Ed25519 keys.
      - Never logged.
    type: str
    required: true
  key_passphrase:
    description:
      - Passphrase of an encrypted key (for cosign keys, what C(COSIGN_PASSWORD) holds). Never logged.
      - cosign keys created with an empty passphrase need none.
    type: str
  scheme:
    description:
      - Where the signature goes.
      - V(tag) is cosign's default, a C(sha256-<hex>.sig) manifest in the image's repository (a second key adds a
        layer to the same manifest).
      - V(referrer) is an OCI 1.1 referrer with cosign's artifact type C(application/vnd.dev.cosign.artifact.sig.v1+json),
        listed by the registry's referrers API, else in the C(sha256-<hex>) fallback index, which this module keeps.
    type: str
    choices: [tag, referrer]
    default: tag
  annotations:
    description:
      - Claims added to the payload's C(optional) section, as C(cosign sign -a key=value) does. Values are strings.
      - Part of what makes a signature the same for idempotency.
    type: dict
    default: {}
  identity:
    description:
      - The payload's C(critical.identity.docker-reference).
      - Default is the registry host and repository, for example V(registry.example.com/team/app), as cosign writes it.
    type: str
seealso:
  - module: oci.registry.registry_signature_info
'''

EXAMPLES = r'''
- name: Sign the release with the production key (cosign key file)
  oci.registry.registry_sign:
    registry_url: https://registry.example.com
    repository: team/app
    reference: '1.4'
    key: /etc/pki/cosign/prod.key
    key_passphrase: "{{ vault_cosign_password }}"
    annotations:
      release: '1.4'

- name: Sign several images as OCI 1.1 referrers
  oci.registry.registry_sign:
    registry_url: https://registry.example.com
    images:
      - repository: team/api
        reference: '2.0'
      - repository: team/web
        reference: '2.0'
    key: "{{ vault_signing_key_pem }}"
    scheme: referrer
'''

RETURN = r'''
digest:
  description: Digest of the signed image.
  returned: when O(repository) is given
  type: str
  sample: sha256:8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d
signature_digest:
  description:
    - Digest of the manifest holding the signature (the C(.sig) manifest or the referrer).
    - V(null) in check mode when a signature would be written.
  returned: when O(repository) is given
  type: str
  sample: sha256:5b0f2e0d1c2b3a4958677685a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b
tag:
  description: The signature tag C(sha256-<hex>.sig) (tag scheme only).
  returned: when O(repository) is given and O(scheme=tag)
  type: str
  sample: sha256-8e1f1c1f9e0b5d3a4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d.sig
scheme:
  description: The scheme written, as O(scheme).
  returned: always
  type: str
  sample: tag
key_fingerprint:
  description: V(sha256:) and the SHA-256 of the DER public key of O(key), as RV(oci.registry.registry_signature_info#module:signatures[].key_fingerprint).
  returned: always
  type: str
  sample: sha256:f1057bf3c114d5486f0bdb3c702596d6154158248980d4be49f6c61fdc62c591
identity:
  description: The payload's C(docker-reference).
  returned: when O(repository) is given
  type: str
  sample: registry.example.com/team/app
fallback_index:
  description: Whether the C(sha256-<hex>) referrers fallback index was written (O(scheme=referrer) on a registry without the referrers API).
  returned: when O(repository) is given
  type: bool
images:
  description: One result per entry of O(images), in order, with V(repository), V(reference), V(changed) and the keys above.
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
from ansible_collections.oci.registry.plugins.module_utils._errors import NotFoundError
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    is_digest,
    validate_reference,
    validate_repository,
)

try:
    from ansible_collections.oci.registry.plugins.module_utils._signature import load_private_key, sign_image
except ImportError:  # requests missing: run_module reports it cleanly
    load_private_key = sign_image = None


def sign_one(module, client, key, repository, reference):
    params = module.params
    repository = validate_repository(repository)
    reference = validate_reference(reference)
    subject = client.manifests.head_manifest(repository, reference)
    if subject is None and module.check_mode:
        # A copy earlier in the same check-mode run did not write the image: it would be signed.
        return dict(changed=True, digest=reference if is_digest(reference) else None, signature_digest=None,
                    scheme=params['scheme'], key_fingerprint=key.fingerprint, tag=None, identity=None,
                    fallback_index=False)
    if subject is None:
        raise NotFoundError('no image to sign', registry=client.registry, repository=repository, reference=reference,
                            action='sign', hint='push the image first, or check repository and reference')
    written = sign_image(client, repository, subject, key, scheme=params['scheme'], annotations=params['annotations'],
                         identity=params['identity'], check_mode=module.check_mode)
    return dict(changed=written['changed'], digest=subject.digest, signature_digest=written['digest'],
                tag=written['tag'], scheme=written['scheme'], key_fingerprint=written['key_fingerprint'],
                identity=written['identity'], fallback_index=written['fallback_index'])


def run(module):
    params = module.params
    # Loaded before any request: a wrong passphrase fails without touching the registry.
    key = load_private_key(params['key'], params['key_passphrase'])
    client = client_from_params(module)
    if params['repository']:
        return sign_one(module, client, key, params['repository'], params['reference'])
    results = []
    for image in params['images']:
        signed = sign_one(module, client, key, image['repository'], image['reference'])
        signed.update(repository=image['repository'], reference=image['reference'])
        results.append(signed)
    return dict(changed=any(entry['changed'] for entry in results), images=results, scheme=params['scheme'],
                key_fingerprint=key.fingerprint)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository=dict(type='str'),
        reference=dict(type='str'),
        images=dict(type='list', elements='dict', options=dict(
            repository=dict(type='str', required=True),
            reference=dict(type='str', required=True),
        )),
        key=dict(type='str', required=True, no_log=True),
        key_passphrase=dict(type='str', no_log=True),
        scheme=dict(type='str', default='tag', choices=['tag', 'referrer']),
        annotations=dict(type='dict', default={}),
        identity=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[('repository', 'images')],
                           required_one_of=[('repository', 'images')],
                           required_by={'repository': 'reference'})
    run_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
