# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""OCI image layouts (``oci:/dir``) and layout archives (``oci-archive:/file.tar``) as copy ends.

``LayoutClient`` offers the client methods the copy engine and BlobWriter call on a registry
client (manifests, blobs, tags, referrers, uploads), over a directory or a tar, so registry ->
layout, layout -> registry and layout -> layout all run through the one copy engine.

Writing is crash-safe: a blob goes to a temporary name in ``blobs/sha256`` and is renamed once its
source verified it; ``index.json`` is replaced (temporary file + rename) only after the content a
new entry names is in place. An archive is built in a staging directory next to it and written
to a temporary file that replaces the archive at the end (``commit``).

Reading refuses what a hostile layout could use against the reader: digests other than
``sha256:<64 hex>`` (they become paths), symbolic links, archive members outside the layout or of
other types than files and directories, and oversized ``index.json`` or manifests.

Pure Python; no Ansible imports.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import threading

from ansible_collections.oci.registry.plugins.module_utils._api_blobs import BlobsApi, VerifiedStream, _BlobVerifier
from ansible_collections.oci.registry.plugins.module_utils._api_manifests import ManifestResult, PutResult
from ansible_collections.oci.registry.plugins.module_utils._api_referrers import ReferrersResult
from ansible_collections.oci.registry.plugins.module_utils._api_uploads import UploadSession
from ansible_collections.oci.registry.plugins.module_utils._blob_writer import UploadResult
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    DigestMismatchError,
    NotFoundError,
    RegistryError,
)
from ansible_collections.oci.registry.plugins.module_utils._media import (
    MAX_MANIFEST_SIZE,
    OCI_INDEX,
    Descriptor,
    parse_manifest,
    sha256_digest,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import TAG_RE, is_digest

REF_NAME = "org.opencontainers.image.ref.name"
LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
LAYOUT_VERSION = b'{"imageLayoutVersion":"1.0.0"}'
# A layout is data from elsewhere (a USB stick, a download): its control files are read whole, so bounded.
MAX_INDEX_SIZE = 4 * 1024 * 1024
MAX_INDEX_ENTRIES = 20000
MAX_ARCHIVE_MEMBERS = 200000
SHA256_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_PARTIAL = ".partial-"


class LayoutError(RegistryError):
    """A layout or archive that cannot be used as asked (missing, not a layout, hostile content)."""

    def __init__(self, message, **kwargs):
        kwargs.setdefault("action", "read layout")
        super().__init__(message, **kwargs)


class _NoRetry(object):
    """The retry policy BlobWriter asks for when no registry side has one: nothing is retried."""

    retries = 0

    @staticmethod
    def retry_wait(headers, attempt):
        return None

    @staticmethod
    def sleep(seconds):
        return None


def blob_name(digest, where):
    """``blobs/sha256/<hex>`` of a digest; anything but ``sha256:<64 hex>`` would be a path of its own."""
    if not isinstance(digest, str) or not SHA256_RE.match(digest):
        shown = digest[:40] + "..." if isinstance(digest, str) and len(digest) > 40 else digest
        raise LayoutError("%s names the digest %r; only sha256:<64 lowercase hex> digests are read from a layout"
                          % (where, shown if isinstance(digest, str) else type(digest).__name__),
                          hint="the layout is damaged or crafted; recreate it from a registry")
    return "blobs/sha256/" + digest.split(":", 1)[1]


def _os_error(err, path, action):
    reason = err.strerror or type(err).__name__
    return LayoutError("%s: %s" % (path, reason), action=action,
                       hint="check the path, that the user the task runs as may read it (and write it, for dest), "
                            "and the free space")


# ------------------------------------------------------------------ stores


class _DirStore(object):
    """Files of a layout directory. Nothing is followed through a symbolic link below the root."""

    def __init__(self, root):
        self.root = root

    def _checked_parents(self, name):
        parts = name.split("/")
        for depth in range(1, len(parts)):
            path = os.path.join(self.root, *parts[:depth])
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                return False
            if not stat.S_ISDIR(info.st_mode):
                raise LayoutError("%s is a %s, not a directory; a layout holds no links" % (
                    path, "symbolic link" if stat.S_ISLNK(info.st_mode) else "file"),
                    hint="the layout is damaged or crafted; recreate it from a registry")
        return True

    def size(self, name):
        if not self._checked_parents(name):
            return None
        path = os.path.join(self.root, name)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(info.st_mode):
            raise LayoutError("%s is %s, not a regular file" % (
                path, "a symbolic link" if stat.S_ISLNK(info.st_mode) else "a special file"),
                hint="a layout holds plain files only; recreate it from a registry")
        return info.st_size

    def open(self, name):
        """``(file, size)`` or None; a link or special file in place of a layout file is refused."""
        if not self._checked_parents(name):
            return None
        path = os.path.join(self.root, name)
        try:
            handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return None
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise LayoutError("%s is a symbolic link; a layout holds no links" % path,
                                  hint="the layout is damaged or crafted; recreate it from a registry") from None
            raise
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            os.close(handle)
            raise LayoutError("%s is not a regular file" % path, hint="a layout holds plain files only")
        return os.fdopen(handle, "rb"), info.st_size

    def names(self, directory):
        path = os.path.join(self.root, directory)
        if not os.path.isdir(path):
            return []
        return sorted(entry for entry in os.listdir(path) if not entry.startswith("."))


class _Slice(object):
    """``read(n)`` over one archive member: its own file handle, so readers run in parallel."""

    def __init__(self, path, offset, size):
        self._handle = open(path, "rb")
        self._handle.seek(offset)
        self._left = size

    def read(self, size=-1):
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._handle.read(size)
        self._left -= len(data)
        return data

    def close(self):
        self._handle.close()


class _TarStore(object):
    """Members of an uncompressed layout archive, found by one pass over the headers (no data read)."""

    def __init__(self, path):
        self.path = path
        self.members = {}
        try:
            with open(path, "rb") as handle, tarfile.open(fileobj=handle, mode="r:") as archive:
                count = 0
                while True:
                    member = archive.next()
                    if member is None:
                        break
                    count += 1
                    if count > MAX_ARCHIVE_MEMBERS:
                        raise LayoutError("%s has more than %d members; a layout archive of images has far fewer"
                                          % (path, MAX_ARCHIVE_MEMBERS))
                    self._admit(member)
                    # The offsets are all that is kept: tarfile's own list would grow with the archive.
                    archive.members = []
        except tarfile.TarError as err:
            raise LayoutError("%s is not an uncompressed tar archive (%s)" % (path, err),
                              hint="oci-archive: reads the tar that skopeo copy ... oci-archive: or this module "
                                   "writes; unpack compressed archives first") from None

    def _admit(self, member):
        name = member.name
        while name.startswith("./"):
            name = name[2:]
        parts = name.rstrip("/").split("/")
        if member.name.startswith("/") or ".." in parts or "" in parts[:-1]:
            raise LayoutError("%s has the member %r outside the layout" % (self.path, member.name),
                              hint="the archive is damaged or crafted; recreate it")
        if member.isdir():
            return
        if not member.isreg() or member.issparse():
            kind = "link" if member.issym() or member.islnk() else "special file"
            raise LayoutError("%s has the member %r, a %s; a layout archive holds plain files only"
                              % (self.path, member.name, kind), hint="the archive is damaged or crafted; recreate it")
        if name in self.members:
            raise LayoutError("%s holds %r twice" % (self.path, name), hint="the archive is damaged or crafted; recreate it")
        self.members[name] = (member.offset_data, member.size)

    def size(self, name):
        found = self.members.get(name)
        return None if found is None else found[1]

    def open(self, name):
        found = self.members.get(name)
        if found is None:
            return None
        return _Slice(self.path, found[0], found[1]), found[1]

    def names(self, directory):
        prefix = directory.rstrip("/") + "/"
        return sorted(name[len(prefix):] for name in self.members
                      if name.startswith(prefix) and "/" not in name[len(prefix):])


def _read_bounded(opened, limit, what):
    handle, size = opened
    try:
        if size > limit:
            raise LayoutError("%s is %d bytes, more than the %d this reader accepts" % (what, size, limit),
                              hint="the layout is damaged or crafted; recreate it from a registry")
        data = handle.read(limit + 1)
    finally:
        handle.close()
    if len(data) != size:
        raise LayoutError("%s changed while it was read" % what)
    return data


def process_umask():
    current = os.umask(0o022)
    os.umask(current)
    return current


# mkstemp creates 0600 files; a layout is shared data (served, copied by other users), so its files get
# the mode any other file of this process would get, and a replaced archive keeps its own.
_FILE_MODE = 0o666 & ~process_umask()


def _publish_mode(handle, replaces=None):
    try:
        mode = stat.S_IMODE(os.stat(replaces).st_mode) if replaces else _FILE_MODE
    except OSError:
        mode = _FILE_MODE
    os.fchmod(handle, mode)


def _write_atomic(directory, name, data):
    """Replace ``directory/name`` by ``data`` at once: a reader sees the old or the new file, never half."""
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=_PARTIAL)
    try:
        _publish_mode(handle)
        with os.fdopen(handle, "wb") as output:
            output.write(data)
            output.flush()
            os.fsync(output.fileno())
        os.replace(temporary, os.path.join(directory, name))
    except BaseException:
        _unlink(temporary)
        raise


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


