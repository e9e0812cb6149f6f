# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Rate limits: the request-rate cap we keep, and the pull limits registries announce.

- ``max_requests_per_second`` (a connection option) spaces the requests to one registry host.
  The limiter is per host and per process, so every thread and every client of one task (both
  sides of a copy, every entry of a batch) shares it.
- Docker Hub announces its pull limit on manifest requests (``ratelimit-limit: 100;w=21600``,
  ``ratelimit-remaining: 76;w=21600``). The transport records the last answer per host here;
  the copy engine asks :func:`check_pulls` before it pulls, so a copy that cannot finish within
  the remaining pulls stops before it writes anything.

Importable without Ansible and without requests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.oci.registry.plugins.module_utils._errors import RateLimitError

_LOCK = threading.Lock()
_LIMITERS = {}
_OBSERVED = {}


class RequestRateLimiter(object):
    """At most ``per_second`` requests per second, evenly spaced, for all threads that share it."""

    def __init__(self, per_second, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1.0 / float(per_second)
        self._clock = clock
        self._sleep = sleep
        self._next = None
        self._lock = threading.Lock()

    def acquire(self):
        """Wait for this request's slot; slots are handed out in call order."""
        with self._lock:
            now = self._clock()
            slot = now if self._next is None else max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


def limiter_for(host, per_second):
    """The process-wide limiter of ``host`` at ``per_second``; None when no cap is set."""
    if not per_second:
        return None
    key = (host, float(per_second))
    with _LOCK:
        if key not in _LIMITERS:
            _LIMITERS[key] = RequestRateLimiter(per_second)
        return _LIMITERS[key]


def _quota(value):
    """``76;w=21600`` -> (76, 21600); a bare number -> (76, None); anything else -> (None, None)."""
    if value is None:
        return None, None
    parts = [part.strip() for part in str(value).split(";")]
    try:
        number = int(parts[0])
    except ValueError:
        return None, None
    window = None
    for part in parts[1:]:
        if part.startswith("w="):
            try:
                window = int(part[2:])
            except ValueError:
                pass
    return number, window


def parse_pull_limit(headers, now=None):
    """``{limit, remaining, window, reset_at, source}`` from ratelimit headers, or None without them."""
    limit, window = _quota(headers.get("ratelimit-limit"))
    remaining, remaining_window = _quota(headers.get("ratelimit-remaining"))
    if limit is None and remaining is None:
        return None
    reset, dummy = _quota(headers.get("ratelimit-reset"))
    now = time.time() if now is None else now
    return {
        "limit": limit,
        "remaining": remaining,
        "window": window or remaining_window,
        # IETF draft: seconds until the quota resets. Docker Hub sends none (a rolling window).
        "reset_at": now + reset if reset is not None else None,
        "source": headers.get("docker-ratelimit-source"),
    }


def observe(host, headers):
    """Remember the pull limit ``host`` announced in a response (no-op without ratelimit headers)."""
    if "ratelimit-remaining" not in headers and "ratelimit-limit" not in headers:
        return
    state = parse_pull_limit(headers)
    if state is not None:
        with _LOCK:
            _OBSERVED[host] = state


def observed(host):
    """The last pull limit ``host`` announced in this process, or None."""
    with _LOCK:
        state = _OBSERVED.get(host)
        return dict(state) if state is not None else None


def forget(host=None):
    """Drop what was observed (tests; a new task starts a new process anyway)."""
    with _LOCK:
        if host is None:
            _OBSERVED.clear()
        else:
            _OBSERVED.pop(host, None)


def _reset_text(state, now=None):
    now = time.time() if now is None else now
    if state.get("reset_at") is not None:
        return "it resets in %d s" % max(0, round(state["reset_at"] - now))
    if state.get("window"):
        return "it counts pulls over a rolling window of %d s (%s h), so pulls free up within that time" % (
            state["window"], ("%.1f" % (state["window"] / 3600.0)).rstrip("0").rstrip("."))
    return "the registry did not say when it resets"


def check_pulls(host, needed, action="copy"):
    """Raise RateLimitError when ``host`` said it has fewer pulls left than ``needed``; else nothing."""
    state = observed(host)
    if state is None or state.get("remaining") is None or needed <= state["remaining"]:
        return
    limit = " of %d" % state["limit"] if state.get("limit") is not None else ""
    raise RateLimitError(
        "%s has %d%s pulls left and this run needs at least %d; stopped before writing anything; %s"
        % (host, state["remaining"], limit, needed, _reset_text(state)),
        registry=host, action=action,
        hint="run again later, authenticate (Docker Hub grants more pulls), or copy fewer tags per run")
