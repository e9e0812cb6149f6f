# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Split repositories into disjoint shards by a stable hash of the name (AWX job slicing).

Private to the collection, no compatibility promise. The one owner of the shard hash: the cleanup
and mirror roles (``cleanup_shard``, ``mirror_shard``) both use ``shard_of``, so a repository
lands in the same shard whatever role, Python version or execution node computes it (``hash()`` is
salted per process, SHA-256 is not). Pure Python; no Ansible imports.
"""

from __future__ import absolute_import, division, print_function

import hashlib

__metaclass__ = type  # pylint: disable=invalid-name


class ShardError(ValueError):
    """A shard specification that cannot select anything."""


def shard_of(name, count):
    """The shard (0 to ``count - 1``) that repository ``name`` belongs to."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ShardError("a shard count must be a whole number of at least 1, got %r" % (count,))
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:16], 16) % count


def parse_shard(spec, option="shard"):
    """``(index, count)`` from ``{index, count}``; None or {} means no sharding, shard 0 of 1."""
    if spec is None or spec == {} or spec == "":
        return 0, 1
    if not isinstance(spec, dict) or set(spec) - set(("index", "count")) or "count" not in spec or "index" not in spec:
        raise ShardError("%s must be a dict with index and count, for example {index: 0, count: 4}" % option)
    try:
        index, count = int(spec["index"]), int(spec["count"])
    except (TypeError, ValueError):
        raise ShardError("%s index and count must be whole numbers" % option)
    if count < 1 or not 0 <= index < count:
        raise ShardError("%s needs count >= 1 and 0 <= index < count, got index %d, count %d" % (option, index, count))
    return index, count


def in_shard(name, shard):
    """Whether ``name`` belongs to ``shard``, an ``(index, count)`` pair from :func:`parse_shard`."""
    index, count = shard
    return shard_of(name, count) == index


def select_shard(names, shard, option="shard"):
    """The names of ``names`` (order kept) that belong to ``shard`` (a ``{index, count}`` dict or None)."""
    parsed = parse_shard(shard, option)
    return [name for name in names if in_shard(name, parsed)]
