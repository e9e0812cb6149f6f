# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shards for AWX job slicing: which of ``count`` disjoint shards owns a repository name.

The hash must be the same on every execution node and Python version (no ``hash()``,
which is salted per process), so N slices running in parallel split one run exactly.

Pure Python; no Ansible imports.
"""

from __future__ import annotations

import hashlib


class ShardError(ValueError):
    """A shard specification that cannot select anything."""


def shard_of(name, count):
    """Index (0 .. count-1) of the shard that owns repository ``name``."""
    count = int(count)
    if count < 1:
        raise ShardError("a shard count must be at least 1, got %d" % count)
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:16], 16) % count


def parse_shard(spec, option="shard"):
    """``{index, count}`` (or None) -> (index, count) or None; a one-line ShardError when invalid."""
    if spec is None or spec == {} or spec == "":
        return None
    if not isinstance(spec, dict) or set(spec) - {"index", "count"} or "count" not in spec or "index" not in spec:
        raise ShardError("%s must be a dict with index and count, for example {index: 0, count: 4}" % option)
    try:
        index, count = int(spec["index"]), int(spec["count"])
    except (TypeError, ValueError):
        raise ShardError("%s index and count must be whole numbers" % option) from None
    if count < 1 or not 0 <= index < count:
        raise ShardError("%s needs count >= 1 and 0 <= index < count, got index %d, count %d" % (option, index, count))
    return index, count


def in_shard(name, shard):
    """Whether ``name`` belongs to ``shard`` ((index, count) or None for "no sharding")."""
    return shard is None or shard_of(name, shard[1]) == shard[0]
