# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fault-injecting HTTP reverse proxy in front of a real (plain HTTP) registry.

Programmable per test: rules match a request by method and a regular expression on
the path (query included) and inject one fault, the first ``times`` matches only
(``times=None``: every match); other requests pass through untouched.

Faults (``action``):

``respond``         answer ``status`` (with ``headers`` and ``body``) without asking the
                    registry: 429 + Retry-After, 500, 502, 503, or a hostile answer.
``drop``            read the request, then reset the connection without any answer.
``reset_request``   forward the first ``after_bytes`` bytes of the request body to the
                    registry, then reset both connections (a broken upload).
``reset_response``  forward the request, relay the answer's headers and ``after_bytes``
                    bytes of its body, then reset the connection.
``truncate``        like reset_response, but closes cleanly (FIN) after ``after_bytes``:
                    the client sees fewer bytes than Content-Length announced.
``stall``           forward the request, wait ``seconds`` (bounded by MAX_STALL) before
                    relaying the answer.
``corrupt``         relay the answer with the byte at ``offset`` (default: the middle)
                    of the body flipped.
``throttle``        relay the answer's body at about ``rate`` bytes per second (so a
                    test can kill a client in the middle of a transfer).

Usage::

    with FaultProxy("127.0.0.1", 5000) as proxy:
        proxy.add("respond", method="PUT", path=r"/blobs/uploads/", status=503, times=2)
        client = RegistryClient(proxy.url, ...)

``proxy.strip_headers`` (a set of lowercase header names) removes those response headers
from every answer, e.g. ``{"link"}`` for a registry that does not link its pages.
``proxy.extra_headers`` (a dict) adds headers to every relayed answer, e.g. Docker Hub's
``ratelimit-remaining``. ``proxy.injected`` counts faults injected; ``proxy.requests`` lists (method, path, action).
Stdlib only.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MAX_STALL = 5.0
IO_CHUNK = 65536
HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade"))
ACTIONS = ("respond", "drop", "reset_request", "reset_response", "truncate", "stall", "corrupt", "throttle")


