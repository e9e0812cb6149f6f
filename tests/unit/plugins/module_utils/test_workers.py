"""WorkerPool: ordered results, bounded concurrency, errors like ThreadPoolExecutor.map, and nested maps
that finish even when every worker of the pool is busy."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._workers import DEFAULT_POOL_SIZE, WorkerPool


class Gauge(object):
    """Counts calls running at once; each call waits at a barrier so overlaps really happen."""

    def __init__(self, parties=None):
        self.active = 0
        self.most = 0
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(parties) if parties else None

    def __call__(self, item):
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            if self.barrier is not None:
                self.barrier.wait(timeout=30)
            return item * 2
        finally:
            with self.lock:
                self.active -= 1


def _finishes(target):
    """Run ``target`` in a thread; True when it returned (a deadlock leaves it running)."""
    done = threading.Event()

    def run():
        target()
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return done.wait(60)


def test_results_in_order_and_concurrency_reached_but_not_exceeded():
    pool = WorkerPool(8)
    gauge = Gauge(parties=3)
    try:
        assert pool.map(gauge, range(9), concurrency=3) == [item * 2 for item in range(9)]
    finally:
        pool.close()
    assert gauge.most == 3  # the barrier of 3 let every group through, so 3 ran together


def test_pool_size_caps_concurrency():
    pool = WorkerPool(2)
    gauge = Gauge()
    try:
        pool.map(gauge, range(20), concurrency=10)
    finally:
        pool.close()
    assert gauge.most <= 2


def test_first_failing_item_is_raised_after_every_item_ran():
    pool = WorkerPool(4)
    ran = []
    lock = threading.Lock()

    def work(item):
        with lock:
            ran.append(item)
        if item in (3, 5):
            raise ValueError("item %d" % item)
        return item

    try:
        with pytest.raises(ValueError, match="item 3"):
            pool.map(work, range(8), concurrency=4)
    finally:
        pool.close()
    assert sorted(ran) == list(range(8))


def test_nested_maps_finish_when_every_worker_is_busy():
    # Two workers, each running an outer item whose inner map wants more workers than exist.
    pool = WorkerPool(2)
    outcome = {}

    def outer(item):
        return sum(pool.map(lambda inner: inner + item, range(4), concurrency=4))

    def run():
        outcome["value"] = pool.map(outer, range(6), concurrency=6)

    try:
        assert _finishes(run)
    finally:
        pool.close()
    assert outcome["value"] == [sum(range(4)) + 4 * item for item in range(6)]


def test_client_has_one_pool_sized_like_its_connection_pool():
    with RegistryClient("http://127.0.0.1:9", auth_type="none") as client:
        assert client.workers.size == DEFAULT_POOL_SIZE == client.transport.session.get_adapter("http://x")._pool_maxsize
        assert client.endpoint.workers is client.workers
    with RegistryClient("http://127.0.0.1:9", auth_type="none", pool_size=4) as client:
        assert client.workers.size == 4
