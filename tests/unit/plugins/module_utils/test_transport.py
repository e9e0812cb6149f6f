"""transport.py: retries, Retry-After, replayable bodies, redirects, TLS options, tracing."""

import io

import pytest
import requests
import responses

from ansible_collections.oci.registry.plugins.module_utils import _transport
from ansible_collections.oci.registry.plugins.module_utils._errors import TLSError, TransportError
from ansible_collections.oci.registry.plugins.module_utils._transport import (
    RequestBody,
    Transport,
    parse_retry_after,
)

URL = "https://reg.example/v2/a/blobs/uploads/x"


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def transport(sleeps):
    return Transport(retries=3, sleep=sleeps.append, trace=True)


@responses.activate
def test_429_honours_retry_after(transport, sleeps):
    responses.add(responses.GET, URL, status=429, headers={"Retry-After": "7"})
    responses.add(responses.GET, URL, status=200)
    assert transport.request("GET", URL).status_code == 200
    assert sleeps == [7.0]


@responses.activate
def test_retry_after_too_long_returns_the_429(transport, sleeps):
    responses.add(responses.GET, URL, status=429, headers={"Retry-After": "3600"})
    assert transport.request("GET", URL).status_code == 429
    assert sleeps == []


@responses.activate
def test_5xx_retried_with_growing_backoff_then_given_up(transport, sleeps):
    for status in (502, 503, 504, 503):
        responses.add(responses.GET, URL, status=status)
    assert transport.request("GET", URL).status_code == 503
    assert len(responses.calls) == 4  # first try + retries=3
    assert len(sleeps) == 3
    assert sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0 and 1.0 <= sleeps[2] <= 2.0


