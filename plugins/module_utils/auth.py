# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry authentication: challenges, Basic, Bearer tokens, token cache, credential files.

Token flow (distribution token spec, docs/spec/auth/token.md and oauth.md):
POST form to the realm (grant_type password or refresh_token), falling back to
GET with Basic credentials when the token server does not do OAuth2 POST.
Tokens are cached per (realm, service, scope set) until shortly before they
expire, so a client sends one token request per scope set instead of one 401
round trip per request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections import namedtuple

try:
    from urllib.parse import urlsplit, urlencode
except ImportError:  # pragma: no cover - Python 2 is not supported, keeps sanity's import test calm
    from urlparse import urlsplit  # type: ignore
    from urllib import urlencode  # type: ignore

from ansible_collections.oci.registry.plugins.module_utils.errors import (
    AuthenticationError,
    ProtocolError,
    RegistryError,
)

AUTH_TYPES = ("auto", "basic", "token", "anonymous", "none")
CLIENT_ID = "oci.registry-ansible"
DEFAULT_TOKEN_LIFETIME = 60
# Renew this long before a token expires so a request never leaves with a token
# that expires in flight.
EXPIRY_MARGIN = 10
# Token servers that do not implement OAuth2 POST answer one of these.
POST_FALLBACK_STATUSES = (400, 401, 404, 405)


# --------------------------------------------------------------------------- challenges

_CHALLENGE_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_AUTH_PARAM_RE = re.compile(r"\s*(%s)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^\s,]*)\s*(,|$)" % _CHALLENGE_TOKEN)
_SCHEME_RE = re.compile(r"\s*(%s)(?:\s+|$)" % _CHALLENGE_TOKEN)


class Challenge(namedtuple("Challenge", ["scheme", "params"])):
    """One WWW-Authenticate challenge; ``scheme`` lowercase, ``params`` lowercase keys."""

    __slots__ = ()

    @property
    def realm(self):
        return self.params.get("realm")

    @property
    def service(self):
        return self.params.get("service")

    @property
    def scope(self):
        return self.params.get("scope")

    @property
    def error(self):
        return self.params.get("error")

    def to_dict(self):
        return {"scheme": self.scheme, "realm": self.realm, "service": self.service}


def parse_challenges(header):
    """Parse a WWW-Authenticate value into a list of Challenge (RFC 7235, tolerant).

    Handles several challenges in one header, quoted strings with commas and
    escaped quotes, and unquoted values.
    """
    if not header:
        return []
    challenges = []
    pos = 0
    length = len(header)
    while pos < length:
        while pos < length and header[pos] in " ,\t":
            pos += 1
        if pos >= length:
            break
        match = _SCHEME_RE.match(header, pos)
        if not match:
            break
        scheme = match.group(1).lower()
        pos = match.end()
        params = {}
        while pos < length:
            param = _AUTH_PARAM_RE.match(header, pos)
            if not param:
                break
            # A token followed by "=" is a parameter; a bare token starts the next challenge.
            key = param.group(1).lower()
            value = param.group(2)
            if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[key] = value
            pos = param.end()
        challenges.append(Challenge(scheme, params))
    return challenges


def preferred_challenge(challenges):
    """Bearer beats Basic: a registry offering both wants tokens."""
    for wanted in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == wanted:
                return challenge
    return challenges[0] if challenges else None


# --------------------------------------------------------------------------- scopes

def repository_scope(repository, *actions):
    return "repository:%s:%s" % (repository, ",".join(actions))


CATALOG_SCOPE = "registry:catalog:*"


def _split_scope(scope):
    # Resource names may contain ':' (host:port); the type is the first part and
    # the actions the last one.
    parts = scope.split(":")
    if len(parts) < 3:
        return None
    return parts[0], ":".join(parts[1:-1]), parts[-1]


def normalize_scopes(scopes):
    """Merge actions per resource: returns a sorted tuple of scope strings."""
    merged = {}
    order = []
    for scope in scopes or ():
        if not scope:
            continue
        for single in scope.split(" "):
            split = _split_scope(single)
            if split is None:
                continue
            key = (split[0], split[1])
            if key not in merged:
                merged[key] = set()
                order.append(key)
            merged[key].update(a for a in split[2].split(",") if a)
    result = []
    for key in sorted(order):
        actions = merged[key]
        result.append("%s:%s:%s" % (key[0], key[1], ",".join(sorted(actions))))
    return tuple(result)


