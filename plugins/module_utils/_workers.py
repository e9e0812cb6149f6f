# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""WorkerPool: the client's threads for concurrent requests, sized like its connection pool.

One pool per client bounds the requests in flight to what the connection pool holds (more only
open and drop connections). ``map`` may be called from inside one of its own workers (a service
reading repositories concurrently, each reading its manifests concurrently): the calling thread
always works through the items itself as well, and helpers that no worker picked up are
withdrawn, so a nested map finishes even when every worker is busy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
from concurrent.futures import ThreadPoolExecutor

DEFAULT_POOL_SIZE = 16


class WorkerPool(object):
    def __init__(self, size=DEFAULT_POOL_SIZE):
        self.size = max(1, int(size or 1))
        self._executor = None
        self._lock = threading.Lock()

    def _pool(self):
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="oci-worker")
            return self._executor

    def map(self, function, items, concurrency=None):
        """``[function(item) for item in items]``, at most ``concurrency`` (and the pool size) at once.

        Every item is run; when some raise, the exception of the first failing item (in the
        order of ``items``) is raised after all have run, as ``ThreadPoolExecutor.map`` does.
        """
        items = list(items)
        width = min(len(items), self.size, max(1, int(concurrency or self.size)))
        if width <= 1:
            return [function(item) for item in items]
        results = [None] * len(items)
        errors = {}
        pending = iter(enumerate(items))
        pending_lock = threading.Lock()

        def work():
            while True:
                with pending_lock:
                    index, item = next(pending, (None, None))
                if index is None:
                    return
                try:
                    results[index] = function(item)
                except Exception as exc:  # raised below, in the caller's thread
                    errors[index] = exc

        helpers = [self._pool().submit(work) for _helper in range(width - 1)]
        work()
        for helper in helpers:
            # Not started yet: no item is left for it, and waiting could block on our own busy pool.
            if not helper.cancel():
                helper.result()
        if errors:
            raise errors[min(errors)]
        return results

    def close(self):
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


__all__ = ["DEFAULT_POOL_SIZE", "WorkerPool"]
