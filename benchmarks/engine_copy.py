"""Run the copy engine once from plain Python and print its result, request counts and peak RSS as JSON.

Usage: engine_copy.py SRC DEST [--tag-pattern REGEX] [--concurrency N]
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import sys
import time

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._copy import CopyEngine
from ansible_collections.oci.registry.plugins.module_utils._reference import parse_reference


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("dest")
    parser.add_argument("--tag-pattern")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    started = time.monotonic()
    src_ref, dest_ref = parse_reference(args.src), parse_reference(args.dest)
    src = RegistryClient(src_ref.registry_url, trace=True)
    dest = src if dest_ref.registry_url == src_ref.registry_url else RegistryClient(dest_ref.registry_url, trace=True)
    result = CopyEngine(src, dest, concurrency=args.concurrency).copy(src_ref, dest_ref, tag_pattern=args.tag_pattern)
    records = list(src.trace_records) + ([] if dest is src else list(dest.trace_records))
    methods = collections.Counter(record["method"] for record in records)
    blob_bytes_sent = sum(record.get("bytes_sent") or 0 for record in records
                          if record["method"] in ("PUT", "PATCH") and "/blobs/" in record["path"])
    print(json.dumps({
        "result": result,
        "requests": dict(methods),
        "blob_bytes_sent": blob_bytes_sent,
        "seconds": time.monotonic() - started,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
