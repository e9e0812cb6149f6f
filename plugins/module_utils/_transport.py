# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""HTTP transport: one requests.Session with TLS options, retries and safe redirects.

Why not plain ``requests`` defaults:
- ``session.verify`` loses to REQUESTS_CA_BUNDLE, so ``verify`` goes on every request;
  the session does not trust the environment (that would also let ~/.netrc replace
  our Authorization header), and proxies are read from the environment explicitly.
- Redirects are followed here so Authorization never reaches another origin (blob
  downloads redirect to object storage with its own signed URL).
- A retried request must not resend a half-consumed stream: bodies are wrapped so
  we know whether they can be replayed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import os
import random
import re
import threading
import time
import traceback

try:
    from urllib.parse import urljoin, urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urljoin, urlsplit  # type: ignore

try:
    import requests
    from requests.adapters import HTTPAdapter
    import requests.exceptions as requests_exceptions
    from requests.utils import get_environ_proxies
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # the module reports this through missing_required_lib
    requests = None
    HTTPAdapter = object
    requests_exceptions = None
    get_environ_proxies = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.oci.registry.plugins.module_utils._errors import (
    ProtocolError,
    RegistryError,
    TLSError,
    TransportError,
)
from ansible_collections.oci.registry.plugins.module_utils._options import DEFAULT_RETRIES, DEFAULT_TIMEOUT
from ansible_collections.oci.registry.plugins.module_utils._rate_limit import limiter_for, observe as observe_limits
from ansible_collections.oci.registry.plugins.module_utils._tracing import TraceLog, safe_host, safe_path, span
from ansible_collections.oci.registry.plugins.module_utils._workers import DEFAULT_POOL_SIZE

# The one list of answers worth another try, for every request and every upload step.
RETRY_STATUSES = (429, 502, 503, 504)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 10
READ_CHUNK = 1024 * 1024
DEFAULT_USER_AGENT = "oci.registry-ansible-collection"


def retryable_error(err):
    """The one retry rule for a failed request: a network fault (not TLS) or a status in RETRY_STATUSES."""
    return (isinstance(err, TransportError) and not isinstance(err, TLSError)) or err.status in RETRY_STATUSES


class MissingRequestsError(RegistryError):
    """requests is not installed where the client runs."""

    default_hint = "install the Python library 'requests' on the host that runs the module (pip install requests)"


def require_requests():
    if not HAS_REQUESTS:
        raise MissingRequestsError("the Python library 'requests' is not importable", action="create registry client")


def origin(url):
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port)


class _SizedReader(object):
    """Iterates a file-like object in chunks and has a length.

    requests sends Content-Length for an iterable with ``__len__`` and chunked
    transfer encoding otherwise; the distribution registry rejects the latter on PUT.
    """

    def __init__(self, fileobj, size, counter=None):
        self._fileobj = fileobj
        self._size = size
        self._counter = counter

    def __len__(self):
        return self._size

    def __iter__(self):
        remaining = self._size
        while remaining > 0:
            chunk = self._fileobj.read(min(READ_CHUNK, remaining))
            if not chunk:
                raise TransportError("body source ended %d bytes early" % remaining, action="send request body",
                                     hint="the file changed while it was being uploaded")
            remaining -= len(chunk)
            if self._counter is not None:
                self._counter(len(chunk))
            yield chunk


class _SizedIterable(object):
    def __init__(self, iterable, size):
        self._iterable = iterable
        self._size = size

    def __len__(self):
        return self._size

    def __iter__(self):
        sent = 0
        for chunk in self._iterable:
            if chunk:
                sent += len(chunk)
                yield chunk
        if sent != self._size:
            raise TransportError("body stream produced %d bytes, %d announced" % (sent, self._size),
                                 action="send request body")


