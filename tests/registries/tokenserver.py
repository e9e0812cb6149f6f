"""Token service for the `token` test registry, after the distribution token specification.

Run as `python tokenserver.py CONFIG.json`; the launcher writes the config. Endpoints:

- `GET  /token`  the Docker token flow: `service`, repeated `scope`, optional Basic credentials,
  `offline_token=true` (with credentials) adds a refresh token, `account` and `client_id` are recorded.
- `POST /token`  the OAuth2 flow (form): `grant_type=password|refresh_token`, `client_id` (required),
  `service`, `scope` (space separated), `access_type=offline` adds a refresh token.
- `GET  /stats`  JSON counters; `POST /stats/reset` zeroes them.
- `GET  /config` and `POST /config` with JSON `{"token_expiry": seconds}`: change the lifetime of
  tokens issued from now on. A negative value issues tokens that are already expired, which lets
  tests see the registry reject an expired token without sleeping past its clock leeway.
- `GET  /healthz` readiness.

Test-only extension: a `test_expires_in` parameter (GET query or POST form) sets the lifetime of
that one token, so a test can get an expired token without changing the lifetime for others.
The registry accepts tokens up to 60 s past `exp` (its clock leeway): use -120 for "expired".

Grants: `admin` gets every action on every repository and `registry:catalog:*`; `puller` gets pull
on every repository; everybody (anonymous included) gets pull on `public/*`.
"""

from __future__ import annotations

import base64
import collections
import datetime
import json
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

FULL_ACCESS_USER = "admin"
PULL_ONLY_USER = "puller"
PUBLIC_PREFIX = "public/"
ANONYMOUS = "anonymous"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parse_scope(text):
    """`type[(class)]:name:actions`; the name may itself contain colons, so split at both ends."""
    resource_type, sep, rest = text.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not resource_type or not name:
        raise ValueError("invalid scope %r" % text)
    resource_type = resource_type.split("(", 1)[0]
    return resource_type, name, [action for action in actions.split(",") if action]


def allowed_actions(user, resource_type, name):
    if resource_type == "repository":
        if user == FULL_ACCESS_USER:
            return {"pull", "push", "delete", "*"}
        if user == PULL_ONLY_USER:
            return {"pull"}
        if name.startswith(PUBLIC_PREFIX):
            return {"pull"}
        return set()
    if resource_type == "registry" and name == "catalog" and user == FULL_ACCESS_USER:
        return {"*"}
    return set()


def grant(user, scopes):
    """Intersect what was asked with what the user may do; denied scopes are simply left out, as the spec says."""
    access = []
    for resource_type, name, actions in scopes:
        permitted = allowed_actions(user, resource_type, name)
        granted = [action for action in actions if action in permitted]
        if granted:
            access.append({"type": resource_type, "name": name, "actions": granted})
    return access


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.requests = 0
            self.tokens_issued = 0
            self.by_flow = collections.Counter()
            self.by_user = collections.Counter()
            self.by_grant = collections.Counter()
            self.by_client_id = collections.Counter()
            self.failures = collections.Counter()

    def record_request(self):
        with self._lock:
            self.requests += 1

    def record_failure(self, flow, reason):
        with self._lock:
            self.by_flow[flow] += 1
            self.failures[reason] += 1

    def record_token(self, flow, user, access, client_id):
        with self._lock:
            self.tokens_issued += 1
            self.by_flow[flow] += 1
            self.by_user[user] += 1
            if client_id:
                self.by_client_id[client_id] += 1
            for entry in access:
                self.by_grant["%s:%s:%s" % (entry["type"], entry["name"], ",".join(entry["actions"]))] += 1

    def snapshot(self):
        with self._lock:
            return {
                "requests": self.requests,
                "tokens_issued": self.tokens_issued,
                "by_flow": dict(self.by_flow),
                "by_user": dict(self.by_user),
                "by_grant": dict(self.by_grant),
                "by_client_id": dict(self.by_client_id),
                "failures": dict(self.failures),
            }