def scopes_cover(granted, wanted):
    """Does scope set ``granted`` include every action of ``wanted``?"""
    have = {}
    for scope in granted:
        split = _split_scope(scope)
        if split:
            have.setdefault((split[0], split[1]), set()).update(split[2].split(","))
    for scope in wanted:
        split = _split_scope(scope)
        if not split:
            continue
        actions = have.get((split[0], split[1]), set())
        if "*" in actions:
            continue
        if not set(split[2].split(",")) <= actions:
            return False
    return True


# --------------------------------------------------------------------------- credentials

class Credentials(namedtuple("Credentials", ["username", "password", "identity_token", "source"])):
    """Username/password or identity (refresh) token. ``repr`` never shows secrets."""

    __slots__ = ()

    def __new__(cls, username=None, password=None, identity_token=None, source=None):
        return super(Credentials, cls).__new__(cls, username, password, identity_token, source)

    def __repr__(self):
        return "Credentials(username=%r, password=%s, identity_token=%s, source=%r)" % (
            self.username, "<set>" if self.password else None, "<set>" if self.identity_token else None, self.source)

    __str__ = __repr__


def _normalize_auth_key(key):
    """``https://index.docker.io/v1/`` -> ``registry-1.docker.io``; keeps ``host/path`` keys of auth.json."""
    from ansible_collections.oci.registry.plugins.module_utils.reference import normalize_registry_host

    key = key.strip()
    key = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", key)
    key = key.rstrip("/")
    key = re.sub(r"/v[12]$", "", key)
    host, sep, path = key.partition("/")
    return normalize_registry_host(host.lower()) + (sep + path if path else "")


def default_auth_files():
    """Credential files in the order podman/skopeo and docker consult them."""
    files = []
    if os.environ.get("REGISTRY_AUTH_FILE"):
        files.append(os.environ["REGISTRY_AUTH_FILE"])
    if os.environ.get("XDG_RUNTIME_DIR"):
        files.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "containers", "auth.json"))
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    files.append(os.path.join(config_home, "containers", "auth.json"))
    docker_config = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    files.append(os.path.join(docker_config, "config.json"))
    return files


def _lookup_keys(mapping, host, repository):
    """Keys of ``mapping`` matching host, most specific (``host/ns/repo``) first."""
    candidates = []
    if repository:
        parts = repository.split("/")
        for i in range(len(parts), 0, -1):
            candidates.append("%s/%s" % (host, "/".join(parts[:i])))
    candidates.append(host)
    normalized = {}
    for key in mapping:
        normalized.setdefault(_normalize_auth_key(key), key)
    return [normalized[c] for c in candidates if c in normalized]


def _decode_auth_entry(entry, source):
    if not isinstance(entry, dict):
        return None
    username = entry.get("username")
    password = entry.get("password")
    if entry.get("auth"):
        try:
            decoded = base64.b64decode(entry["auth"]).decode("utf-8")
        except (ValueError, TypeError, UnicodeDecodeError):
            raise AuthenticationError("the auth entry in %s is not valid base64 of user:password" % source,
                                      action="read credentials", hint="re-run docker/podman login")
        username, sep, password = decoded.partition(":")
        if not sep:
            raise AuthenticationError("the auth entry in %s has no ':' between user and password" % source,
                                      action="read credentials", hint="re-run docker/podman login")
    identity = entry.get("identitytoken") or entry.get("identityToken")
    if not (username or password or identity):
        return None
    return Credentials(username or None, password or None, identity or None, source)


