# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The request-rate limiter and the pull-limit headers (pure logic: a fake clock, no network)."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.oci.registry.plugins.module_utils import _rate_limit
from ansible_collections.oci.registry.plugins.module_utils._errors import RateLimitError


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []
        self.lock = threading.Lock()

    def clock(self):
        return self.now

    def sleep(self, seconds):
        with self.lock:
            self.slept.append(round(seconds, 6))


def test_limiter_spaces_requests_of_all_threads():
    fake = FakeClock()
    limiter = _rate_limit.RequestRateLimiter(4, clock=fake.clock, sleep=fake.sleep)
    threads = [threading.Thread(target=limiter.acquire) for dummy in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The first goes at once, the others a quarter second apart, whichever thread they came from.
    assert sorted(fake.slept) == [0.25, 0.5, 0.75, 1.0]


def test_limiter_does_not_wait_when_requests_are_slower_than_the_cap():
    fake = FakeClock()
    limiter = _rate_limit.RequestRateLimiter(2, clock=fake.clock, sleep=fake.sleep)
    limiter.acquire()
    fake.now += 1.0
    limiter.acquire()
    assert fake.slept == []


def test_one_limiter_per_host_and_none_without_cap():
    assert _rate_limit.limiter_for("a:5000", None) is None
    assert _rate_limit.limiter_for("a:5000", 10) is _rate_limit.limiter_for("a:5000", 10)
    assert _rate_limit.limiter_for("a:5000", 10) is not _rate_limit.limiter_for("b:5000", 10)


def test_docker_hub_headers_are_parsed():
    state = _rate_limit.parse_pull_limit({"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600",
                                          "docker-ratelimit-source": "1.2.3.4"}, now=0)
    assert state == {"limit": 100, "remaining": 76, "window": 21600, "reset_at": None, "source": "1.2.3.4"}
    assert _rate_limit.parse_pull_limit({"content-type": "x"}) is None
    assert _rate_limit.parse_pull_limit({"ratelimit-remaining": "3", "ratelimit-reset": "30"}, now=10)["reset_at"] == 40


def test_check_pulls_names_what_is_left_and_when_it_resets():
    _rate_limit.forget()
    _rate_limit.check_pulls("hub.test", 10)  # nothing observed: no opinion
    _rate_limit.observe("hub.test", {"ratelimit-remaining": "4", "ratelimit-reset": "120"})
    _rate_limit.check_pulls("hub.test", 4)
    with pytest.raises(RateLimitError) as failure:
        _rate_limit.check_pulls("hub.test", 5)
    assert "4 pulls left and this run needs at least 5" in str(failure.value)
    assert "resets in 12" in str(failure.value)
    _rate_limit.forget()
