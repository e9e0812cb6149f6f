# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""registry_blob's service: put a blob into a repository, download it to a file, or delete it.

The writing itself is BlobWriter's (mount, then monolithic, then chunked with resume); file
hashing is ``file_digest``'s. This file decides what a task means: which digest, whether
anything is to do, what check mode predicts, and where a downloaded file goes.

The module hands in a LazyClient: a task that fails validation, or a download whose file
already has the digest, then sends no request at all.

Pure Python on top of the registry client; no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.oci.registry.plugins.module_utils._blob_writer import (
    BlobWriter,
    file_digest,
    validate_chunk_size,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import NotFoundError
from ansible_collections.oci.registry.plugins.module_utils._reference import validate_digest, validate_repository
from ansible_collections.oci.registry.plugins.module_utils._service import Outcome, ServiceError

ALGORITHMS = ('sha256', 'sha512')


def algorithm_of(digest):
    algorithm = digest.split(':', 1)[0]
    if algorithm not in ALGORITHMS:
        raise ServiceError('digest algorithm %s is not supported; use sha256 or sha512' % algorithm)
    return algorithm


def _presence(repository, digest, present):
    return dict(repository=repository, digest=digest, present=present)


class BlobService(object):
    """One registry_blob task on ``client`` (a LazyClient lets an up-to-date download send nothing);
    ``check_mode`` predicts instead of writing; ``chunk_size`` is passed to the BlobWriter."""

    def __init__(self, client, check_mode=False, chunk_size=None):
        self.client = client
        self.check_mode = check_mode
        self.chunk_size = validate_chunk_size(chunk_size)

    def apply(self, options, move=None):
        """Run the task the registry_blob options describe; ``move(tmp, dest)`` puts a download in place."""
        repository = validate_repository(options['repository'])
        digest = validate_digest(options['digest']) if options.get('digest') is not None else None
        src, dest, mount_from = options.get('src'), options.get('dest'), options.get('mount_from')
        if options.get('state', 'present') == 'absent':
            if digest is None:
                raise ServiceError('state=absent needs digest')
            if src is not None or dest is not None or mount_from is not None:
                raise ServiceError('src, dest and mount_from are only used with state=present')
            return self.absent(repository, digest)
        if dest is not None:
            if digest is None:
                raise ServiceError('dest needs digest: the blob to download')
            return self.download(repository, digest, dest, move)
        return self.present(repository, digest=digest, src=src, mount_from=mount_from)

    # ------------------------------------------------------------------ present

    def present(self, repository, digest=None, src=None, mount_from=None):
        """Make sure the blob is in ``repository``: from ``src`` (a file) or ``mount_from`` (a repository)."""
        size = None
        if src is not None:
            if not os.path.isfile(src):
                raise ServiceError('src %s is not a file' % src)
            computed, size = file_digest(src, algorithm_of(digest) if digest else 'sha256')
            if digest is not None and computed != digest:
                raise ServiceError('src %s hashes to %s, not to the given digest %s' % (src, computed, digest))
            digest = computed
        elif digest is None:
            raise ServiceError('state=present needs digest, or src to compute it from')
        if mount_from is not None:
            validate_repository(mount_from)

        existing = self.client.blobs.blob_exists(repository, digest)
        result = dict(digest=digest, exists=True, size=existing if existing is not None else size, method='none',
                      changed=existing is None)
        if existing is None:
            if src is None and mount_from is None:
                raise ServiceError('blob %s is not in %s on %s; give src to upload it or mount_from to mount it'
                                   % (digest, repository, self.client.registry_url), exists=False)
            if self.check_mode:
                result.update(self._predict(repository, digest, size, src, mount_from))
            else:
                written = self._write(repository, digest, size, src, mount_from)
                result.update(method=written.method, size=written.size)
                if written.method == 'uploaded':
                    result['chunks'] = written.chunks
        return Outcome(result, _presence(repository, digest, existing is not None),
                       _presence(repository, digest, True))

    def _write(self, repository, digest, size, src, mount_from):
        try:
            return BlobWriter(self.client, self.chunk_size).write(repository, digest, size=size, source=src,
                                                                  mount_from=mount_from)
        except NotFoundError:
            # Without src, a refused mount copies from mount_from: say what check mode says when it is not there.
            if src is None and self.client.blobs.blob_exists(mount_from, digest) is None:
                raise self._nowhere(repository, digest, mount_from)
            raise

    def _nowhere(self, repository, digest, mount_from):
        return ServiceError('blob %s is neither in %s nor in mount_from %s on %s'
                            % (digest, repository, mount_from, self.client.registry_url), exists=False)

    def _predict(self, repository, digest, size, src, mount_from):
        """What BlobWriter.write would do, from reads only: a mount needs the blob in ``mount_from``.

        A registry mounts only what the source repository has (it answers 202 and opens an upload
        session otherwise), so the blob is looked up there. Some registries answer 202 to every
        mount request; there the real run uploads (or copies) what check mode predicts as mounted.
        """
        if mount_from is not None:
            source_size = self.client.blobs.blob_exists(mount_from, digest)
            if source_size is not None:
                return dict(method='mounted', size=source_size)
            if src is None:
                raise self._nowhere(repository, digest, mount_from)
        return dict(method='uploaded', size=size)

    # ------------------------------------------------------------------ absent

    def absent(self, repository, digest):
        existing = self.client.blobs.blob_exists(repository, digest)
        result = dict(digest=digest, exists=False, size=existing, changed=existing is not None,
                      method='deleted' if existing is not None else 'none')
        if existing is not None and not self.check_mode:
            self.client.blobs.delete_blob(repository, digest)
        return Outcome(result, _presence(repository, digest, existing is not None),
                       _presence(repository, digest, False))

    # ------------------------------------------------------------------ download

    def download(self, repository, digest, dest, move, expected_size=None):
        """Write the blob to ``dest`` through a temporary file in its directory, so dest is never half written.

        ``move(tmp, dest)`` replaces ``dest`` atomically (the module's atomic_move). The result's
        ``before``/``after`` carry the absolute path, for the file attributes the module applies.
        ``expected_size`` (a descriptor's size) is verified while streaming, like the digest.
        """
        path = dest
        if not os.path.isabs(path):
            # The temporary file needs a directory; join rather than abspath, so "missing/.." still
            # fails on the missing directory as the OS would.
            path = os.path.join(os.getcwd(), path)
        algorithm = algorithm_of(digest)
        if os.path.isdir(path):
            raise ServiceError('dest %s is a directory; give the path of the file to write' % path)
        # The directory as the OS resolves it (abspath would fold "missing/.." away lexically).
        directory = os.path.dirname(path) or os.curdir
        if not os.path.isdir(directory):
            raise ServiceError('directory %s of dest does not exist' % directory)

        current = size = None
        if os.path.exists(path):
            current, size = file_digest(path, algorithm)
        changed = current != digest
        result = dict(digest=digest, dest=dest, exists=True, method='none', changed=changed)
        if changed:
            result['method'] = 'downloaded'
            if self.check_mode:
                # Still a read: fail now, as the real run would, when the blob is not there.
                size = self.client.blobs.blob_exists(repository, digest)
                if size is None:
                    raise ServiceError('blob %s is not in %s on %s' % (digest, repository, self.client.registry_url))
            else:
                size = self._write_file(repository, digest, path, directory, move, expected_size)
        result['size'] = size
        return Outcome(result, dict(path=path, digest=current), dict(path=path, digest=digest))

    def _write_file(self, repository, digest, path, directory, move, expected_size=None):
        tmp = None
        try:
            handle, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.part', dir=directory)
            # The client verifies size and digest of what it writes and resumes a broken body with
            # a Range request; on a mismatch it raises and the temporary file goes.
            with os.fdopen(handle, 'wb') as out:
                size = self.client.blobs.download_blob(repository, digest, out, expected_size=expected_size)
        except OSError as exc:
            if tmp is not None:
                os.unlink(tmp)
            if exc.errno is None:
                raise  # not the file system (requests' exceptions are OSErrors too)
            # The client raises write errors of the file as they are and wraps network faults.
            raise ServiceError('cannot write the blob to %s: %s; free space or fix permissions in %s and run again'
                               % (path, exc.strerror or exc, directory), errno=exc.errno)
        except BaseException:
            if tmp is not None:
                os.unlink(tmp)
            raise
        try:
            move(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return size


__all__ = ['ALGORITHMS', 'BlobService', 'algorithm_of']