class RequestBody(object):
    """A request body that knows whether it can be sent again."""

    def __init__(self, data, size=None):
        self._data = data
        self._start = None
        self._used = False
        self.size = size
        self.kind = "none"
        if data is None:
            self.size = 0
        elif isinstance(data, (bytes, bytearray)):
            self.kind = "bytes"
            self.size = len(data)
        elif isinstance(data, str):
            self._data = data.encode("utf-8")
            self.kind = "bytes"
            self.size = len(self._data)
        elif isinstance(data, dict):
            self.kind = "form"
        elif hasattr(data, "read"):
            self.kind = "file"
            try:
                if getattr(data, "seekable", lambda: True)():
                    self._start = data.tell()
                    if size is None:
                        data.seek(0, os.SEEK_END)
                        self.size = data.tell() - self._start
                        data.seek(self._start)
            except (OSError, IOError, AttributeError, ValueError):
                self._start = None
            if self.size is None:
                raise TransportError("cannot tell the size of a non-seekable body", action="send request body",
                                     hint="pass size= for streams")
        else:
            self.kind = "iterable"
            if self.size is None:
                raise TransportError("an iterable body needs a size", action="send request body")

    @property
    def replayable(self):
        return self.kind in ("none", "bytes", "form") or (self.kind == "file" and self._start is not None)

    def rewind(self):
        """Make the body ready for another send; False when it cannot be replayed."""
        if not self._used or self.kind in ("none", "bytes", "form"):
            return True
        if self.kind == "file" and self._start is not None:
            try:
                self._data.seek(self._start)
                return True
            except (OSError, IOError, ValueError):
                return False
        return False

    def for_requests(self):
        self._used = True
        if self.kind in ("none", "bytes", "form"):
            return self._data
        if self.size == 0:
            return b""
        if self.kind == "file":
            return _SizedReader(self._data, self.size)
        return _SizedIterable(self._data, self.size)


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, parsed.timestamp() - now)