class Rule(object):
    """One fault: which requests it matches and what it does to them."""

    def __init__(self, action, method=None, path=None, times=1, status=503, headers=None, body=None, after_bytes=0,
                 seconds=1.0, offset=None, rate=65536):
        if action not in ACTIONS:
            raise ValueError("unknown fault action %r (one of %s)" % (action, ", ".join(ACTIONS)))
        self.action = action
        self.method = method.upper() if method else None
        self.path = re.compile(path) if path else None
        self.times = times
        self.status = status
        self.headers = dict(headers or {})
        self.body = body
        self.after_bytes = after_bytes
        self.seconds = min(float(seconds), MAX_STALL)
        self.offset = offset
        self.rate = max(1, int(rate))
        self.hits = 0
        self.matches = 0

    def __repr__(self):
        pattern = self.path.pattern if self.path else "*"
        return "Rule(%s %s %s, times=%s, hits=%d)" % (self.action, self.method or "*", pattern, self.times, self.hits)

    @property
    def exhausted(self):
        return self.times is not None and self.hits >= self.times

    def matches_request(self, method, path):
        if self.method and self.method != method:
            return False
        return self.path is None or bool(self.path.search(path))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"

    # Quiet: the test output is for the tests.
    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def do_GET(self):
        self._proxy()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # ------------------------------------------------------------------ helpers

    @property
    def fault_proxy(self):
        return self.server.fault_proxy

    def _reset(self):
        """Abort the connection with a TCP RST (SO_LINGER 0)."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def _read_request_body(self):
        """The whole request body (small bodies: tests use small blobs), chunked or not."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        parts = []
        while length > 0:
            data = self.rfile.read(min(IO_CHUNK, length))
            if not data:
                break
            parts.append(data)
            length -= len(data)
        return b"".join(parts)

    def _send_head(self, status, headers, reason=None):
        self.send_response_only(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    # ------------------------------------------------------------------ the proxy

    def _proxy(self):
        proxy = self.fault_proxy
        method, path = self.command, self.path
        rule = proxy.take(method, path)
        proxy.record(method, path, rule)
        action = rule.action if rule else None
        try:
            body = self._read_request_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        if action == "respond":
            payload = rule.body
            if payload is None:
                payload = json.dumps({"errors": [{"code": "UNAVAILABLE" if rule.status >= 500 else "TOOMANYREQUESTS",
                                                  "message": "injected fault %d" % rule.status}]})
            if isinstance(payload, str):
                payload = payload.encode("utf-8")
            headers = {"Content-Type": "application/json"}
            headers.update(rule.headers)
            headers.setdefault("Content-Length", str(len(payload)))
            self._send_head(rule.status, list(headers.items()))
            if method != "HEAD":
                self.wfile.write(payload)
            return
        if action == "drop":
            self._reset()
            return
        upstream = http.client.HTTPConnection(proxy.target_host, proxy.target_port, timeout=60)
        try:
            self._forward(upstream, method, path, body, rule, action)
        except (OSError, http.client.HTTPException):
            self.close_connection = True
        finally:
            upstream.close()

    def _forward(self, upstream, method, path, body, rule, action):
        proxy = self.fault_proxy
        upstream.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() in HOP_BY_HOP or name.lower() == "content-length":
                continue
            upstream.putheader(name, value)
        if body or method in ("POST", "PUT", "PATCH"):
            upstream.putheader("Content-Length", str(len(body)))
        upstream.endheaders()
        if action == "reset_request":
            upstream.send(body[:rule.after_bytes])
            # Let the registry read what it got before both sides go away.
            time.sleep(0.05)
            try:
                upstream.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except (OSError, AttributeError):
                pass
            upstream.close()
            self._reset()
            return
        if body:
            upstream.send(body)
        response = upstream.getresponse()
        if action == "stall":
            proxy.wait(rule.seconds)
        payload = None
        length = response.getheader("Content-Length")
        if method == "HEAD" or response.status in (204, 304):
            payload = b""
        elif length is None or action == "corrupt":
            payload = response.read()
        headers = []
        for name, value in response.getheaders():
            lower = name.lower()
            if lower in HOP_BY_HOP or lower in proxy.strip_headers:
                continue
            if lower == "content-length" and payload is not None and method != "HEAD":
                continue
            if lower == "location":
                value = proxy.rewrite_location(value)
            headers.append((name, value))
        headers.extend(proxy.extra_headers.items())
        if payload is not None and method != "HEAD":
            if action == "corrupt" and payload:
                index = rule.offset if rule.offset is not None else len(payload) // 2
                index = min(max(0, index), len(payload) - 1)
                payload = payload[:index] + bytes([payload[index] ^ 0xFF]) + payload[index + 1:]
            headers.append(("Content-Length", str(len(payload))))
        self._send_head(response.status, headers, response.reason)
        if method == "HEAD" or response.status in (204, 304):
            return
        limit = rule.after_bytes if action in ("reset_response", "truncate") else None
        sent = 0
        source = _BytesSource(payload) if payload is not None else response
        while True:
            size = IO_CHUNK
            if action == "throttle":
                size = max(1, min(IO_CHUNK, rule.rate // 10))
            if limit is not None:
                size = min(size, limit - sent)
                if size <= 0:
                    break
            data = source.read(size)
            if not data:
                break
            self.wfile.write(data)
            sent += len(data)
            if action == "throttle":
                proxy.wait(len(data) / float(rule.rate))
                if proxy.closed:
                    break
        if limit is not None:
            if action == "truncate":
                self.wfile.flush()
                try:
                    self.connection.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                self.close_connection = True
            else:
                self._reset()


class _BytesSource(object):
    def __init__(self, data):
        self._data = data
        self._pos = 0

    def read(self, size):
        chunk = self._data[self._pos:self._pos + size]
        self._pos += len(chunk)
        return chunk


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        # Resets and vanished clients are the point of this server.
        pass


class FaultProxy(object):
    """Reverse proxy on 127.0.0.1 (random port) to ``target`` (``host:port`` or ``http://host:port``)."""

    def __init__(self, target, target_port=None):
        if target_port is None:
            parts = urlsplit(target if "://" in target else "http://" + target)
            if parts.scheme != "http":
                raise ValueError("the fault proxy fronts plain HTTP registries only")
            target, target_port = parts.hostname, parts.port or 80
        self.target_host = target
        self.target_port = int(target_port)
        self.rules = []
        self.requests = []
        # Response headers (lowercase names) never relayed, e.g. {"link"}: a registry without pagination links.
        self.strip_headers = set()
        # Headers added to every relayed answer, e.g. Docker Hub's {"ratelimit-remaining": "1;w=21600"}.
        self.extra_headers = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fault_proxy = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="faultproxy-%d" % self.port, daemon=True)
        self._thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    @property
    def closed(self):
        return self._closing.is_set()

    @property
    def injected(self):
        with self._lock:
            return sum(rule.hits for rule in self.rules)

    def add(self, action, method=None, path=None, times=1, **options):
        """Add a rule (first match wins, in the order added); returns it (``rule.hits`` counts injections)."""
        rule = Rule(action, method=method, path=path, times=times, **options)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self):
        """Drop the rules (their injections still count in ``injected_total``)."""
        with self._lock:
            self._retired = getattr(self, "_retired", 0) + sum(rule.hits for rule in self.rules)
            self.rules = []

    @property
    def injected_total(self):
        return self.injected + getattr(self, "_retired", 0)

    def take(self, method, path):
        with self._lock:
            for rule in self.rules:
                if rule.exhausted or not rule.matches_request(method, path):
                    continue
                rule.matches += 1
                rule.hits += 1
                return rule
        return None

    def record(self, method, path, rule):
        with self._lock:
            self.requests.append((method, path, rule.action if rule else None))

    def count(self, method=None, path=None):
        """How many requests (faulted or not) reached the proxy for method/path regex."""
        pattern = re.compile(path) if path else None
        with self._lock:
            return sum(1 for m, p, _a in self.requests
                       if (method is None or m == method) and (pattern is None or pattern.search(p)))

    def wait(self, seconds):
        self._closing.wait(min(seconds, MAX_STALL))

    def rewrite_location(self, value):
        for host in ("%s:%d" % (self.target_host, self.target_port), "localhost:%d" % self.target_port):
            prefix = "http://" + host
            if value.startswith(prefix):
                return self.url + value[len(prefix):]
        return value

    def close(self):
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