def run_credential_helper(helper, server, timeout=30):
    """``docker-credential-<helper> get`` with the server on stdin; None when it has nothing."""
    program = "docker-credential-%s" % helper
    path = shutil.which(program)
    if path is None:
        raise AuthenticationError("credential helper %s is not on PATH" % program, action="read credentials",
                                  hint="install the helper, or pass username/password or auth_file explicitly")
    try:
        # module_utils stay Ansible-free (the client is used from plain Python), so no run_command here.
        proc = subprocess.run(  # pylint: disable=ansible-bad-function
            [path, "get"], input=server.encode("utf-8"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise AuthenticationError("credential helper %s failed to run (%s)" % (program, type(exc).__name__),
                                  action="read credentials")
    output = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        # "credentials not found in native keychain" is the documented miss.
        if "not found" in (output + proc.stderr.decode("utf-8", "replace")).lower():
            return None
        raise AuthenticationError("credential helper %s exited with status %d" % (program, proc.returncode),
                                  action="read credentials", hint="run '%s get' by hand to see why" % program)
    try:
        data = json.loads(output)
    except ValueError:
        raise AuthenticationError("credential helper %s printed something that is not JSON" % program,
                                  action="read credentials")
    username = data.get("Username")
    secret = data.get("Secret")
    if username == "<token>":
        return Credentials(None, None, secret, "helper:%s" % helper)
    if not username and not secret:
        return None
    return Credentials(username, secret, None, "helper:%s" % helper)


def _helper_server_url(host, key=None):
    if key:
        return key
    if host == "registry-1.docker.io":
        return "https://index.docker.io/v1/"
    return host


def load_credentials(registry_host, auth_file=None, repository=None):
    """Find credentials for ``registry_host`` in containers auth.json / docker config.json.

    ``auth_file`` given: only that file (missing file is an error). Otherwise the
    default files, first match wins. Returns Credentials or None.
    """
    from ansible_collections.oci.registry.plugins.module_utils.reference import normalize_registry_host

    host = normalize_registry_host(registry_host.lower())
    if auth_file:
        auth_file = os.path.expanduser(auth_file)
        if not os.path.isfile(auth_file):
            raise AuthenticationError("auth_file %s does not exist" % auth_file, action="read credentials",
                                      hint="point auth_file at a docker config.json or containers auth.json")
        files = [auth_file]
    else:
        files = [f for f in default_auth_files() if os.path.isfile(f)]
    for path in files:
        try:
            with open(path, "rb") as handle:
                config = json.loads(handle.read().decode("utf-8") or "{}")
        except (OSError, IOError, ValueError, UnicodeDecodeError) as exc:
            raise AuthenticationError("cannot read credentials file %s (%s)" % (path, type(exc).__name__),
                                      action="read credentials", hint="fix or remove the file")
        if not isinstance(config, dict):
            continue
        helpers = config.get("credHelpers") or {}
        for key in _lookup_keys(helpers, host, repository):
            creds = run_credential_helper(helpers[key], _helper_server_url(host, key))
            if creds:
                return creds
        auths = config.get("auths") or {}
        keys = _lookup_keys(auths, host, repository)
        for key in keys:
            creds = _decode_auth_entry(auths[key], path)
            if creds:
                return creds
        store = config.get("credsStore")
        if store:
            try:
                creds = run_credential_helper(store, _helper_server_url(host, keys[0] if keys else None))
            except AuthenticationError:
                # A desktop credsStore copied onto a server without its helper must not
                # break anonymous access; explicit credHelpers entries still fail loudly.
                creds = None
            if creds:
                return creds
    return None


# --------------------------------------------------------------------------- tokens

class Token(namedtuple("Token", ["value", "expires_at", "scopes"])):
    __slots__ = ()

    def __repr__(self):
        return "Token(<redacted>, expires_at=%r, scopes=%r)" % (self.expires_at, self.scopes)

    def valid(self, now=None):
        return (now if now is not None else time.monotonic()) < self.expires_at


class TokenCache(object):
    """Thread-safe tokens per (realm, service, scope set)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._tokens = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and not token.valid(self._clock()):
                del self._tokens[key]
                return None
            return token

    def put(self, key, value, expires_in, scopes):
        lifetime = max(float(expires_in or DEFAULT_TOKEN_LIFETIME), 1.0)
        margin = min(EXPIRY_MARGIN, lifetime / 10.0)
        token = Token(value, self._clock() + lifetime - margin, scopes)
        with self._lock:
            self._tokens[key] = token
        return token

    def clear(self):
        with self._lock:
            self._tokens.clear()

    def __len__(self):
        with self._lock:
            return len(self._tokens)


def _basic_header(username, password):
    raw = ("%s:%s" % (username or "", password or "")).encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _host_of(url):
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (parts.hostname or "").lower(), port


class Authenticator(object):
    """Decides the Authorization header of every registry request.

    The transport asks ``authorization(scopes)`` before a request and calls
    ``handle_unauthorized(response, scopes)`` on a 401; True means "retry, a
    better header is ready".
    """

    def __init__(self, registry_url, username=None, password=None, bearer_token=None, auth_type="auto",
                 identity_token=None, transport=None):
        if auth_type not in AUTH_TYPES:
            raise AuthenticationError("auth_type %r is not one of %s" % (auth_type, ", ".join(AUTH_TYPES)),
                                      action="configure authentication")
        if (username and not password and not identity_token) and auth_type in ("auto", "basic", "token"):
            raise AuthenticationError("username given without password", action="configure authentication",
                                      hint="set password (or REGISTRY_PASSWORD)")
        self.registry_url = registry_url
        self.username = username
        self._password = password
        self._bearer_token = bearer_token
        self._identity_token = identity_token
        self.auth_type = auth_type
        self.transport = transport
        self.cache = TokenCache()
        self.challenge = None
        self._challenge_known = False
        self._lock = threading.RLock()
        self._refresh_tokens = {}
        self.token_requests = 0
        self.credentials_withheld = False
        # Sent with every token request; token services log it, tests count by it.
        self.client_id = CLIENT_ID

    # ----------------------------------------------------------------- state

    @property
    def has_credentials(self):
        return bool(self._bearer_token or (self.username and self._password) or self._identity_token)

    @property
    def challenge_known(self):
        return self._challenge_known or self.auth_type in ("none", "basic") or bool(self._bearer_token)

    def learn_challenge(self, header):
        challenge = preferred_challenge(parse_challenges(header))
        with self._lock:
            self.challenge = challenge
            self._challenge_known = True
        return challenge

    def mark_open(self):
        """GET /v2/ answered 200 without credentials: no auth needed (until a 401 says otherwise)."""
        with self._lock:
            self._challenge_known = True

    # ----------------------------------------------------------------- headers

    def authorization(self, scopes):
        """Authorization header value for a request needing ``scopes``, or None."""
        if self.auth_type == "none":
            return None
        if self._bearer_token:
            return "Bearer " + self._bearer_token
        if self.auth_type == "basic":
            return _basic_header(self.username, self._password) if self.username else None
        challenge = self.challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            if self.auth_type in ("auto",) and self.username and self._password:
                return _basic_header(self.username, self._password)
            return None
        if challenge.scheme == "bearer":
            token = self.get_token(challenge, scopes)
            return "Bearer " + token.value if token else None
        return None

    def handle_unauthorized(self, response, scopes, sent_authorization):
        """Learn from a 401 and say whether a retry could succeed."""
        if self.auth_type == "none" or self._bearer_token:
            return False
        header = response.headers.get("WWW-Authenticate", "")
        challenges = parse_challenges(header)
        challenge = preferred_challenge(challenges)
        if challenge is None:
            return False
        with self._lock:
            self.challenge = challenge
            self._challenge_known = True
        if challenge.scheme == "basic":
            if self.auth_type == "token":
                raise AuthenticationError("auth_type is token but the registry asks for Basic authentication",
                                          challenge=challenge, action="authenticate",
                                          hint="use auth_type=basic or auto")
            # Retry only if we did not already send the credentials.
            return bool(self.auth_type == "auto" and self.username and self._password and not sent_authorization)
        if challenge.scheme != "bearer" or not challenge.realm:
            return False
        wanted = normalize_scopes(list(scopes or ()) + ([challenge.scope] if challenge.scope else []))
        cached = self.cache.get(self._cache_key(challenge, wanted))
        if cached is not None and sent_authorization == "Bearer " + cached.value:
            # A still valid token for exactly this scope set was refused: the token
            # service granted less than asked, and asking again will not change that.
            return False
        self.get_token(challenge, wanted, force=True, cache_scopes=normalize_scopes(scopes or ()))
        return True

    # ----------------------------------------------------------------- tokens

    def _cache_key(self, challenge, scopes):
        return (challenge.realm, challenge.service, tuple(scopes))

    def get_token(self, challenge, scopes, force=False, cache_scopes=None):
        """Cached token for ``scopes``, fetching one when missing or expired."""
        scopes = normalize_scopes(scopes)
        key = self._cache_key(challenge, scopes)
        alias = self._cache_key(challenge, normalize_scopes(cache_scopes)) if cache_scopes is not None else None
        if not force:
            token = self.cache.get(key)
            if token is not None:
                return token
        with self._lock:
            # Another thread may have fetched it while we waited for the lock.
            if not force:
                token = self.cache.get(key)
                if token is not None:
                    return token
            value, expires_in = self._fetch_token(challenge, scopes)
            token = self.cache.put(key, value, expires_in, scopes)
            if alias is not None and alias != key:
                # Requests computing the narrower scope set find the wider token too.
                self.cache.put(alias, value, expires_in, scopes)
            return token

    def _may_send_credentials_to(self, realm):
        realm_parts = urlsplit(realm)
        if realm_parts.scheme == "https":
            return True
        return _host_of(realm) == _host_of(self.registry_url)

    def _fetch_token(self, challenge, scopes):
        realm = challenge.realm
        if not realm or not re.match(r"^https?://", realm, re.IGNORECASE):
            raise ProtocolError("the registry's Bearer challenge has no usable realm", action="authenticate")
        service = challenge.service
        use_credentials = self.auth_type != "anonymous" and self.has_credentials
        if use_credentials and not self._may_send_credentials_to(realm):
            # Never hand credentials to another host over plain HTTP; an anonymous
            # token may still be enough (public repositories).
            use_credentials = False
            self.credentials_withheld = True
        refresh = self._refresh_tokens.get((realm, service)) or self._identity_token
        if use_credentials and refresh:
            status, payload = self._post_token(realm, service, scopes, {
                "grant_type": "refresh_token", "refresh_token": refresh})
            if status == 200:
                return self._accept_token(realm, service, payload)
            if status not in POST_FALLBACK_STATUSES:
                raise self._token_error(status, realm, payload)
        if use_credentials and self.username and self._password:
            status, payload = self._post_token(realm, service, scopes, {
                "grant_type": "password", "username": self.username, "password": self._password,
                "access_type": "offline"})
            if status == 200:
                return self._accept_token(realm, service, payload)
            if status not in POST_FALLBACK_STATUSES:
                raise self._token_error(status, realm, payload)
        status, payload = self._get_token(realm, service, scopes,
                                          use_credentials and bool(self.username and self._password))
        if status == 200:
            return self._accept_token(realm, service, payload)
        raise self._token_error(status, realm, payload)

    def _post_token(self, realm, service, scopes, fields):
        form = {"client_id": self.client_id}
        if service:
            form["service"] = service
        if scopes:
            form["scope"] = " ".join(scopes)
        form.update(fields)
        self.token_requests += 1
        response = self.transport.request("POST", realm, data=form, authenticate=False,
                                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                                          trace_name="token")
        return response.status_code, response.content

    def _get_token(self, realm, service, scopes, with_basic):
        params = []
        if service:
            params.append(("service", service))
        for scope in scopes:
            params.append(("scope", scope))
        if with_basic:
            params.append(("account", self.username))
        params.append(("client_id", self.client_id))
        url = realm + (("&" if "?" in realm else "?") + urlencode(params) if params else "")
        headers = {}
        if with_basic:
            headers["Authorization"] = _basic_header(self.username, self._password)
        self.token_requests += 1
        response = self.transport.request("GET", url, headers=headers, authenticate=False, trace_name="token")
        return response.status_code, response.content

    def _accept_token(self, realm, service, payload):
        try:
            data = json.loads(payload.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, AttributeError):
            raise ProtocolError("token service at %s answered 200 without JSON" % _safe_realm(realm),
                                action="authenticate")
        value = data.get("token") or data.get("access_token")
        if not value:
            raise ProtocolError("token service at %s answered without a token" % _safe_realm(realm),
                                action="authenticate")
        if data.get("refresh_token"):
            self._refresh_tokens[(realm, service)] = data["refresh_token"]
        expires_in = data.get("expires_in") or DEFAULT_TOKEN_LIFETIME
        try:
            expires_in = float(expires_in)
        except (TypeError, ValueError):
            expires_in = DEFAULT_TOKEN_LIFETIME
        return value, expires_in

    def _token_error(self, status, realm, payload):
        from ansible_collections.oci.registry.plugins.module_utils.errors import parse_error_body

        errors = parse_error_body(payload)
        who = "user %s" % self.username if self.username else "anonymous access"
        if self.credentials_withheld:
            hint = ("credentials were not sent because the token realm is plain HTTP on another host; "
                    "serve the token service over HTTPS")
        elif status == 401:
            hint = "check username and password (or the identity token) for this registry"
        elif status == 403:
            hint = "the account is not allowed the requested access"
        else:
            hint = None
        cls = AuthenticationError if status in (401, 403) or status is None else RegistryError
        return cls("token service at %s refused %s" % (_safe_realm(realm), who), status=status, errors=errors,
                   registry=self.registry_url.split("://", 1)[-1], action="get token", **({"hint": hint} if hint else {}))


def _safe_realm(realm):
    parts = urlsplit(realm)
    return "%s://%s%s" % (parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path)


__all__ = [
    "AUTH_TYPES", "Authenticator", "CATALOG_SCOPE", "Challenge", "Credentials", "TokenCache",
    "load_credentials", "normalize_scopes", "parse_challenges", "preferred_challenge", "repository_scope",
    "run_credential_helper",
]