class Transport(object):
    """Sends requests for one client. Thread-safe: the session's connection pool is."""

    def __init__(self, validate_certs=True, ca_path=None, client_cert=None, client_key=None, timeout=DEFAULT_TIMEOUT,
                 retries=DEFAULT_RETRIES, user_agent=None, trace=False, backoff_factor=0.5, max_backoff=30.0,
                 max_retry_after=60.0, pool_size=DEFAULT_POOL_SIZE, sleep=time.sleep, max_requests_per_second=None,
                 max_retry_wait=120.0):
        require_requests()
        if ca_path and not os.path.exists(ca_path):
            # Checked with validate_certs=false too: a wrong path would otherwise surface only when
            # verification is turned back on, far from the change that broke it.
            raise TLSError("ca_path %s does not exist (checked even with validate_certs=false)" % ca_path,
                           action="configure TLS", hint="fix the path, or remove ca_path (and REGISTRY_CA_PATH)")
        if client_key and not client_cert:
            raise TLSError("client_key given without client_cert", action="configure TLS")
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.cert = (client_cert, client_key) if client_cert and client_key else client_cert or None
        self.timeout = timeout
        self.retries = max(0, int(retries or 0))
        self.backoff_factor = backoff_factor
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        # The most one request waits in total for retries (429 storms): then the answer is the error.
        self.max_retry_wait = max_retry_wait
        self.max_requests_per_second = max_requests_per_second
        self.sleep = sleep
        self.trace = TraceLog(enabled=trace)
        self.session = requests.Session()
        # Environment handled by hand (see module docstring): no netrc, no CA override.
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = user_agent or DEFAULT_USER_AGENT
        self._lock = threading.Lock()
        # Proxy settings depend only on the origin, and reading them walks the whole environment:
        # once per origin, not once per request (thousands in a bulk read).
        self._proxies = {}

    def close(self):
        self.session.close()

    # ----------------------------------------------------------------- options

    def verify_option(self, url=None):
        """``verify`` for a request to ``url``: False, a CA path, or True (requests' own bundle).

        A plain-http URL has no certificate to check: it gets True, never a CA path, because requests
        stats the path on every request (thousands in a sync) for a setting the connection ignores.
        A redirect to https is a new hop and gets its own answer.
        """
        if not self.validate_certs:
            return False
        if url is not None and url[:7].lower() == "http://":
            return True
        if self.ca_path:
            return self.ca_path
        return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True

    def proxies_for(self, url):
        key = origin(url)
        proxies = self._proxies.get(key)
        if proxies is None:
            proxies = self._proxies[key] = get_environ_proxies(url) or {}
        return dict(proxies)

    def backoff(self, attempt):
        """Exponential backoff with full jitter: spreads retries of parallel workers."""
        ceiling = min(self.max_backoff, self.backoff_factor * (2 ** attempt))
        return random.uniform(ceiling / 2.0, ceiling)

    def retry_wait(self, headers, attempt):
        """Seconds to wait before another try after an answer with ``headers``, or None for no retry.

        The registry's Retry-After when it sends one, else the backoff. None when it asks for
        more than ``max_retry_after``: waiting that long inside a task is worse than failing with
        the reason, and another try before then only counts against its limit again.
        """
        value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
        delay = parse_retry_after(value)
        if delay is None:
            return self.backoff(attempt)
        return None if delay > self.max_retry_after else delay

    # ----------------------------------------------------------------- request

    def request(self, method, url, headers=None, data=None, params=None, stream=False, allow_redirects=True,
                retry=True, size=None, trace_name=None, timeout=None):
        """Send a request; returns the final requests.Response whatever its status.

        Knows nothing about authentication: auth.AuthenticatedTransport wraps this one.
        Raises TransportError / TLSError only when no response was received.
        """
        body = data if isinstance(data, RequestBody) else RequestBody(data, size)
        return self._send_with_retries(method, url, dict(headers or {}), body, params, stream, allow_redirects,
                                       retry, trace_name, timeout)

    def _send_with_retries(self, method, url, headers, body, params, stream, allow_redirects, retry, trace_name,
                           timeout):
        attempt = 0
        waited = 0.0
        while True:
            try:
                response = self._send_following_redirects(
                    method, url, headers, body, params, stream, allow_redirects, attempt, trace_name, timeout)
            except requests_exceptions.SSLError as exc:
                reason = _tls_reason(exc)
                raise TLSError("TLS failure talking to %s (%s)" % (safe_host(url), reason),
                               registry=safe_host(url), action="%s %s" % (method, safe_path(url)),
                               hint=_tls_hint(reason))
            except (requests_exceptions.ConnectionError, requests_exceptions.Timeout,
                    requests_exceptions.ChunkedEncodingError) as exc:
                if retry and attempt < self.retries and body.rewind():
                    self.sleep(self.backoff(attempt))
                    attempt += 1
                    continue
                raise TransportError("cannot reach %s (%s)" % (safe_host(url), _short_reason(exc)),
                                     registry=safe_host(url), action="%s %s" % (method, safe_path(url)))
            if response.status_code in RETRY_STATUSES and retry and attempt < self.retries:
                delay = self.retry_wait(response.headers, attempt)
                if delay is None:
                    return response
                if waited + delay > self.max_retry_wait:
                    return response
                if body.rewind():
                    response.close()
                    self.sleep(delay)
                    waited += delay
                    attempt += 1
                    continue
            return response

    def _send_following_redirects(self, method, url, headers, body, params, stream, allow_redirects, attempt,
                                  trace_name, timeout):
        current_url = url
        current_method = method
        headers = dict(headers)
        send_body = body
        for hop in range(MAX_REDIRECTS + 1):
            response = self._send_once(current_method, current_url, headers, send_body,
                                       params if hop == 0 else None, stream, attempt, trace_name, timeout)
            if not allow_redirects or response.status_code not in REDIRECT_STATUSES:
                return response
            location = response.headers.get("Location")
            if not location:
                return response
            next_url = urljoin(response.url or current_url, location)
            if origin(next_url) != origin(current_url):
                # Credentials are for the registry, never for the storage behind a redirect.
                headers.pop("Authorization", None)
            method_changes = response.status_code == 303 or (
                response.status_code in (301, 302) and current_method not in ("GET", "HEAD"))
            if method_changes:
                current_method = "GET" if current_method != "HEAD" else "HEAD"
                send_body = RequestBody(None)
                for name in ("Content-Type", "Content-Length", "Content-Range"):
                    headers.pop(name, None)
            elif send_body.kind not in ("none",) and not send_body.rewind():
                raise ProtocolError("the server redirected a streamed upload (%d); it cannot be resent"
                                    % response.status_code, action="%s %s" % (method, safe_path(url)))
            response.close()
            current_url = next_url
        raise ProtocolError("more than %d redirects" % MAX_REDIRECTS, action="%s %s" % (method, safe_path(url)))

    def _send_once(self, method, url, headers, body, params, stream, attempt, trace_name, timeout):
        started = time.monotonic()
        payload = body.for_requests()
        status = None
        error = None
        host, path = safe_host(url), safe_path(url)
        attributes = {"http.request.method": method, "server.address": host, "url.path": path,
                      "oci.registry.attempt": attempt}
        limiter = limiter_for(host, self.max_requests_per_second)
        if limiter is not None:
            limiter.acquire()
        with span("HTTP %s" % method, attributes) as set_attr:
            try:
                response = self.session.request(
                    method, url, headers=headers, data=payload, params=params, stream=stream,
                    allow_redirects=False, verify=self.verify_option(url), cert=self.cert,
                    timeout=timeout or self.timeout, proxies=self.proxies_for(url))
                status = response.status_code
                set_attr("http.response.status_code", status)
                observe_limits(host, response.headers)
                return response
            except Exception as exc:
                error = type(exc).__name__
                set_attr("error.type", error)
                raise
            finally:
                received = None
                if status is not None:
                    if not stream:
                        received = len(response.content or b"")
                    else:
                        length = response.headers.get("Content-Length")
                        received = int(length) if length and length.isdigit() else None
                self.trace.add(method, url, status, (time.monotonic() - started) * 1000.0,
                               bytes_sent=body.size if body.kind != "form" else None, bytes_received=received,
                               attempt=attempt, name=trace_name, error=error, host=host, path=path)


