# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Per-request trace records and optional OpenTelemetry spans.

A trace record holds only method, host, path, status, duration and byte
counts: never a header value, a query string or a body, so records can be
returned from a module at high verbosity without leaking anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import threading

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

try:
    from opentelemetry import trace as _otel_trace
    HAS_OPENTELEMETRY = True
except ImportError:
    _otel_trace = None
    HAS_OPENTELEMETRY = False

TRACER_NAME = "oci.registry"


def _tracer():
    if _otel_trace is None:
        return None
    return _otel_trace.get_tracer(TRACER_NAME)


@contextlib.contextmanager
def span(name, attributes=None):
    """An OpenTelemetry span when the API is importable, else nothing.

    Yields a callable ``set(key, value)`` that works either way.
    """
    tracer = _tracer()
    if tracer is None:
        yield lambda key, value: None
        return
    with tracer.start_as_current_span(name) as current:
        for key, value in (attributes or {}).items():
            if value is not None:
                current.set_attribute(key, value)

        def setter(key, value):
            if value is not None:
                current.set_attribute(key, value)

        yield setter


def safe_path(url):
    """Path of ``url`` without query or credentials: enough to see what was called."""
    return urlsplit(url).path or "/"


def safe_host(url):
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = "%s:%d" % (host, parts.port)
    return host


class TraceLog(object):
    """Thread-safe list of trace records plus a request counter."""

    def __init__(self, enabled=False, limit=10000):
        self.enabled = enabled
        self.limit = limit
        self.records = []
        self.count = 0
        self._lock = threading.Lock()

    def add(self, method, url, status, duration_ms, bytes_sent=None, bytes_received=None, attempt=0, name=None,
            error=None, host=None, path=None):
        """Count the request and, when enabled, record it (``host``/``path``: ``url``'s, when the caller has them)."""
        with self._lock:
            self.count += 1
            if not self.enabled or len(self.records) >= self.limit:
                return
            record = {
                "method": method,
                "host": safe_host(url) if host is None else host,
                "path": safe_path(url) if path is None else path,
                "status": status,
                "duration_ms": round(duration_ms, 1),
                "bytes_sent": bytes_sent,
                "bytes_received": bytes_received,
                "attempt": attempt,
            }
            if name:
                record["name"] = name
            if error:
                record["error"] = error
            self.records.append(record)

    def clear(self):
        with self._lock:
            self.records = []
