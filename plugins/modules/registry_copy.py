#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: registry_copy
short_description: Copy images, indexes and their referrers between registries, byte-exact
version_added: 0.1.0
description:
  - Copies an image manifest or a whole multi-platform index (nested indexes included) from one repository to
    another, on the same registry or across registries, over the Docker Registry HTTP API v2 / OCI Distribution
    API. The destination digest equals the source digest.
  - Blobs stream from the source straight into the destination (no temporary files, flat memory), several at a time
    (O(concurrency)). Blobs the destination already has are skipped; within one registry they are mounted instead
    of copied. The digest and size of every streamed blob are verified; on a mismatch the task fails and nothing is
    tagged.
  - Write order is blobs, then manifests (children before the index), then the tag, so a failed copy never leaves a
    tag pointing at incomplete content.
  - Idempotent. When the destination tag already has the source digest (one C(HEAD) on each side), nothing else is
    sent and RV(ignore:changed) is V(false).
  - Several tags at once with O(tags) or O(tag_pattern); blobs shared between the tags are sent once.
  - Signatures, SBOMs and attestations that refer to the image (OCI referrers, and cosign's tag-scheme
    attachments) are copied with O(referrers).
  - When the source announces a pull limit (Docker Hub's C(ratelimit-remaining) on manifest requests) that would
    not cover the images still to copy (with O(images), of every entry from that registry together), the task
    stops before writing anything and says how many pulls are left and when they free up. HTTP 429 answers
    are retried as C(Retry-After) asks, within a bounded total wait.
  - As a sync tool, O(prune) removes what the source selection no longer has, O(immutable_tags) makes re-runs
    over release tags cost one tag listing, and O(backup_tag) keeps the digest a tag pointed to before it moved.
  - "With O(tags) or O(tag_pattern), a re-run that changes nothing costs one destination tag listing, one
    manifest C(HEAD) per source tag and one per existing destination tag, and no C(GET) at the destination
    (registries such as Harbor count a C(GET) as a pull); see RV(requests)."
author:
  - oci.registry contributors (@oci-registry)
extends_documentation_fragment:
  - oci.registry.attributes
  - oci.registry.attributes.check_mode_full
  - oci.registry.attributes.diff_mode
options:
  src:
    description:
      - Source image as a full reference C(host[:port]/repository[:tag][@digest]).
      - Prefix with V(http://) for a registry without TLS, for example V(http://127.0.0.1:5000/team/app:1.0).
        A bare host means HTTPS. V(docker.io/library/alpine:3.20) means Docker Hub.
      - A reference without a host uses the O(registry_url) registry when that is set.
      - Without a tag or digest (repository only) together with O(tags) or O(tag_pattern).
      - V(oci:/path/to/dir[:tag]) reads an OCI image layout directory (the tag is the C(org.opencontainers.image.ref.name)
        of an C(index.json) entry), V(oci-archive:/path/to/file.tar[:tag]) the same layout as an uncompressed tar,
        as C(skopeo copy) writes them. The path must be absolute and is read on the host the task runs on. Every
        blob is verified against its digest and size while it streams; a layout whose C(index.json) or manifests
        name anything but C(sha256:<64 hex>) digests, hold symbolic links, or (archives) members outside the
        layout, links or device files, is refused before anything is written.
      - Required unless O(images) is given; mutually exclusive with O(images).
    type: str
  dest:
    description:
      - Destination as a full reference C(host[:port]/repository[:tag]), with the same syntax as O(src).
      - Without a tag, the tag of O(src) is used; if O(src) has no tag either (a digest), the image is pushed by
        digest only and nothing is tagged.
      - A repository without a tag together with O(tags) or O(tag_pattern).
      - A digest in O(dest) is an expectation; the task fails when the copy would produce another digest.
      - V(oci:/path/to/dir[:tag]) writes an OCI image layout directory (created when missing; an existing directory
        must be empty or a layout), V(oci-archive:/path/to/file.tar[:tag]) a layout archive. Several tags
        (O(tags), O(tag_pattern), or several runs) go into one layout, blobs shared between them are stored once,
        and an existing layout keeps its other tags. Referrers (O(referrers)) are stored as the image-spec
        describes (their manifests in C(blobs/), listed untagged in C(index.json)), cosign's tag-scheme
        attachments as the tags C(sha256-<hex>.sig), C(.att), C(.sbom).
      - A layout is written crash-safe. Blobs go to a temporary name and are renamed once verified, and
        C(index.json) is replaced in one step only after what it lists is in place. An archive is built in a
        staging directory next to it and replaces the old archive (temporary file, then rename) only when the
        copy succeeded; an archive that would not change is not rewritten. O(prune) does not apply to layouts.
      - Required unless O(images) is given; mutually exclusive with O(images).
    type: str
  src_auth:
    description:
      - Connection and credentials for the source registry.
      - Keys not given here come from the top-level connection options as O(registry_url) describes, else
        from the defaults of each key.
    type: dict
    # dest_auth has the same keys: one definition, so the two cannot drift apart.
    suboptions: &auth_suboptions
      username:
        description:
          - User name for Basic authentication or for the token service.
          - When neither a user name nor a bearer token is set, credentials for the registry host are looked up
            in C(auth_file) (or the usual Docker and containers auth files).
        type: str
      password:
        description: Password or access token that goes with the user name. Never logged.
        type: str
      bearer_token:
        description: A ready-made Bearer token sent without asking a token service.
        type: str
      auth_type:
        description:
          - How to authenticate, as the top-level O(auth_type). V(auto) when not set anywhere.
        type: str
        choices: [auto, basic, token, anonymous, none]
      auth_file:
        description: Docker C(config.json) or containers C(auth.json) to read credentials for the registry host from.
        type: path
      validate_certs:
        description: Whether to verify the registry's TLS certificate. V(true) when not set anywhere.
        type: bool
      ca_path:
        description: PEM file with the CA certificate(s) that verify the registry and its token service.
        type: path
      client_cert:
        description: PEM file with a client certificate for mutual TLS.
        type: path
      client_key:
        description: PEM file with the unencrypted private key of the client certificate.
        type: path
      timeout:
        description: Timeout in seconds for connecting and for each read. V(60) when not set anywhere.
        type: int
      retries:
        description: Retries of a request that failed with a connection error, timeout, 429 or 5xx. V(3) when not set
          anywhere.
        type: int
      max_requests_per_second:
        description:
          - Send at most this many requests per second to this side's registry host, shared by all parallel
            transfers of the task (and by both sides when they are one registry). No cap when not set anywhere.
        type: int
  dest_auth:
    description:
      - Connection and credentials for the destination registry, with the same keys as O(src_auth).
      - Keys not given here come from the top-level connection options as O(registry_url) describes, else
        from the defaults of each key.
    type: dict
    suboptions: *auth_suboptions
  platforms:
    description:
      - Copy only these platforms of a multi-platform source, each as C(os/architecture[/variant]), for example
        V(linux/arm64).
      - With one platform, only that platform's image manifest is copied and tagged, so the destination is a
        single-platform image. With several, a new index holding only those platforms is pushed. In both cases
        the destination digest differs from the source digest (RV(digest_changed)), unless every platform of the
        source was selected.
      - An attestation manifest (BuildKit's C(unknown/unknown) entry annotated
        C(vnd.docker.reference.type=attestation-manifest)) is kept when the manifest named by its
        C(vnd.docker.reference.digest) annotation is kept, and only when a new index is pushed.
      - For a single-platform source, the task fails unless its config matches every requested platform.
      - A request without variant matches any variant; the first matching entry of the index is taken.
    type: list
    elements: str
  tags:
    description:
      - Copy these tags from the repository O(src) to the repository O(dest) (both without tag).
      - Blobs and manifests shared between tags are copied once.
      - Mutually exclusive with O(tag_pattern).
    type: list
    elements: str
  tag_pattern:
    description:
      - Copy every tag of the repository O(src) that this Python regular expression matches (searched anywhere in
        the tag; anchor it with V(^) and V($) for a full match) to the repository O(dest).
      - Referrer tags (C(sha256-<hex>), and cosign's C(sha256-<hex>.sig), C(.att), C(.sbom)) are never selected, since they
        describe an image rather than name one; they travel with O(referrers), merged with the destination's.
      - Fails when no tag matches.
    type: str
  referrers:
    description:
      - Also copy the artifacts whose C(subject) is a copied manifest (signatures, SBOMs, attestations), and their
        own referrers.
      - Found with the source's referrers API, or its C(sha256-<hex>) tag index when it has no such API.
      - The destination registry indexes them itself when it answers the manifest upload with C(OCI-Subject);
        otherwise the module maintains the C(sha256-<hex>) tag index there, merged with the entries already listed.
      - With O(platforms), referrers of the source index itself are not copied (the destination gets another
        digest); those of the kept platform manifests are.
      - cosign's tag-scheme attachments (C(sha256-<hex>.sig), C(.att), C(.sbom)) of the copied manifests are copied
        too. When the destination already has such a tag with other layers (a signature made there), the
        destination's layers are kept and the source's missing ones added; a destination that holds every source
        layer is up to date.
    type: bool
    default: false
  overwrite:
    description:
      - Whether to move a destination tag that already points to another digest.
      - With V(false) the task fails, before writing anything, when a destination tag exists with another digest.
    type: bool
    default: true
  prune:
    description:
      - With O(tags) or O(tag_pattern), remove the destination tags that are not in the selection, so the
        destination repository mirrors the selection exactly (tags the source no longer has go too).
      - Never removed are the referrer tags (C(sha256-<hex>), and cosign's C(sha256-<hex>.sig), C(.att) and
        C(.sbom)) of images that stay, and tags that O(backup_tag) could have made. A referrer tag goes only
        together with an image known to go.
      - Runs after the copy. Tags are removed as M(oci.registry.registry_delete) removes them; a tag that moved
        between the read and the removal is refused (RV(prune_refused)).
      - Not allowed without O(tags) or O(tag_pattern).
    type: bool
    default: false
  prune_manifests:
    description:
      - With O(prune), also delete the manifests the removed tags used (index children and their cosign
        attachments included), except anything a kept tag still uses, directly or through an index. The same
        rule as the P(oci.registry.cleanup#role) role.
      - Needs a registry that allows deletes.
    type: bool
    default: false
  immutable_tags:
    description:
      - Python regular expression (searched anywhere in the tag) for destination tags that never move, such as
        release versions. A matching destination tag that already exists is taken as done without reading it or
        its source (with O(tags) or O(tag_pattern), no request beyond the one destination tag listing), and
        reported in RV(skipped_tags).
    type: str
  backup_tag:
    description:
      - Before a destination tag is moved to another digest, copy its old manifest to this tag in the same
        repository. Rolling back is one retag, for example this module with the backup as O(src) and the tag as
        O(dest).
      - A template with the placeholders C({tag}) (the tag), C({digest12}) (the first 12 hex digits of the old
        digest) and C({date}) (UTC date of the run, C(YYYYMMDD)), for example V({tag}-prev).
      - An unknown placeholder, or a template that renders an invalid tag or a copied tag, fails before any
        request. Backups are listed in RV(backups); with O(prune) they are kept.
    type: str
  concurrency:
    description:
      - How many blobs (and manifests) are transferred at the same time, from 1 to 64.
    type: int
    default: 4
  chunk_size:
    description:
      - Upload each blob in chunks of this many bytes (C(PATCH) requests) instead of one streamed C(PUT), for
        registries or proxies that limit the request size.
      - A broken chunk is resumed from the offset the registry reports.
      - Each transfer buffers one chunk, so memory grows with O(chunk_size) times O(concurrency).
      - Between 1 and 134217728 (128 MiB); the registry's minimum chunk size (C(OCI-Chunk-Min-Length)) wins over
        a smaller value.
    type: int
  expected_digest:
    description:
      - Digest the source must resolve to. When O(src) (a tag) resolves to another digest, the task fails before
        writing anything and reports RV(refused).
      - Guards one source image; not allowed with O(tags) or O(tag_pattern).
      - With O(images), the default of O(images[].expected_digest).
    type: str
  images:
    description:
      - Copy many images in one run instead of O(src) and O(dest). Each entry takes the per-image options below;
        an option an entry does not set comes from the top-level option of the same name (the top-level options
        are the defaults). O(images[].src_auth) and O(images[].dest_auth) replace the top-level O(src_auth) and
        O(dest_auth) as a whole, they are not merged key by key.
      - The tag selection (O(images[].tags), O(images[].tag_pattern), O(images[].semver)) is taken from the entry
        when it sets any of them, else from the top-level O(tags) or O(tag_pattern).
      - "Every entry goes through the same phases, all entries of one phase before the next: select (a semver
        range becomes a tag list), pin (each distinct source tag is resolved to a digest once, so every
        destination of one source gets the same image), guard (O(images[].expected_digest) against the pinned
        digest, O(images[].overwrite=false) against every destination tag), plan (every read of a copy), and only
        then write."
      - One client per registry and identity is shared by all entries (one token cache, one connection pool).
        O(image_concurrency) entries run at a time, each with O(concurrency) transfers.
      - Without O(atomic), an entry that fails or is refused does not stop the others; each is reported in
        RV(images), and the task fails after all entries ran when any failed or was refused.
      - With O(atomic=true), nothing is written unless every entry got through select, pin, guard and plan; see
        O(atomic) for what a failure during the writes leaves behind.
    type: list
    elements: dict
    suboptions:
      src:
        description: Source reference, as O(src).
        type: str
        required: true
      dest:
        description: Destination reference, as O(dest).
        type: str
        required: true
      src_auth:
        description: Connection and credentials for this source, with the keys of O(src_auth).
        type: dict
        suboptions: *auth_suboptions
      dest_auth:
        description: Connection and credentials for this destination, with the keys of O(src_auth).
        type: dict
        suboptions: *auth_suboptions
      platforms:
        description: As O(platforms).
        type: list
        elements: str
      tags:
        description: As O(tags). Mutually exclusive with O(images[].tag_pattern) and O(images[].semver).
        type: list
        elements: str
      tag_pattern:
        description:
          - As O(tag_pattern). Together with O(images[].semver), narrows the semver selection.
        type: str
      semver:
        description:
          - Copy the tags of the repository O(images[].src) that are semantic versions within this range (the
            syntax of the P(oci.registry.semver_filter#filter) filter, for example V(>=1.2,<2)).
          - Only per entry, there is no top-level semver option.
        type: str
      include_prerelease:
        description: Whether O(images[].semver) also selects pre-releases such as V(2.0.0-rc.1).
        type: bool
        default: false
      limit:
        description: Keep only the N highest versions that O(images[].semver) selects.
        type: int
      allow_empty:
        description:
          - With O(images[].semver) or O(images[].tag_pattern), an entry whose selection matches no source tag is
            reported with status V(skipped) instead of V(failed).
        type: bool
        default: false
      referrers:
        description: As O(referrers).
        type: bool
      overwrite:
        description:
          - As O(overwrite). With V(false) the entry is refused (status V(refused), RV(images[].refused)) when any
            of its destination tags points to another digest, checked after O(images[].platforms) filtering.
        type: bool
      expected_digest:
        description: As O(expected_digest), checked against the pinned source digest.
        type: str
      prune:
        description: As O(prune); needs a tag selection in the entry or at the top level.
        type: bool
      prune_manifests:
        description: As O(prune_manifests).
        type: bool
      immutable_tags:
        description: As O(immutable_tags).
        type: str
      backup_tag:
        description: As O(backup_tag).
        type: str
  image_concurrency:
    description:
      - How many entries of O(images) are planned and copied at the same time, from 1 to 64.
    type: int
    default: 4
  atomic:
    description:
      - With O(images), whether the batch is all-or-nothing as far as the registry protocol allows.
      - With V(true), every entry is selected, pinned, guarded and planned before the first write; when any entry
        fails or is refused there, nothing is written anywhere (the other entries report status V(not_started)).
      - The writes themselves cannot be made atomic, registries have no transactions. When a write fails (the
        registry refuses a C(PUT), the connection breaks, a quota is hit), entries already written stay written
        (status V(done)) and the failing one may have pushed blobs and untagged manifests, but never a tag that
        points to incomplete content. Re-run the same task to complete the batch (entries already done are
        no-ops), or move the written tags back with M(oci.registry.registry_manifest) to the C(before) digest of
        each C(tags) entry of RV(images).
    type: bool
    default: false
  registry_url:
    description:
      - Registry of the top-level connection options below, and the registry of O(src) or O(dest) when they have
        no host part.
      - The top-level options O(username), O(password), O(bearer_token), O(auth_type), O(validate_certs),
        O(ca_path), O(client_cert) and O(client_key) apply only to the side whose registry host is this one, so
        credentials never go to another host. When O(registry_url) is not set (nor E(REGISTRY_URL)), they apply
        to both sides. O(timeout), O(retries), O(max_requests_per_second) and O(auth_file) always apply to both sides.
        O(src_auth) and O(dest_auth) override them per side. They exist so that C(module_defaults) for the
        C(group/oci.registry.registry) action group also work here.
      - A O(src) or O(dest) on this registry's host without an V(http://) or V(https://) prefix uses this
        registry's scheme.
      - If not set, the value of the E(REGISTRY_URL) environment variable is used.
    type: str
  username:
    description:
      - User name on the O(registry_url) registry.
      - If not set, the value of the E(REGISTRY_USERNAME) environment variable is used.
    type: str
  password:
    description:
      - Password on the O(registry_url) registry.
      - If not set, the value of the E(REGISTRY_PASSWORD) environment variable is used.
    type: str
  bearer_token:
    description:
      - Bearer token for the O(registry_url) registry.
      - If not set, the value of the E(REGISTRY_TOKEN) environment variable is used.
    type: str
  auth_type:
    description:
      - How to authenticate to the O(registry_url) registry; see O(src_auth.auth_type).
    type: str
    choices: [auto, basic, token, anonymous, none]
  auth_file:
    description:
      - Credentials file for the O(registry_url) registry.
      - If not set, the value of the E(REGISTRY_AUTH_FILE) environment variable is used.
    type: path
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the O(registry_url) registry.
      - If not set, the value of the E(REGISTRY_VALIDATE_CERTS) environment variable is used.
    type: bool
  ca_path:
    description: CA bundle for the O(registry_url) registry.
    type: path
  client_cert:
    description: Client certificate for the O(registry_url) registry.
    type: path
  client_key:
    description: Private key of O(client_cert).
    type: path
  timeout:
    description: Timeout in seconds for the O(registry_url) registry.
    type: int
  retries:
    description: Retries for the O(registry_url) registry.
    type: int
  max_requests_per_second:
    description:
      - Cap on the requests per second to each registry host (both sides), from V(1) to V(10000); see
        O(src_auth.max_requests_per_second).
    type: int
notes:
  - Long copies can run in the background with the task keywords C(async) (maximum run time in seconds) and C(poll)
    (seconds between status checks); the result is the same as without. With C(poll) set to V(0) the play moves on
    and M(ansible.builtin.async_status) collects the result later. See the last example.
  - Check mode reads everything (manifests, blob existence) and reports what would be copied in RV(blobs) and
    RV(manifests), without writing. Within one registry it predicts mounts; a registry may still refuse a mount,
    in which case the real run copies the blob.
  - When the source and destination are the same registry, mounting needs the destination credentials to be
    allowed to pull from the source repository; when the registry refuses, the blob is copied instead.
  - Docker schema 1 manifests and foreign (non-distributable) layers are not copied.
requirements:
  - requests >= 2.25
seealso:
  - module: oci.registry.registry_manifest
  - module: oci.registry.registry_blob
  - name: OCI Distribution Specification
    description: The HTTP API this module uses, including referrers.
    link: https://github.com/opencontainers/distribution-spec/blob/main/spec.md
'''

EXAMPLES = r'''
- name: Pack release 1.4 (every platform, with signatures) into an archive for a disconnected site
  oci.registry.registry_copy:
    src: registry.example.com/team/app
    dest: oci-archive:/srv/transfer/app-1.4.tar
    tag_pattern: '^1\.4\.'
    referrers: true

- name: Load it into the site's registry
  oci.registry.registry_copy:
    src: oci-archive:/srv/transfer/app-1.4.tar
    dest: registry.site.internal/team/app
    tag_pattern: '^1\.4\.'
    referrers: true

- name: Promote an image from staging to production, byte-exact
  oci.registry.registry_copy:
    src: registry.example.com/staging/app:1.4.2
    dest: registry.example.com/prod/app:1.4.2
    dest_auth:
      username: ci
      password: "{{ prod_registry_password }}"
  register: promoted

- name: Mirror only amd64 and arm64 of an upstream image, with its signatures
  oci.registry.registry_copy:
    src: docker.io/library/alpine:3.20
    dest: registry.example.com/mirror/alpine:3.20
    platforms:
      - linux/amd64
      - linux/arm64
    referrers: true

- name: Copy every release tag of a repository, sharing blobs between tags
  oci.registry.registry_copy:
    src: http://127.0.0.1:5000/team/app
    dest: registry.example.com/team/app
    tag_pattern: '^v[0-9]+\.[0-9]+\.[0-9]+$'
    concurrency: 8

- name: Keep an exact mirror of the release tags; release tags never move, so re-runs only list them
  oci.registry.registry_copy:
    src: docker.io/library/alpine
    dest: registry.example.com/mirror/alpine
    tag_pattern: '^3\.[0-9]+(\.[0-9]+)?$'
    immutable_tags: '^3\.[0-9]+\.[0-9]+$'
    prune: true
    referrers: true

- name: Move stable, keeping the image it pointed to as stable-prev (rollback is one retag)
  oci.registry.registry_copy:
    src: registry.example.com/staging/app:1.4.3
    dest: registry.example.com/prod/app:stable
    backup_tag: '{tag}-prev'

- name: Never move an existing production tag
  oci.registry.registry_copy:
    src: registry.example.com/staging/app@sha256:4b1f0f16b3d2bd7a0e3cdbbd0e5f4b3b5d6f0c8bb29d6ef45c65bd2c8d0a1c97
    dest: registry.example.com/prod/app:1.4.2
    overwrite: false

- name: A large copy in the background
  oci.registry.registry_copy:
    src: registry.example.com/ml/model:2025-01
    dest: backup.example.com/ml/model:2025-01
  async: 7200
  poll: 30

- name: Promote a release of several images, all-or-nothing
  oci.registry.registry_copy:
    images:
      - src: registry.example.com/staging/api:2.3.0
        dest: registry.example.com/prod/api:2.3.0
        expected_digest: sha256:0d5e3c1b6f0a1c2e8f3b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081
      - src: registry.example.com/staging/web:2.3.0
        dest: registry.example.com/prod/web:2.3.0
        expected_digest: sha256:9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081
    overwrite: false
    atomic: true

- name: Mirror several upstream repositories in one run
  oci.registry.registry_copy:
    images:
      - src: docker.io/library/alpine
        dest: registry.example.com/mirror/alpine
        semver: '>=3.19'
      - src: docker.io/library/busybox:1.36
        dest: registry.example.com/mirror/busybox
    platforms: [linux/amd64, linux/arm64]
    image_concurrency: 4
'''

RETURN = r'''
images:
  description:
    - One entry per O(images) entry, in the same order, with the keys of a single copy's result (RV(src_digest),
      RV(dest_digest), RV(media_type), RV(digest_changed), RV(manifests), RV(blobs), RV(referrers), RV(tags)) and
      the keys below.
  returned: when O(images) is given, also when the task fails
  type: list
  elements: dict
  contains:
    index:
      description: Position of the entry in O(images).
      type: int
      returned: always
      sample: 0
    src:
      description: Source reference (normalised; never with credentials).
      type: str
      returned: always
      sample: 127.0.0.1:5000/team/app:1.0
    dest:
      description: Destination reference (normalised).
      type: str
      returned: always
      sample: registry.example.com/prod/app:1.0
    status:
      description:
        - V(done) (copied, or already up to date), V(failed) (an error; see RV(images[].msg)), V(refused) (a guard;
          see RV(images[].refused)), V(skipped) (an empty semver selection with O(images[].allow_empty)),
          V(not_started) (another entry failed and O(atomic) is set).
      type: str
      returned: always
      sample: done
    changed:
      description: Whether this entry wrote (in check mode, would write) anything.
      type: bool
      returned: always
      sample: true
    msg:
      description: Why the entry failed, was refused, skipped or not started; V(null) when done.
      type: str
      returned: always
      sample: null
    refused:
      description:
        - The guard that refused the entry, V(null) otherwise. C(guard) is V(expected_digest) (with C(src_digest)
          and C(expected_digest)) or V(overwrite) (with C(conflicts), a list of C(dest), C(before), C(after)).
      type: dict
      returned: always
      sample: {guard: overwrite, msg: "...", conflicts: [{dest: registry.example.com/prod/app:stable, before: "sha256:...", after: "sha256:..."}]}
summary:
  description: Number of O(images) entries per RV(images[].status), plus C(total) and C(changed).
  returned: when O(images) is given
  type: dict
  sample: {total: 3, done: 3, failed: 0, refused: 0, skipped: 0, not_started: 0, changed: 1}
refused:
  description: The O(expected_digest) refusal of a single copy (C(guard), C(msg), C(src_digest), C(expected_digest)).
  returned: when O(expected_digest) refused the copy
  type: dict
  sample: {guard: expected_digest, src_digest: "sha256:...", expected_digest: "sha256:..."}
src_digest:
  description: Digest of the source manifest or index. V(null) with O(tags) or O(tag_pattern) (see RV(tags)).
  returned: success
  type: str
  sample: sha256:0d5e3c1b6f0a1c2e8f3b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081
dest_digest:
  description:
    - Digest the destination tag points to after the copy (in check mode, would point to).
    - Equal to RV(src_digest) unless O(platforms) selected a subset.
  returned: success
  type: str
  sample: sha256:0d5e3c1b6f0a1c2e8f3b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081
media_type:
  description: Media type of what the destination tag points to.
  returned: success
  type: str
  sample: application/vnd.oci.image.index.v1+json
digest_changed:
  description: Whether RV(dest_digest) differs from RV(src_digest) because O(platforms) selected a subset.
  returned: success
  type: bool
  sample: false
manifests:
  description:
    - Number of manifests and indexes pushed (in check mode, that would be pushed), referrers included.
    - With O(images), the sum over the entries.
  returned: success
  type: int
  sample: 3
blobs:
  description:
    - Blob transfer counts (in check mode, predictions), referrers included.
    - With O(images), the sums over the entries (a blob shared by two entries counts in each).
  returned: success
  type: dict
  contains:
    copied:
      description: Blobs streamed from the source to the destination.
      type: int
      returned: success
      sample: 5
    mounted:
      description: Blobs mounted from the source repository on the same registry.
      type: int
      returned: success
      sample: 0
    skipped:
      description: Blobs the destination already had.
      type: int
      returned: success
      sample: 2
    bytes:
      description: Bytes of the copied blobs.
      type: int
      returned: success
      sample: 31457280
referrers:
  description: Digests of the referrer manifests copied (in check mode, that would be copied).
  returned: success
  type: list
  elements: str
  sample: [sha256:9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081]
tags:
  description: One entry per destination tag (one for a single copy).
  returned: success
  type: list
  elements: dict
  contains:
    src:
      description: Source reference.
      type: str
      returned: success
      sample: 127.0.0.1:5000/team/app:1.0
    dest:
      description: Destination reference.
      type: str
      returned: success
      sample: registry.example.com/team/app:1.0
    src_digest:
      description: Source digest.
      type: str
      returned: success
      sample: sha256:0d5e3c1b6f0a1c2e8f3b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081
    dest_digest:
      description: Destination digest after the copy.
      type: str
      returned: success
      sample: sha256:0d5e3c1b6f0a1c2e8f3b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081
    before:
      description: Destination digest before the copy, V(null) when the tag did not exist.
      type: str
      returned: success
      sample: null
    changed:
      description: Whether this tag was (or would be) written.
      type: bool
      returned: success
      sample: true
skipped_tags:
  description: Destination tags taken as done because they exist and match O(immutable_tags).
  returned: success
  type: list
  elements: str
  sample: ['1.4.1', '1.4.2']
backups:
  description: One entry per tag that moved (in check mode, would move) with O(backup_tag).
  returned: success
  type: list
  elements: dict
  sample: [{tag: stable, backup: stable-prev, digest: "sha256:..."}]
  contains:
    tag:
      description: The destination tag that moved.
      type: str
      returned: success
    backup:
      description: The backup tag, which now points to RV(backups[].digest).
      type: str
      returned: success
    digest:
      description: Digest the tag pointed to before the copy.
      type: str
      returned: success
attachments:
  description:
    - cosign tag-scheme attachments (C(sha256-<hex>.sig), C(.att), C(.sbom)) written (in check mode, that would
      be written) at the destination with O(referrers).
  returned: success
  type: list
  elements: str
  sample: [sha256-0d5e3c1b6f0a1c2e8f3b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081.sig]
pruned_tags:
  description: Destination tags removed (in check mode, that would be removed) by O(prune).
  returned: success
  type: list
  elements: str
  sample: ['1.3.0']
pruned_manifests:
  description: Manifest digests deleted (in check mode, that would be deleted) by O(prune_manifests).
  returned: success
  type: list
  elements: str
  sample: [sha256:9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081]
prune_refused:
  description:
    - What O(prune) did not remove because the destination changed since it was read, each with C(tag) or
      C(digest) and C(reason).
  returned: success
  type: list
  elements: dict
  sample: [{tag: '1.3.0', digest: "sha256:...", reason: "moved: points to sha256:..., the plan saw sha256:..."}]
requests:
  description:
    - HTTP requests sent to each side (token requests and retries included), counted by each side's client.
    - With O(images), the totals of the batch.
  returned: success
  type: dict
  sample: {src: 3, dest: 4}
  contains:
    src:
      description: Requests to the source registry.
      type: int
      returned: success
    dest:
      description: Requests to the destination registry.
      type: int
      returned: success
duration:
  description: Seconds the copy took.
  returned: success
  type: float
  sample: 4.213
diff:
  description:
    - Destination tag digests before and after, in diff mode. Backup and attachment tags are included; a tag
      removed by O(prune) is in C(before) only.
  returned: when diff mode is on
  type: dict
  sample:
    before: {"registry.example.com/prod/app:1.4.2": null}
    after: {"registry.example.com/prod/app:1.4.2": "sha256:0d5e3c1b6f0a1c2e8f3b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"}
'''

from ansible.module_utils.basic import AnsibleModule

import json

from ansible_collections.oci.registry.plugins.module_utils._ansible_module import (
    auth_suboptions,
    client_from_params,
    connection_argument_spec,
    error_message,
    fail,
    run_module,
)
from ansible_collections.oci.registry.plugins.module_utils._blob_writer import validate_chunk_size
from ansible_collections.oci.registry.plugins.module_utils._connect import connection_params, target_url
from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidReferenceError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils._options import check_number
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    LayoutReference,
    is_layout_reference,
    parse_layout_reference,
    parse_reference,
)

try:
    from ansible_collections.oci.registry.plugins.module_utils._copy import CopyEngine, connections_for, sync_options
except ImportError:  # requests missing: run_module reports it cleanly
    CopyEngine = connections_for = sync_options = None
try:
    from ansible_collections.oci.registry.plugins.module_utils._batch_copy import (
        BatchCopy,
        CopyItem,
        expected_digest_refusal,
    )
except ImportError:  # requests missing: run_module reports it cleanly
    BatchCopy = CopyItem = expected_digest_refusal = None
try:
    from ansible_collections.oci.registry.plugins.module_utils._layout import LayoutClient
except ImportError:  # requests missing: run_module reports it cleanly
    LayoutClient = None


def _side_spec():
    # No defaults here: an unset key must fall through to the top-level options.
    spec = {}
    for name, option in auth_suboptions().items():
        option = dict(option)
        option.pop('default', None)
        spec[name] = option
    return spec


def argument_spec():
    spec = {}
    for name, option in connection_argument_spec().items():
        option = dict(option)
        option.pop('default', None)
        option.pop('required', None)
        spec[name] = option
    spec.update(
        src=dict(type='str'),
        dest=dict(type='str'),
        src_auth=dict(type='dict', options=_side_spec()),
        dest_auth=dict(type='dict', options=_side_spec()),
        platforms=dict(type='list', elements='str'),
        tags=dict(type='list', elements='str'),
        tag_pattern=dict(type='str'),
        referrers=dict(type='bool', default=False),
        overwrite=dict(type='bool', default=True),
        prune=dict(type='bool', default=False),
        prune_manifests=dict(type='bool', default=False),
        immutable_tags=dict(type='str'),
        backup_tag=dict(type='str'),
        concurrency=dict(type='int', default=4),
        chunk_size=dict(type='int'),
        expected_digest=dict(type='str'),
        images=dict(type='list', elements='dict', options=dict(
            src=dict(type='str', required=True),
            dest=dict(type='str', required=True),
            src_auth=dict(type='dict', options=_side_spec()),
            dest_auth=dict(type='dict', options=_side_spec()),
            platforms=dict(type='list', elements='str'),
            tags=dict(type='list', elements='str'),
            tag_pattern=dict(type='str'),
            semver=dict(type='str'),
            include_prerelease=dict(type='bool', default=False),
            limit=dict(type='int'),
            allow_empty=dict(type='bool', default=False),
            referrers=dict(type='bool'),
            overwrite=dict(type='bool'),
            expected_digest=dict(type='str'),
            prune=dict(type='bool'),
            prune_manifests=dict(type='bool'),
            immutable_tags=dict(type='str'),
            backup_tag=dict(type='str'),
        ), mutually_exclusive=[('tags', 'tag_pattern'), ('tags', 'semver')]),
        image_concurrency=dict(type='int', default=4),
        atomic=dict(type='bool', default=False),
    )
    return spec


def side_params(params, reference, side_auth, text=None):
    """Connection parameters of one side, by the one rule of module_utils._connect."""
    url = target_url(reference, text, params.get('registry_url'))
    return connection_params(params, target=url, side=side_auth)


_SYNC = ('prune', 'prune_manifests', 'immutable_tags', 'backup_tag')


def parse_end(text, default_registry=None):
    """A registry reference, or a LayoutReference for ``oci:``/``oci-archive:``."""
    if is_layout_reference(text):
        return parse_layout_reference(text)
    return parse_reference(text, default_registry=default_registry)


def layout_end(reference, role, peer=None):
    """The copy end of a layout or archive, checked before any request; ``peer`` lends its retry policy."""
    return LayoutClient(reference, role=role, transport=getattr(peer, 'transport', None)).prepare()


def check_layout_options(params, dest, what='dest'):
    if isinstance(dest, LayoutReference) and params.get('prune'):
        raise InvalidReferenceError('prune removes tags from a registry; %s is an OCI layout (%s), where a copy only '
                                    'adds or moves tags' % (what, dest), action='validate prune')


def finish_ends(ends, succeeded):
    """Archives are written once the copy succeeded; a failed copy leaves none half-written."""
    for end in ends:
        if succeeded:
            end.commit()
        else:
            end.discard()


def run(module):
    params = module.params
    # Checked before any request, by the one owner of the numeric ranges.
    check_number('concurrency', params['concurrency'])
    check_number('image_concurrency', params['image_concurrency'])
    validate_chunk_size(params['chunk_size'])
    if params['images'] is not None:
        return run_images(module, params)
    sync_options(bool(params['tags'] or params['tag_pattern']), **dict((key, params[key]) for key in _SYNC))
    default_registry = params.get('registry_url')
    src = parse_end(params['src'], default_registry=default_registry)
    dest = parse_end(params['dest'], default_registry=default_registry)
    check_layout_options(params, dest)
    # One client per side, even for one registry and identity: each counts its own requests
    # (RV(requests)); the cost is at most one more token round trip.
    src_client = dest_client = None
    if not isinstance(src, LayoutReference):
        src_params = side_params(params, src, params.get('src_auth'), params['src'])
        src_client = client_from_params(module, params, registry_url=src_params['registry_url'],
                                        side=params.get('src_auth'), pool_size=connections_for(params['concurrency']))
    if not isinstance(dest, LayoutReference):
        dest_params = side_params(params, dest, params.get('dest_auth'), params['dest'])
        dest_client = client_from_params(module, params, registry_url=dest_params['registry_url'],
                                         side=params.get('dest_auth'), pool_size=connections_for(params['concurrency']))
    if src_client is None:
        src_client = layout_end(src, 'src', dest_client)
    if dest_client is None:
        dest_client = layout_end(dest, 'dest', src_client)
    ends = [client for client in (src_client, dest_client) if isinstance(client, LayoutClient)]
    succeeded = False
    try:
        result = copy_one(module, params, src, dest, src_client, dest_client)
        succeeded = True
    finally:
        finish_ends(ends, succeeded)
    return result


def copy_one(module, params, src, dest, src_client, dest_client):
    engine = CopyEngine(src_client, dest_client, concurrency=params['concurrency'],
                        chunk_size=params['chunk_size'], check_mode=module.check_mode)
    if params['expected_digest'] and (params['tags'] or params['tag_pattern']):
        module.fail_json(msg='expected_digest guards one source image; it cannot be combined with tags or tag_pattern')
    plan = engine.plan(src, dest, platforms=params['platforms'], tags=params['tags'],
                       tag_pattern=params['tag_pattern'], referrers=params['referrers'],
                       overwrite=params['overwrite'], **dict((key, params[key]) for key in _SYNC))
    if plan.tags:
        refusal = expected_digest_refusal(src, plan.tags[0]['src_digest'], params['expected_digest'])
        if refusal is not None:
            fail(module, 'refused by expected_digest: %s; nothing was written' % refusal['msg'], refused=refusal)
    result = engine.execute(plan)
    diff = result.pop('diff')
    if module._diff:
        result['diff'] = diff
    return result


_SELECTION = ('tags', 'tag_pattern', 'semver', 'include_prerelease', 'limit')
_ITEM_DEFAULTS = ('platforms', 'referrers', 'overwrite', 'expected_digest', 'src_auth', 'dest_auth') + _SYNC


def _item_options(params, entry):
    """An entry of images with the top-level options filled in (see the images option's documentation)."""
    options = dict((key, entry.get(key) if entry.get(key) is not None else params.get(key)) for key in _ITEM_DEFAULTS)
    source = entry if any(entry.get(key) is not None for key in ('tags', 'tag_pattern', 'semver')) else params
    for key in _SELECTION:
        options[key] = source.get(key)
    options['include_prerelease'] = bool(options['include_prerelease'])
    options['allow_empty'] = bool(entry.get('allow_empty'))
    return options


def run_images(module, params):
    default_registry = params.get('registry_url')
    clients = {}

    def client_for(reference, side_auth, side_name):
        if isinstance(reference, LayoutReference):
            key = (side_name, reference.path)
            if key not in clients:
                clients[key] = layout_end(reference, side_name)
            return clients[key]
        side = side_params(params, reference, side_auth)
        key = (side_name, json.dumps(side, sort_keys=True, default=str))
        if key not in clients:
            # One client per side, registry and identity for the whole batch: one token cache, one pool,
            # and the requests of each side counted apart (RV(requests)).
            # Entries run image_concurrency at a time over the same clients.
            clients[key] = client_from_params(
                module, params, registry_url=side['registry_url'], side=side_auth,
                pool_size=connections_for(params['concurrency']) * params['image_concurrency'])
        return clients[key]

    items = []
    for position, entry in enumerate(params['images']):
        options = _item_options(params, entry)
        try:
            src = parse_end(entry['src'], default_registry=default_registry)
            dest = parse_end(entry['dest'], default_registry=default_registry)
            check_layout_options(options, dest)
            items.append(CopyItem(src, dest, client_for(src, options.pop('src_auth'), 'src'),
                                  client_for(dest, options.pop('dest_auth'), 'dest'), **options))
        except (RegistryError, InvalidReferenceError) as err:
            fail(module, 'images[%d]: %s' % (position, error_message(err)))
    batch = BatchCopy(concurrency=params['concurrency'], image_concurrency=params['image_concurrency'],
                      chunk_size=params['chunk_size'], check_mode=module.check_mode, atomic=params['atomic'])
    ends = [client for client in clients.values() if isinstance(client, LayoutClient)]
    succeeded = False
    try:
        result = batch.run(items)
        succeeded = True
    finally:
        # Entries that failed wrote no index entry: an archive keeps what the others completed.
        finish_ends(ends, succeeded)
    result['requests'] = dict((side, sum(client.request_count for (name, dummy), client in clients.items()
                                         if name == side)) for side in ('src', 'dest'))
    diffs = [image.pop('diff', None) or {} for image in result['images']]
    if module._diff:
        result['diff'] = dict((when, dict((key, value) for diff in diffs for key, value in diff.get(when, {}).items()))
                              for when in ('before', 'after'))
    failed = [image for image in result['images'] if image['status'] in ('failed', 'refused')]
    if failed:
        first = failed[0]
        msg = '%d of %d images failed; first: images[%d] %s -> %s: %s' % (
            len(failed), len(result['images']), first['index'], first['src'], first['dest'], first['msg'])
        written = [image for image in result['images'] if image['status'] == 'done']
        if params['atomic'] and not written:
            msg += '; nothing was written'
        elif params['atomic']:
            msg += ('; %d images were written before the failure (re-run to complete, or see images[].status)'
                    % len(written))
        fail(module, msg, **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('tags', 'tag_pattern'), ('images', 'src'), ('images', 'dest')],
        required_one_of=[('src', 'images')],
        required_together=[('src', 'dest')],
        supports_check_mode=True,
    )
    run_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