@responses.activate
def test_no_retry_for_client_errors(transport, sleeps):
    responses.add(responses.GET, URL, status=404)
    responses.add(responses.GET, URL, status=200)
    assert transport.request("GET", URL).status_code == 404
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_connection_errors_retried_then_transport_error(transport, sleeps):
    for _attempt in range(4):
        responses.add(responses.GET, URL, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(TransportError) as info:
        transport.request("GET", URL)
    assert len(responses.calls) == 4
    assert "cannot reach reg.example" in str(info.value)


@responses.activate
def test_tls_error_not_retried(transport, sleeps):
    responses.add(responses.GET, URL, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(TLSError) as info:
        transport.request("GET", URL)
    assert len(responses.calls) == 1 and "ca_path" in str(info.value)


@responses.activate
def test_seekable_file_body_is_rewound_for_retry(transport):
    bodies = []

    def callback(request):
        bodies.append(b"".join(request.body) if not isinstance(request.body, bytes) else request.body)
        return (503, {}, b"") if len(bodies) == 1 else (201, {}, b"")

    responses.add_callback(responses.PUT, URL, callback=callback)
    fileobj = io.BytesIO(b"prefix-" + b"payload")
    fileobj.seek(7)
    assert transport.request("PUT", URL, data=fileobj).status_code == 201
    assert bodies == [b"payload", b"payload"]
    assert responses.calls[0].request.headers["Content-Length"] == "7"
    assert "Transfer-Encoding" not in responses.calls[0].request.headers


@responses.activate
def test_consumed_stream_is_never_resent(transport, sleeps):
    responses.add(responses.PUT, URL, status=503)
    responses.add(responses.PUT, URL, status=201)
    response = transport.request("PUT", URL, data=iter([b"abc", b"def"]), size=6)
    assert response.status_code == 503
    assert len(responses.calls) == 1 and sleeps == []
    assert responses.calls[0].request.headers["Content-Length"] == "6"


def test_request_body_replayability():
    assert RequestBody(b"x").replayable
    assert RequestBody(io.BytesIO(b"abc")).size == 3

    class Pipe(object):
        def read(self, n=-1):
            return b""

        def seekable(self):
            return False

    with pytest.raises(TransportError, match="size"):
        RequestBody(Pipe())
    body = RequestBody(Pipe(), size=3)
    assert not body.replayable
    body.for_requests()
    assert not body.rewind()


@responses.activate
def test_redirect_to_other_host_drops_authorization(transport):
    responses.add(responses.GET, "https://reg.example/v2/a/blobs/sha256:1", status=307,
                  headers={"Location": "https://storage.example/bucket/blob?sig=1"})
    responses.add(responses.GET, "https://storage.example/bucket/blob", status=302,
                  headers={"Location": "https://reg.example/back"})
    responses.add(responses.GET, "https://reg.example/back", body=b"data")
    response = transport.request("GET", "https://reg.example/v2/a/blobs/sha256:1",
                                 headers={"Authorization": "Bearer secret-token"})
    assert response.content == b"data"
    assert responses.calls[0].request.headers["Authorization"] == "Bearer secret-token"
    assert "Authorization" not in responses.calls[1].request.headers
    # Once dropped it stays dropped, even back on the registry host.
    assert "Authorization" not in responses.calls[2].request.headers


@responses.activate
def test_relative_redirect_on_same_host_keeps_authorization(transport):
    responses.add(responses.GET, "https://reg.example/v2/a/blobs/sha256:1", status=302,
                  headers={"Location": "/mirror/blob"})
    responses.add(responses.GET, "https://reg.example/mirror/blob", body=b"x")
    transport.request("GET", "https://reg.example/v2/a/blobs/sha256:1",
                      headers={"Authorization": "Bearer t"})
    assert responses.calls[1].request.headers["Authorization"] == "Bearer t"


@responses.activate
def test_redirect_to_http_on_same_host_drops_authorization(transport):
    responses.add(responses.GET, "https://reg.example/v2/", status=301, headers={"Location": "http://reg.example/v2/"})
    responses.add(responses.GET, "http://reg.example/v2/", body=b"{}")
    transport.request("GET", "https://reg.example/v2/", headers={"Authorization": "Basic x"})
    assert "Authorization" not in responses.calls[1].request.headers


def test_ca_path_wins_over_requests_ca_bundle(monkeypatch, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("dummy")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    assert Transport(ca_path=str(ca)).verify_option() == str(ca)
    assert Transport().verify_option() == "/nonexistent/bundle.pem"
    assert Transport(validate_certs=False, ca_path=str(ca)).verify_option() is False
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert Transport().verify_option() is True
    with pytest.raises(TLSError, match="does not exist"):
        Transport(ca_path=str(tmp_path / "nope.pem"))


@responses.activate
def test_plain_http_requests_carry_no_ca_path(monkeypatch):
    # requests stats a CA path on every request; plain http has no certificate to check with it.
    # A redirect to https is its own hop and gets the bundle again.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/bundle.pem")
    responses.add(responses.HEAD, "http://reg.example/v2/a/manifests/1", status=307,
                  headers={"Location": "https://reg.example/v2/a/manifests/1"})
    responses.add(responses.HEAD, "https://reg.example/v2/a/manifests/1")
    Transport().request("HEAD", "http://reg.example/v2/a/manifests/1")
    assert [call.request.req_kwargs["verify"] for call in responses.calls] == [True, "/etc/ssl/certs/bundle.pem"]
    assert Transport().verify_option("HTTP://reg.example/v2/") is True
    assert Transport(validate_certs=False).verify_option("http://reg.example/v2/") is False


def test_proxies_still_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    transport = Transport()
    assert transport.session.trust_env is False
    assert transport.proxies_for("https://reg.example/v2/")["https"] == "http://proxy.example:3128"
    assert "https" not in transport.proxies_for("https://internal.example/v2/")


def test_proxies_are_read_once_per_origin(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    looked_up = []
    real = _transport.get_environ_proxies
    monkeypatch.setattr(_transport, "get_environ_proxies", lambda url: looked_up.append(url) or real(url))
    transport = Transport()
    for path in ("/v2/", "/v2/a/tags/list", "/v2/b/manifests/latest"):
        assert transport.proxies_for("https://reg.example" + path)["https"] == "http://proxy.example:3128"
        assert "https" not in transport.proxies_for("https://internal.example" + path)
    # A caller changing the returned dict does not change the next request's proxies.
    transport.proxies_for("https://reg.example/v2/").clear()
    assert transport.proxies_for("https://reg.example/v2/x")["https"] == "http://proxy.example:3128"
    assert looked_up == ["https://reg.example/v2/", "https://internal.example/v2/"]


@responses.activate
def test_netrc_does_not_replace_authorization(monkeypatch, tmp_path):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine reg.example login netrcuser password netrcpw\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    responses.add(responses.GET, URL, status=200)
    Transport().request("GET", URL, headers={"Authorization": "Bearer mine"})
    assert responses.calls[0].request.headers["Authorization"] == "Bearer mine"


@responses.activate
def test_trace_records_have_no_secrets(transport):
    responses.add(responses.GET, URL, body=b"12345")
    transport.request("GET", URL + "?token=abc", headers={"Authorization": "Bearer zzz"})
    (record,) = transport.trace.records
    assert record["method"] == "GET" and record["status"] == 200 and record["bytes_received"] == 5
    assert record["path"] == "/v2/a/blobs/uploads/x" and record["host"] == "reg.example"
    assert "abc" not in repr(record) and "zzz" not in repr(record)
    assert transport.trace.count == 1


@pytest.mark.parametrize("value, expected", [("5", 5.0), ("0", 0.0), ("garbage", None), (None, None),
                                             ("Wed, 21 Oct 2015 07:28:00 GMT", 10.0)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=1445412470.0) == expected


class _FakeSpan(object):
    def __init__(self, name, spans):
        self.name = name
        self.attributes = {}
        spans.append(self)

    def set_attribute(self, key, value):
        self.attributes[key] = value

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _FakeTracer(object):
    def __init__(self):
        self.spans = []

    def start_as_current_span(self, name):
        return _FakeSpan(name, self.spans)


@responses.activate
def test_opentelemetry_span_per_request_when_available(monkeypatch):
    """With the opentelemetry API importable every request becomes a span, like the seed's ActivitySource."""
    from ansible_collections.oci.registry.plugins.module_utils import _tracing as tracing

    tracer = _FakeTracer()

    class FakeTraceApi(object):
        @staticmethod
        def get_tracer(name):
            assert name == "oci.registry"
            return tracer

    monkeypatch.setattr(tracing, "_otel_trace", FakeTraceApi)
    responses.add(responses.GET, URL, status=404)
    Transport().request("GET", URL + "?last=x", headers={"Authorization": "Bearer s3cr3t"})
    (span,) = tracer.spans
    assert span.name == "HTTP GET"
    assert span.attributes == {"http.request.method": "GET", "server.address": "reg.example",
                               "url.path": "/v2/a/blobs/uploads/x", "oci.registry.attempt": 0,
                               "http.response.status_code": 404}


def test_tracing_is_a_noop_without_opentelemetry(monkeypatch):
    from ansible_collections.oci.registry.plugins.module_utils import _tracing as tracing

    monkeypatch.setattr(tracing, "_otel_trace", None)
    with tracing.span("x", {"a": 1}) as set_attribute:
        set_attribute("b", 2)  # must not fail
    assert tracing._tracer() is None