_ERRNO_RE = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")


_SSL_REASON_RE = re.compile(r"(\[SSL: [A-Z0-9_]+\][^'\"()]*|certificate verify failed: [^'\"()]*)")


def _tls_reason(exc):
    """The OpenSSL reason alone, without the nested exception reprs requests wraps around it."""
    found = _SSL_REASON_RE.search(str(exc))
    return found.group(1).strip() if found else _short_reason(exc)


def _tls_hint(reason):
    # An https:// URL pointed at a plain-HTTP registry fails the handshake with this reason; the
    # generic CA advice would send the user the wrong way.
    if "WRONG_VERSION_NUMBER" in reason or "record layer failure" in reason:
        return "the server answered in plain HTTP: use an http:// registry_url (or an http:// prefix on the reference)"
    return None


def _short_reason(exc):
    """The useful part of a requests exception: no pool reprs, no URLs that might carry credentials."""
    text = str(exc)
    errno = _ERRNO_RE.search(text)
    if errno:
        return "%s: %s" % (type(exc).__name__, errno.group(0).strip())
    for marker in ("read timeout=", "connect timeout="):
        if marker in text:
            return "%s: timed out (%s%s)" % (type(exc).__name__, marker,
                                             text.split(marker, 1)[1].split(")", 1)[0])
    text = text.splitlines()[0] if text else type(exc).__name__
    if "Caused by " in text:
        text = text.split("Caused by ", 1)[1].rstrip(")")
    text = re.sub(r"https?://\S+", "<url>", text)
    if len(text) > 200:
        text = text[:197] + "..."
    return "%s: %s" % (type(exc).__name__, text)
