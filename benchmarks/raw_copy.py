"""Raw ceiling: parallel GET -> PUT streaming of an image's blobs with plain requests, no checks at all.

No HEAD, no digest or size verification, no retries, no auth: the least work a client can do over the
same HTTP API, so the engine's overhead over it is what its safety costs.
Usage: raw_copy.py SRC_URL SRC_REPO REFERENCE DEST_URL DEST_REPO TAG [CONCURRENCY]
"""

from __future__ import annotations

import json
import resource
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import requests

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
])
READ_SIZE = 1024 * 1024


class SizedBody:
    def __init__(self, chunks, size):
        self.chunks = chunks
        self.size = size

    def __len__(self):
        return self.size

    def __iter__(self):
        return iter(self.chunks)


def main(argv):
    src_url, src_repo, reference, dest_url, dest_repo, tag = argv[:6]
    concurrency = int(argv[6]) if len(argv) > 6 else 4
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=concurrency * 2)
    session.mount("http://", adapter)
    manifest = session.get("%s/v2/%s/manifests/%s" % (src_url, src_repo, reference), headers={"Accept": ACCEPT})
    media_type = manifest.headers["Content-Type"]
    data = manifest.json()
    blobs = [data["config"]] + data["layers"]

    def copy(blob):
        with session.get("%s/v2/%s/blobs/%s" % (src_url, src_repo, blob["digest"]), stream=True) as response:
            started = session.post("%s/v2/%s/blobs/uploads/" % (dest_url, dest_repo))
            location = urljoin(dest_url + "/", started.headers["Location"])
            separator = "&" if "?" in location else "?"
            body = SizedBody(response.iter_content(READ_SIZE), blob["size"])
            session.put(location + separator + "digest=" + blob["digest"], data=body,
                        headers={"Content-Type": "application/octet-stream"}).raise_for_status()

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(copy, sorted(blobs, key=lambda b: -b["size"])))
    session.put("%s/v2/%s/manifests/%s" % (dest_url, dest_repo, tag), data=manifest.content,
                headers={"Content-Type": media_type}).raise_for_status()
    print(json.dumps({"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main(sys.argv[1:])