class TokenIssuer:
    def __init__(self, config):
        self.issuer = config["issuer"]
        self.service = config["service"]
        self.users = config["users"]
        self.token_expiry = int(config["token_expiry"])
        with open(config["signing_key"], "rb") as handle:
            self._key = serialization.load_pem_private_key(handle.read(), password=None)
        with open(config["signing_cert_chain"], "rb") as handle:
            chain = x509.load_pem_x509_certificates(handle.read())
        self._x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii") for cert in chain]
        self._refresh_tokens = {}
        self._lock = threading.Lock()

    def check_password(self, username, password):
        expected = self.users.get(username)
        return expected is not None and secrets.compare_digest(expected.encode(), password.encode())

    def new_refresh_token(self, username):
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh_tokens[token] = username
        return token

    def user_for_refresh_token(self, token):
        with self._lock:
            return self._refresh_tokens.get(token)

    def sign(self, subject, access, expiry=None):
        now = int(time.time())
        expiry = self.token_expiry if expiry is None else expiry
        header = {"typ": "JWT", "alg": "RS256", "x5c": self._x5c}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "iat": now,
            # An already-expired token (negative expiry) must not be "not yet valid" either.
            "nbf": min(now, now + expiry) - 1,
            "exp": now + expiry,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = self._key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        issued_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return signing_input + "." + b64url(signature), expiry, issued_at


class TokenRequestError(Exception):
    def __init__(self, status, error, description):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class Handler(BaseHTTPRequestHandler):
    server_version = "oci-registry-test-token/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))

    @property
    def issuer(self) -> TokenIssuer:
        return self.server.issuer

    @property
    def stats(self) -> Stats:
        return self.server.stats

    def send_json(self, status, body, headers=None):
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):  # pylint: disable=invalid-name
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/token":
            self.handle_token(self.get_flow, urllib.parse.parse_qs(url.query, keep_blank_values=True), "get")
        elif url.path == "/stats":
            self.send_json(200, self.stats.snapshot())
        elif url.path == "/config":
            self.send_json(200, {"token_expiry": self.issuer.token_expiry})
        elif url.path == "/healthz":
            self.send_json(200, {"ok": True})
        else:
            self.send_json(404, {"error": "not_found"})

    def do_POST(self):  # pylint: disable=invalid-name
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        if url.path == "/token":
            params = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            flow = "post_" + (params.get("grant_type") or ["missing"])[0]
            self.handle_token(self.post_flow, params, flow)
        elif url.path == "/stats/reset":
            self.stats.reset()
            self.send_json(200, self.stats.snapshot())
        elif url.path == "/config":
            try:
                self.issuer.token_expiry = int(json.loads(body or b"{}")["token_expiry"])
            except (ValueError, KeyError, TypeError):
                self.send_json(400, {"error": "invalid_request", "error_description": "expected JSON {\"token_expiry\": seconds}"})
                return
            self.send_json(200, {"token_expiry": self.issuer.token_expiry})
        else:
            self.send_json(404, {"error": "not_found"})

    def handle_token(self, flow_handler, params, flow):
        self.stats.record_request()
        try:
            body = flow_handler(params, flow)
        except TokenRequestError as error:
            self.stats.record_failure(flow, error.error)
            headers = {"WWW-Authenticate": 'Basic realm="oci-registry-test-token"'} if error.status == 401 else None
            self.send_json(error.status, {"error": error.error, "error_description": error.description,
                                          "errors": [{"code": "UNAUTHORIZED" if error.status == 401 else "DENIED", "message": error.description}]},
                           headers)
            return
        self.send_json(200, body)

    def check_service(self, params):
        service = (params.get("service") or [""])[0]
        if service != self.issuer.service:
            raise TokenRequestError(400, "invalid_request", "unknown service %r, this token service serves %r" % (service, self.issuer.service))

    def basic_credentials(self):
        header = self.headers.get("Authorization")
        if not header:
            return None
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "basic":
            raise TokenRequestError(401, "invalid_client", "only Basic credentials are accepted")
        try:
            username, _sep, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise TokenRequestError(400, "invalid_request", "malformed Basic credentials") from exc
        return username, password

    def authenticate(self, username, password):
        if not self.issuer.check_password(username, password):
            raise TokenRequestError(401, "invalid_grant", "invalid username or password")
        return username

    @staticmethod
    def scopes(values):
        scopes = []
        for value in values:
            # Some clients join several scopes with spaces in one parameter, the OAuth2 way.
            for item in value.split():
                try:
                    scopes.append(parse_scope(item))
                except ValueError as exc:
                    raise TokenRequestError(400, "invalid_scope", str(exc)) from exc
        return scopes

    @staticmethod
    def expiry_override(params):
        value = (params.get("test_expires_in") or [""])[0]
        try:
            return int(value) if value else None
        except ValueError as exc:
            raise TokenRequestError(400, "invalid_request", "test_expires_in must be an integer") from exc

    def issue(self, flow, user, scopes, client_id, expiry=None):
        access = grant(user, scopes)
        token, expires_in, issued_at = self.issuer.sign("" if user == ANONYMOUS else user, access, expiry)
        self.stats.record_token(flow, user, access, client_id)
        return token, expires_in, issued_at, access

    def get_flow(self, params, flow):
        self.check_service(params)
        credentials = self.basic_credentials()
        user = self.authenticate(*credentials) if credentials else ANONYMOUS
        client_id = (params.get("client_id") or [""])[0]
        token, expires_in, issued_at, _access = self.issue(flow, user, self.scopes(params.get("scope", [])), client_id, self.expiry_override(params))
        body = {"token": token, "access_token": token, "expires_in": expires_in, "issued_at": issued_at}
        if credentials and (params.get("offline_token") or [""])[0].lower() == "true":
            body["refresh_token"] = self.issuer.new_refresh_token(user)
        return body

    def post_flow(self, params, flow):
        def single(name):
            return (params.get(name) or [""])[0]

        if not single("client_id"):
            raise TokenRequestError(400, "invalid_request", "client_id is required")
        self.check_service(params)
        grant_type = single("grant_type")
        refresh_token = None
        if grant_type == "password":
            user = self.authenticate(single("username"), single("password"))
        elif grant_type == "refresh_token":
            refresh_token = single("refresh_token")
            user = self.issuer.user_for_refresh_token(refresh_token) if refresh_token else None
            if user is None:
                raise TokenRequestError(401, "invalid_grant", "unknown refresh token")
        else:
            raise TokenRequestError(400, "unsupported_grant_type", "grant_type must be password or refresh_token")
        token, expires_in, issued_at, access = self.issue(flow, user, self.scopes(params.get("scope", [])), single("client_id"),
                                                          self.expiry_override(params))
        body = {"access_token": token, "expires_in": expires_in, "issued_at": issued_at,
                "scope": " ".join("%s:%s:%s" % (entry["type"], entry["name"], ",".join(entry["actions"])) for entry in access)}
        if single("access_type") == "offline":
            body["refresh_token"] = refresh_token or self.issuer.new_refresh_token(user)
        return body


class TLSThreadingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, issuer, certfile, keyfile):
        super().__init__(address, Handler)
        self.issuer = issuer
        self.stats = Stats()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        self._tls = context

    def get_request(self):
        sock, address = self.socket.accept()
        # The handshake happens on first read, in the request thread, so a slow client cannot stall accept().
        return self._tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ssl.SSLError, ConnectionError)):
            sys.stderr.write("connection from %s failed: %s\n" % (client_address[0], error))
            return
        super().handle_error(request, client_address)


class PlainThreadingHTTPServer(ThreadingHTTPServer):
    """The same token service over plain HTTP (the ``plaintoken`` variant's realm), sharing issuer and stats."""

    daemon_threads = True

    def __init__(self, address, issuer, stats):
        super().__init__(address, Handler)
        self.issuer = issuer
        self.stats = stats


def main(argv):
    with open(argv[1], encoding="utf-8") as handle:
        config = json.load(handle)
    server = TLSThreadingHTTPServer(("127.0.0.1", config["port"]), TokenIssuer(config), config["certfile"], config["keyfile"])
    sys.stderr.write("token service listening on 127.0.0.1:%d\n" % config["port"])
    if config.get("plain_port"):
        plain = PlainThreadingHTTPServer(("127.0.0.1", config["plain_port"]), server.issuer, server.stats)
        threading.Thread(target=plain.serve_forever, name="plain-http", daemon=True).start()
        sys.stderr.write("token service listening on 127.0.0.1:%d (plain HTTP)\n" % config["plain_port"])
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
