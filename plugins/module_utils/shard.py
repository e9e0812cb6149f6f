# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Split repositories into disjoint shards by a stable hash of the name.

Private to the collection, no compatibility promise. The one owner of the shard hash: the cleanup
and mirror roles (``cleanup_shard``, ``mirror_shard``) both use ``shard_of``, so a repository
lands in the same shard whatever role, Python version or machine computes it (``hash()`` is
salted per process, SHA-256 is not).
"""

from __future__ import absolute_import, division, print_function

import hashlib

__metaclass__ = type  # pylint: disable=invalid-name


class ShardError(ValueError):
    """An unusable shard specification."""


def shard_of(name, count):
    """The shard (0 to ``count - 1``) that repository ``name`` belongs to."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ShardError("shard count must be a positive integer, got %r" % (count,))
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(shard):
    """``(index, count)`` from ``{index, count}`` (None or {} means one shard, 0 of 1)."""
    if shard is None or shard == {}:
        return 0, 1
    if not isinstance(shard, dict) or set(shard) - set(("index", "count")):
        raise ShardError("shard must be a dict with index and count, got %r" % (shard,))
    try:
        index = int(shard.get("index", 0))
        count = int(shard.get("count", 1))
    except (TypeError, ValueError):
        raise ShardError("shard index and count must be integers, got %r" % (shard,))
    if count < 1 or not 0 <= index < count:
        raise ShardError("shard index must be 0 to count - 1 and count at least 1, got index %d, count %d"
                         % (index, count))
    return index, count


def select_shard(names, shard):
    """The names of ``names`` (order kept) that belong to ``shard``."""
    index, count = parse_shard(shard)
    return [name for name in names if shard_of(name, count) == index]