# ------------------------------------------------------------------ the client


class LayoutBlobStream(VerifiedStream):
    """A blob of the layout, verified as it streams (the registry client's BlobStream contract)."""

    def __init__(self, opened, registry, digest, expected_size=None):
        self._handle, size = opened
        if expected_size is not None and size != expected_size:
            self._handle.close()
            raise DigestMismatchError("the layout's blob is %d bytes, its descriptor says %d" % (size, expected_size),
                                      registry=registry, reference=digest, action="get blob")
        self.size = size
        self.digest = digest
        super().__init__(_BlobVerifier(registry, None, digest, size))

    def close(self):
        self._handle.close()

    def _chunks(self, chunk_size):
        while True:
            try:
                chunk = self._handle.read(chunk_size)
            except OSError as err:
                raise _os_error(err, self.digest, "get blob") from None
            if not chunk:
                return
            yield chunk


class LayoutClient(object):
    """The registry-client surface of one layout (``oci``) or layout archive (``oci-archive``).

    ``reference`` is a ``_reference.LayoutReference``. ``role`` "src" turns a missing tag into an
    error naming the tags the layout has; "dest" makes the layout writable (created on the first
    write, never in check mode since the engine then writes nothing). ``transport`` is the retry
    policy of the other side's registry, so a broken source stream is read again as for a registry.
    Call ``commit()`` after the copy (an archive is written then) and ``discard()`` when it failed.
    """

    def __init__(self, reference, role="src", transport=None):
        self.reference = reference
        self.kind = reference.scheme
        self.path = reference.path
        self.registry_url = reference.registry_url
        self.registry = reference.registry_url
        self.role = role
        self.request_count = 0
        self.transport = transport or _NoRetry()
        self._lock = threading.RLock()
        self._stores = None
        self._index = None
        self._write_root = None
        self._dirty = False
        self._subjects = {}
        self.manifests = _Manifests(self)
        self.blobs = _Blobs(self)
        self.tags = _Tags(self)
        self.referrers = _Referrers(self)
        self.uploads = _Uploads(self)

    # -------------------------------------------------------------- opening

    def prepare(self):
        """Every check that needs no copy: the layout (or archive) is usable in its role, the tag is there."""
        with self.guard("open"):
            self.load()
            if self.role == "src":
                if self._index is None:
                    raise LayoutError("no OCI image layout at %s (%s is missing)" % (
                        self.path, INDEX_FILE if self.kind == "oci" else "the file or its index.json"),
                        hint="check the path; a layout is written by registry_copy or skopeo copy ... %s:" % self.kind)
                if self.reference.tag:
                    self.find_entry(self.reference.tag)
                elif not self.reference.digest and len(self.tag_names()) == 0:
                    raise LayoutError("the layout %s has no tagged image" % self.path,
                                      hint="give a digest: %s@sha256:..." % self.registry_url)
        return self

    def load(self):
        with self._lock:
            if self._stores is not None:
                return
            stores = []
            if self.kind == "oci":
                if os.path.lexists(self.path) and not os.path.isdir(self.path):
                    raise LayoutError("%s is not a directory; oci: names a layout directory" % self.path,
                                      hint="use oci-archive: for a tar file")
                stores.append(_DirStore(self.path))
                if self.role == "dest" and os.path.isdir(self.path) and os.listdir(self.path) \
                        and not os.path.exists(os.path.join(self.path, INDEX_FILE)) \
                        and not os.path.exists(os.path.join(self.path, LAYOUT_FILE)):
                    raise LayoutError("%s is a directory with other content, not an OCI image layout" % self.path,
                                      action="write layout", hint="give a new or empty directory, or an existing "
                                                                  "layout")
            else:
                if os.path.lexists(self.path):
                    if os.path.islink(self.path) or not os.path.isfile(self.path):
                        raise LayoutError("%s is not a regular file; oci-archive: names a tar file" % self.path,
                                          hint="use oci: for a layout directory")
                    stores.append(_TarStore(self.path))
                elif self.role == "dest" and not os.path.isdir(os.path.dirname(self.path)):
                    raise LayoutError("the directory of %s does not exist" % self.path, action="write layout",
                                      hint="create it first")
            self._stores = stores
            self._index = self._read_index(stores)

    def _read_index(self, stores):
        opened = None
        for store in stores:
            opened = store.open(INDEX_FILE)
            if opened is not None:
                break
        if opened is None:
            return None
        raw = _read_bounded(opened, MAX_INDEX_SIZE, "%s of %s" % (INDEX_FILE, self.path))
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise LayoutError("%s of %s is not JSON (%s)" % (INDEX_FILE, self.path, err)) from None
        entries = data.get("manifests") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise LayoutError("%s of %s has no manifests list" % (INDEX_FILE, self.path))
        if len(entries) > MAX_INDEX_ENTRIES:
            raise LayoutError("%s of %s lists %d manifests, more than %d" % (INDEX_FILE, self.path, len(entries),
                                                                             MAX_INDEX_ENTRIES))
        for position, entry in enumerate(entries):
            where = "%s entry %d of %s" % (INDEX_FILE, position, self.path)
            if not isinstance(entry, dict) or not isinstance(entry.get("size"), int) or entry["size"] < 0:
                raise LayoutError("%s is not a descriptor with a size" % where)
            blob_name(entry.get("digest"), where)
            if not isinstance(entry.get("annotations") or {}, dict):
                raise LayoutError("%s has annotations that are not a mapping" % where)
        return data

    # -------------------------------------------------------------- reading

    def guard(self, action):
        return _Guard(self, action)

    def exists(self):
        """Is there a layout (an index.json) yet?"""
        self.load()
        return self._index is not None

    def index_entries(self):
        self.load()
        return list((self._index or {}).get("manifests") or [])

    def tag_names(self):
        names = []
        for entry in self.index_entries():
            name = (entry.get("annotations") or {}).get(REF_NAME)
            if isinstance(name, str) and TAG_RE.match(name) and name not in names:
                names.append(name)
        return names

    def find_entry(self, tag):
        for entry in self.index_entries():
            if (entry.get("annotations") or {}).get(REF_NAME) == tag:
                return entry
        if self.role != "src":
            return None
        known = self.tag_names()
        raise NotFoundError("the tag %s is not in the layout (it has %s)" % (
            tag, ", ".join(known[:20]) + (" and %d more" % (len(known) - 20) if len(known) > 20 else "")
            if known else "no tags"), registry=self.reference.registry, repository=self.reference.repository,
            reference=tag, action="read layout", hint="pick one of its tags")

    def open_blob(self, digest):
        name = blob_name(digest, "the copy")
        self.load()
        for store in self._stores:
            opened = store.open(name)
            if opened is not None:
                return opened
        return None

    def blob_size(self, digest):
        name = blob_name(digest, "the copy")
        self.load()
        for store in self._stores:
            size = store.size(name)
            if size is not None:
                return size
        return None

    def read_manifest(self, digest, media_type=None):
        """ManifestResult of a manifest blob, verified; NotFoundError when the layout lacks it."""
        opened = self.open_blob(digest)
        if opened is None:
            raise NotFoundError("the layout has no manifest %s" % digest, registry=self.registry_url,
                                reference=digest, action="get manifest",
                                hint="the layout is incomplete; copy the image into it again")
        raw = _read_bounded(opened, MAX_MANIFEST_SIZE, "manifest %s" % digest)
        if sha256_digest(raw) != digest:
            raise DigestMismatchError("the layout's manifest %s hashes to %s" % (digest, sha256_digest(raw)),
                                      registry=self.registry_url, reference=digest, action="get manifest")
        try:
            manifest = parse_manifest(raw, media_type)
        except (ValueError, RegistryError) as err:
            raise LayoutError("the layout's blob %s is not a manifest (%s)" % (digest, err)) from None
        # Every digest it lists becomes a path here or a URL at the destination: checked before any is used.
        data = manifest.data if isinstance(manifest.data, dict) else {}
        listed = [data.get("config"), data.get("subject")] + list(data.get("layers") or []) \
            + list(data.get("manifests") or [])
        for descriptor in listed:
            if isinstance(descriptor, dict):
                blob_name(descriptor.get("digest"), "manifest %s of the layout" % digest)
        return ManifestResult(digest, manifest.media_type, len(raw), raw, manifest)

    def resolve(self, reference):
        """(digest, media type or None) of a tag or digest; None when the layout has neither."""
        if is_digest(reference):
            blob_name(reference, "the reference")
            return reference, None
        entry = self.find_entry(reference)
        if entry is None:
            return None
        return entry["digest"], entry.get("mediaType")

    def subject_of(self, digest):
        with self._lock:
            if digest not in self._subjects:
                try:
                    manifest = self.read_manifest(digest).manifest
                    self._subjects[digest] = manifest.subject.digest if manifest.subject is not None else None
                except NotFoundError:
                    self._subjects[digest] = None
            return self._subjects[digest]

    def listed(self, digest):
        return any(entry.get("digest") == digest for entry in self.index_entries())

    # -------------------------------------------------------------- writing

    def _root(self):
        """The directory writes go to: created (with ``oci-layout`` and an empty index) on the first write."""
        with self._lock:
            self.load()
            if self._write_root is None:
                if self.role != "dest":
                    raise LayoutError("%s is the source of this copy and is not written" % self.path,
                                      action="write layout")
                if self.kind == "oci":
                    root = self.path
                    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
                else:
                    parent, name = os.path.split(self.path)
                    root = tempfile.mkdtemp(dir=parent, prefix=".%s.staging-" % name)
                    os.makedirs(os.path.join(root, "blobs", "sha256"))
                    self._stores.insert(0, _DirStore(root))
                if not os.path.exists(os.path.join(root, LAYOUT_FILE)):
                    _write_atomic(root, LAYOUT_FILE, LAYOUT_VERSION)
                if self._index is None:
                    self._index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
                    self._save_index(root)
                self._write_root = root
            return self._write_root

    def write_blob(self, digest, chunks, size=None):
        """Store a blob from verified ``chunks`` under a temporary name, renamed when complete; returns its size."""
        name = blob_name(digest, "the copy")
        root = self._root()
        directory = os.path.join(root, "blobs", "sha256")
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=_PARTIAL)
        written = 0
        try:
            _publish_mode(handle)
            with os.fdopen(handle, "wb") as output:
                for chunk in chunks:
                    output.write(chunk)
                    written += len(chunk)
                output.flush()
                # An archive's staging directory is thrown away after a crash; the finished tar is synced.
                if self.kind == "oci":
                    os.fsync(output.fileno())
            if size is not None and written != size:
                raise DigestMismatchError("received %d bytes of blob %s, expected %d" % (written, digest, size),
                                          registry=self.registry_url, reference=digest, action="write blob")
            os.replace(temporary, os.path.join(root, name))
        except BaseException:
            _unlink(temporary)
            raise
        return written

    def start_partial(self):
        """A temporary blob file in ``blobs/sha256`` for a chunked write; its path."""
        handle, temporary = tempfile.mkstemp(dir=os.path.join(self._root(), "blobs", "sha256"), prefix=_PARTIAL)
        _publish_mode(handle)
        os.close(handle)
        return temporary

    def finish_partial(self, temporary, digest):
        """Rename a complete chunked write (its source verified every byte) to its digest."""
        name = blob_name(digest, "the copy")
        try:
            with open(temporary, "rb+") as output:
                os.fsync(output.fileno())
            os.replace(temporary, os.path.join(self._root(), name))
        except BaseException:
            _unlink(temporary)
            raise

    def write_bytes(self, digest, data):
        if sha256_digest(data) != digest:
            raise DigestMismatchError("content hashes to %s, not %s" % (sha256_digest(data), digest),
                                      registry=self.registry_url, reference=digest, action="write blob")
        if self.blob_size(digest) is None:
            self.write_blob(digest, [data], len(data))

    def set_entry(self, entry, tag=None):
        """Add ``entry`` to index.json (replacing the entry of ``tag``) once its content is written."""
        with self._lock:
            root = self._root()
            entries = self._index.setdefault("manifests", [])
            if tag is not None:
                entries[:] = [e for e in entries if (e.get("annotations") or {}).get(REF_NAME) != tag]
            elif any(e.get("digest") == entry["digest"] for e in entries):
                return
            entries.append(entry)
            self._save_index(root)

    def _save_index(self, root):
        self._dirty = True
        if self.kind == "oci":
            _write_atomic(root, INDEX_FILE, json.dumps(self._index, separators=(",", ":")).encode("utf-8"))

    def commit(self):
        """After a successful copy: an archive that changed is rewritten (temporary file, then rename)."""
        with self._lock:
            if self.kind != "oci-archive" or not self._dirty:
                return False
            with self.guard("write archive"):
                self._write_archive()
                shutil.rmtree(self._write_root, ignore_errors=True)
                self._write_root = None
                self._dirty = False
            return True

    def discard(self):
        """After a failed copy: an archive's staging directory goes; a directory layout keeps its verified blobs."""
        with self._lock:
            if self.kind == "oci-archive" and self._write_root is not None:
                shutil.rmtree(self._write_root, ignore_errors=True)
                self._write_root = None

    def _write_archive(self):
        parent, name = os.path.split(self.path)
        handle, temporary = tempfile.mkstemp(dir=parent, prefix=".%s." % name, suffix=".partial")
        try:
            _publish_mode(handle, self.path if os.path.exists(self.path) else None)
            with os.fdopen(handle, "wb") as output:
                with tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT) as archive:
                    for directory in ("blobs", "blobs/sha256"):
                        info = tarfile.TarInfo(directory)
                        info.type, info.mode = tarfile.DIRTYPE, 0o755
                        archive.addfile(info)
                    self._add_member(archive, LAYOUT_FILE, LAYOUT_VERSION)
                    blobs = sorted(set(hexname for store in self._stores for hexname in store.names("blobs/sha256")))
                    for hexname in blobs:
                        member = "blobs/sha256/" + hexname
                        if not re.match(r"^[0-9a-f]{64}$", hexname):
                            continue
                        source = self.open_blob("sha256:" + hexname)
                        info = tarfile.TarInfo(member)
                        info.size, info.mode = source[1], 0o644
                        try:
                            archive.addfile(info, source[0])
                        finally:
                            source[0].close()
                    self._add_member(archive, INDEX_FILE,
                                     json.dumps(self._index, separators=(",", ":")).encode("utf-8"))
                output.flush()
                os.fsync(output.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            _unlink(temporary)
            raise

    @staticmethod
    def _add_member(archive, name, data):
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        archive.addfile(info, _BytesReader(data))


class _BytesReader(object):
    def __init__(self, data):
        self._data = data
        self._position = 0

    def read(self, size=-1):
        end = len(self._data) if size is None or size < 0 else self._position + size
        chunk = self._data[self._position:end]
        self._position += len(chunk)
        return chunk


class _Guard(object):
    """OSError of a layout file -> one-line LayoutError naming the path (no traceback reaches the user)."""

    def __init__(self, client, action):
        self.client = client
        self.action = action

    def __enter__(self):
        return self

    def __exit__(self, kind, err, trace):
        if kind is not None and issubclass(kind, OSError) and not isinstance(err, RegistryError):
            raise _os_error(err, err.filename or self.client.path, self.action) from None
        return False


class _Group(object):
    def __init__(self, client):
        self.client = client
        self.registry = client.registry_url


class _Manifests(_Group):
    def head_manifest(self, repository, reference):
        with self.client.guard("head manifest"):
            found = self.client.resolve(reference)
            if found is None:
                return None
            digest, media_type = found
            if not is_digest(reference):
                entry = self.client.find_entry(reference)
                return Descriptor(media_type or self.client.read_manifest(digest).media_type, digest, entry["size"])
            if self.client.blob_size(digest) is None:
                return None
            result = self.client.read_manifest(digest)
            # A referrer counts as present once index.json lists it: a copy that broke between its blob
            # and the index entry writes the entry again on the next run.
            if result.manifest.subject is not None and not self.client.listed(digest):
                return None
            return Descriptor(result.media_type, digest, result.size)

    def get_manifest(self, repository, reference, accept=None):
        with self.client.guard("get manifest"):
            found = self.client.resolve(reference)
            if found is None:
                raise NotFoundError("the layout has no tag %s" % reference, registry=self.client.registry_url,
                                    reference=reference, action="get manifest")
            return self.client.read_manifest(found[0], found[1])

    get_manifest_raw = get_manifest

    def get_digest(self, repository, reference):
        return self.get_manifest(repository, reference).digest

    def put_manifest(self, repository, reference, raw, media_type):
        with self.client.guard("write manifest"):
            digest = sha256_digest(raw)
            if is_digest(reference) and reference != digest:
                raise DigestMismatchError("manifest hashes to %s, not %s" % (digest, reference),
                                          registry=self.client.registry_url, reference=reference,
                                          action="put manifest")
            self.client.write_bytes(digest, raw)
            manifest = parse_manifest(raw, media_type)
            subject = manifest.subject.digest if manifest.subject is not None else None
            entry = {"mediaType": manifest.media_type, "digest": digest, "size": len(raw)}
            if not is_digest(reference):
                entry["annotations"] = {REF_NAME: reference}
                self.client.set_entry(entry, tag=reference)
            elif subject is not None:
                # The image-spec keeps referrers as untagged index.json entries; the engine then needs no
                # sha256-<hex> fallback tag (the layout answers like a registry with the referrers API).
                artifact_type = manifest.data.get("artifactType")
                if artifact_type:
                    entry["artifactType"] = artifact_type
                self.client.set_entry(entry)
            return PutResult(digest, subject, None)


class _Blobs(_Group):
    def blob_exists(self, repository, digest):
        with self.client.guard("head blob"):
            return self.client.blob_size(digest)

    def get_blob(self, repository, digest, expected_size=None):
        with self.client.guard("get blob"):
            opened = self.client.open_blob(digest)
            if opened is None:
                raise NotFoundError("the layout has no blob %s" % digest, registry=self.client.registry_url,
                                    reference=digest, action="get blob",
                                    hint="the layout is incomplete; copy the image into it again")
            return LayoutBlobStream(opened, self.client.registry_url, digest, expected_size)

    # The one configuration reader, over this group's get_blob.
    get_config = BlobsApi.get_config


class _Tags(_Group):
    def iter_tags(self, repository, page_size=None, last=None):
        with self.client.guard("list tags"):
            if not self.client.exists():
                raise NotFoundError("no OCI image layout at %s" % self.client.path, registry=self.client.registry_url,
                                    action="list tags")
            return iter(sorted(self.client.tag_names()))


class _Referrers(_Group):
    def list_referrers(self, repository, digest, artifact_type=None, known_tags=None):
        """Index entries whose manifest's subject is ``digest`` (how the image-spec stores referrers).

        ``known_tags`` is the registry client's hint; a layout has no fallback tag to skip.
        """
        with self.client.guard("list referrers"):
            found = []
            for entry in self.client.index_entries():
                if entry["digest"] in (d.digest for d in found) or self.client.subject_of(entry["digest"]) != digest:
                    continue
                result = self.client.read_manifest(entry["digest"])
                data = result.manifest.data
                descriptor = {"mediaType": result.media_type, "digest": result.digest, "size": result.size}
                kind = data.get("artifactType") or (data.get("config") or {}).get("mediaType")
                if kind:
                    descriptor["artifactType"] = kind
                if data.get("annotations"):
                    descriptor["annotations"] = data["annotations"]
                found.append(Descriptor.from_dict(descriptor))
            if artifact_type:
                found = [d for d in found if d.artifact_type == artifact_type]
            return ReferrersResult(found, "api")


class _Uploads(_Group):
    def mount_blob(self, repository, digest, from_repository):
        return False

    def upload_stream(self, repository, digest, size, chunks):
        with self.client.guard("write blob"):
            self.client.write_blob(digest, chunks, size)
        return digest

    def monolithic_upload(self, repository, digest, data, size=None):
        with self.client.guard("write blob"):
            self.client.write_bytes(digest, bytes(data))
        return digest

    # The chunked path of BlobWriter (registry_copy chunk_size): chunks append to a temporary file.
    def start_upload(self, repository):
        with self.client.guard("write blob"):
            return UploadSession(repository, self.client.start_partial())

    def upload_chunk(self, session, data, start=None):
        with self.client.guard("write blob"):
            with open(session.location, "r+b") as output:
                output.seek(session.offset if start is None else start)
                output.write(bytes(data))
                session.offset = output.tell()
        return session

    def get_upload_status(self, session):
        return session.offset

    def complete_upload(self, session, digest, data=None, size=None, retry=True):
        if data:
            self.upload_chunk(session, data)
        with self.client.guard("write blob"):
            self.client.finish_partial(session.location, digest)
        return digest

    def discard_upload(self, session):
        _unlink(session.location)
        return True

    cancel_upload = discard_upload

    def upload_blob(self, repository, source, digest=None, size=None, chunk_size=None):
        data = bytes(source)
        digest = digest or sha256_digest(data)
        existed = self.client.blob_size(digest) is not None
        if not existed:
            self.monolithic_upload(repository, digest, data)
        return UploadResult(digest, len(data), existed, 0 if existed else 1)
