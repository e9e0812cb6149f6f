# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
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
import signal
import subprocess
import threading
import time
from collections import namedtuple

try:
    from urllib.parse import urlsplit, urlencode
except ImportError:  # pragma: no cover - Python 2 is not supported, keeps sanity's import test calm
    from urlparse import urlsplit  # type: ignore
    from urllib import urlencode  # type: ignore

from ansible_collections.oci.registry.plugins.module_utils._challenge import (  # noqa: F401 (re-exported)
    Challenge,
    parse_challenges,
    preferred_challenge,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    CredentialsWithheldError,
    InsufficientScopeError,
    ProtocolError,
    RegistryError,
    parse_error_body,
)
from ansible_collections.oci.registry.plugins.module_utils._options import DEFAULT_TIMEOUT
from ansible_collections.oci.registry.plugins.module_utils._reference import normalize_registry_host
from ansible_collections.oci.registry.plugins.module_utils._transport import RequestBody

AUTH_TYPES = ("auto", "basic", "token", "anonymous", "none")
# Used when a caller gives no timeout; clients pass their own (the task's) timeout.
DEFAULT_HELPER_TIMEOUT = DEFAULT_TIMEOUT
CLIENT_ID = "oci.registry-ansible"
DEFAULT_TOKEN_LIFETIME = 60
# Renew this long before a token expires so a request never leaves with a token
# that expires in flight.
EXPIRY_MARGIN = 10
# Token servers that do not implement OAuth2 POST answer one of these.
POST_FALLBACK_STATUSES = (400, 401, 404, 405)


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


def _run_in_own_group(argv, stdin, timeout):
    """(returncode, stdout, stderr) of ``argv``; on timeout its whole process group is killed.

    A helper that hangs may have started children (a keychain agent, a prompt); killing only
    the helper would leave them running, so it gets a session (and process group) of its own.
    """
    # module_utils stay Ansible-free (the client is used from plain Python), so no run_command here.
    proc = subprocess.Popen(  # pylint: disable=ansible-bad-function,consider-using-with
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.communicate()
        raise
    except BaseException:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
        raise
    return proc.returncode, stdout, stderr


def run_credential_helper(helper, server, timeout=DEFAULT_HELPER_TIMEOUT):
    """``docker-credential-<helper> get`` with the server on stdin; None when it has nothing."""
    program = "docker-credential-%s" % helper
    path = shutil.which(program)
    if path is None:
        raise AuthenticationError("credential helper %s is not on PATH" % program, action="read credentials",
                                  hint="install the helper, or pass username/password or auth_file explicitly")
    try:
        returncode, stdout, stderr = _run_in_own_group([path, "get"], server.encode("utf-8"), timeout)
    except subprocess.TimeoutExpired:
        raise AuthenticationError("credential helper %s did not answer within %s seconds and was killed"
                                  % (program, timeout), action="read credentials",
                                  hint="run '%s get' by hand to see why it hangs (a locked keychain?), "
                                       "or raise timeout" % program)
    except (OSError, subprocess.SubprocessError) as exc:
        raise AuthenticationError("credential helper %s failed to run (%s)" % (program, type(exc).__name__),
                                  action="read credentials")
    output = stdout.decode("utf-8", "replace").strip()
    if returncode != 0:
        # "credentials not found in native keychain" is the documented miss.
        if "not found" in (output + stderr.decode("utf-8", "replace")).lower():
            return None
        raise AuthenticationError("credential helper %s exited with status %d" % (program, returncode),
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


def load_credentials(registry_host, auth_file=None, repository=None, timeout=DEFAULT_HELPER_TIMEOUT):
    """Find credentials for ``registry_host`` in containers auth.json / docker config.json.

    ``auth_file`` given: only that file (missing file is an error). Otherwise the
    default files, first match wins. Returns Credentials or None. ``timeout`` bounds each
    credential helper run (the task's timeout).
    """
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
            creds = run_credential_helper(helpers[key], _helper_server_url(host, key), timeout=timeout)
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
                creds = run_credential_helper(store, _helper_server_url(host, keys[0] if keys else None),
                                              timeout=timeout)
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


def _hostname(url):
    return (urlsplit(url).hostname or "").lower()


class Authenticator(object):
    """Decides the Authorization header of every registry request, and what a 401 means.

    AuthenticatedTransport asks ``authorization(scopes)`` before a request and calls
    ``handle_unauthorized(response, scopes)`` on a 401; True means "retry, a better header
    is ready". ``explain_unauthorized`` is the one place that turns a final 401 into the
    error the user sees. Token requests go through the plain ``transport``, which knows
    nothing about authentication.
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
        self.withheld_realm = None
        # Sent with every token request; token services log it, tests count by it.
        self.client_id = CLIENT_ID

    # ----------------------------------------------------------------- state

    @property
    def has_credentials(self):
        return bool(self._bearer_token or (self.username and self._password) or self._identity_token)

    def login_credentials(self):
        """(username, password) for a password login (Docker Hub's API), or None when none apply."""
        if self.auth_type in ("anonymous", "none") or not (self.username and self._password):
            return None
        return self.username, self._password

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
        """HTTPS realms get credentials; a plain-HTTP realm only on the host name of a plain-HTTP registry.

        The port does not count: a self-hosted registry and its token service usually share a host
        on two ports, and a user who talks plain HTTP to that host already sends it credentials.
        """
        if urlsplit(realm).scheme.lower() == "https":
            return True
        registry = urlsplit(self.registry_url)
        return registry.scheme.lower() == "http" and _hostname(realm) == _hostname(self.registry_url)

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
            self.withheld_realm = _safe_realm(realm)
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
        response = self.transport.request("POST", realm, data=form,
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
        response = self.transport.request("GET", url, headers=headers, trace_name="token")
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
        errors = parse_error_body(payload)
        who = "user %s" % self.username if self.username else "anonymous access"
        kwargs = dict(status=status, errors=errors, registry=self.registry_url.split("://", 1)[-1],
                      action="get token")
        if self.credentials_withheld:
            return CredentialsWithheldError(
                "token service at %s refused an anonymous token; the credentials%s were withheld"
                % (_safe_realm(realm), " of user %s" % self.username if self.username else ""),
                realm=_safe_realm(realm), **kwargs)
        if status == 401:
            kwargs["hint"] = "check username and password (or the identity token) for this registry"
        elif status == 403:
            kwargs["hint"] = "the account is not allowed the requested access"
        cls = AuthenticationError if status in (401, 403) or status is None else RegistryError
        return cls("token service at %s refused %s" % (_safe_realm(realm), who), **kwargs)

    def explain_unauthorized(self, err, response, repository=None, reference=None, action=None, hint=None):
        """The error to raise for a final 401 (``err`` from errors.error_from_response)."""
        challenges = parse_challenges(response.headers.get("WWW-Authenticate", ""))
        insufficient = [c for c in challenges if c.error == "insufficient_scope"]
        common = dict(status=err.status, errors=err.errors, headers=err.headers, registry=err.registry,
                      repository=repository, reference=reference, action=action)
        if self.credentials_withheld:
            # Checked first: the registry refusing the anonymous token is not a permission problem.
            return CredentialsWithheldError(
                (err.message + "; " if err.message else "") + "the registry refused the anonymous token, "
                "the credentials%s were withheld" % (" of user %s" % self.username if self.username else ""),
                realm=self.withheld_realm, **common)
        sent = getattr(response, "sent_authorization", False)
        bearer = self.challenge is not None and self.challenge.scheme == "bearer"
        if sent and self.has_credentials and (insufficient or bearer):
            wanted = insufficient[0].scope if insufficient else None
            return InsufficientScopeError(err.message, challenge=err.challenge,
                                          hint=hint or _scope_hint(self.username, wanted), **common)
        if not self.has_credentials and hint is None:
            err.hint = "this registry needs credentials here: set username/password, bearer_token or auth_file"
        return err


def _scope_hint(username, wanted):
    """What a 401 with credentials means for the scope that was refused."""
    who = "user %s" % username if username else "the token"
    if wanted and wanted.startswith("registry:catalog"):
        return ("%s was granted less than this needs (%s); it may not list the catalog: ask for catalog access, "
                "or name the repositories instead" % (who, wanted))
    return "%s was granted less than this needs%s; it probably lacks push/delete permission on the repository" % (
        who, " (%s)" % wanted if wanted else "")


class AuthenticatedTransport(object):
    """A Transport with the registry's authentication wrapped around it (one direction only).

    ``request(..., scopes=..., authenticate=True)`` adds the Authorization header, learns the
    challenge, and retries once after a 401 when a better header is ready. Anything else
    (trace, retries, backoff, close) is the wrapped transport's.
    """

    def __init__(self, transport, authenticator):
        self.http = transport
        self.auth = authenticator

    def __getattr__(self, name):
        return getattr(self.http, name)

    def request(self, method, url, scopes=None, headers=None, data=None, size=None, authenticate=True, **kwargs):
        body = data if isinstance(data, RequestBody) else RequestBody(data, size)
        if not authenticate:
            return self.http.request(method, url, headers=headers, data=body, **kwargs)
        auth = self.auth
        auth_retried = False
        while True:
            send_headers = dict(headers or {})
            if not body.replayable and not auth.challenge_known:
                # A 401 would waste the stream: learn the challenge first.
                self.discover_challenge(url)
            sent_authorization = auth.authorization(scopes)
            if sent_authorization:
                send_headers["Authorization"] = sent_authorization
            response = self.http.request(method, url, headers=send_headers, data=body, **kwargs)
            if response.status_code == 401 and not auth_retried:
                if body.rewind() and auth.handle_unauthorized(response, scopes, sent_authorization):
                    response.close()
                    auth_retried = True
                    continue
                # Remember the challenge even when no retry is possible.
                auth.learn_challenge(response.headers.get("WWW-Authenticate", ""))
            response.sent_authorization = bool(sent_authorization)
            return response

    def discover_challenge(self, url):
        parts = urlsplit(url)
        response = self.http.request("GET", "%s://%s/v2/" % (parts.scheme, parts.netloc), trace_name="ping")
        if response.status_code == 401:
            self.auth.learn_challenge(response.headers.get("WWW-Authenticate", ""))
        else:
            self.auth.mark_open()
        response.close()


def _safe_realm(realm):
    parts = urlsplit(realm)
    return "%s://%s%s" % (parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path)


__all__ = [
    "AUTH_TYPES", "AuthenticatedTransport", "Authenticator", "CATALOG_SCOPE", "Challenge", "Credentials", "TokenCache",
    "load_credentials", "normalize_scopes", "parse_challenges", "preferred_challenge", "repository_scope",
    "run_credential_helper",
]
