"""Start, find and stop the real registry servers the tests run against.

Everything lives in one state directory (see `resolve_state_dir`): the generated CA, registry
configs and storage, logs, `env.json`/`env.sh` for the tests, and `state.json` with the PIDs.
A file lock on `<state>/.lock` serialises concurrent starters (pytest-xdist workers, parallel make
targets). Each process runs in its own session, so `stop` signals whole process groups.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from .pki import CertificateAuthority

DEFAULT_STATE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "oci-registry-tests")
STATE_DIR_ENV = "OCI_REGISTRY_TEST_STATE"
TOKEN_EXPIRY_ENV = "OCI_REGISTRY_TEST_TOKEN_EXPIRY"
DEFAULT_TOKEN_EXPIRY = 60
TOKEN_SERVICE = "oci-registry-test"
TOKEN_ISSUER = "oci-registry-test-issuer"
REGISTRY_BINARY = "docker-registry"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 3

PLAIN_VARIANTS = ("plain", "plain2", "plaintoken", "plain_nodelete")
# plaintoken: a plain-HTTP registry whose token realm is the token service's plain-HTTP port on
# the same host (the usual self-hosted layout); same users and passwords as token.
VARIANTS = ("plain", "plain2", "tls", "basic", "token", "plaintoken", "plain_nodelete")
# Plain HTTP with storage.delete.enabled false: what registries that refuse deletes answer (405 UNSUPPORTED).
DELETES_DISABLED = ("plain_nodelete",)
USERS = {"basic": ("admin", "alice"), "token": ("admin", "puller")}
TOKEN_VARIANTS = ("token", "plaintoken")
TOKEN_SERVICE_NAME = "tokenservice"

# Registries own the processes they start in this interpreter: stop() reaps them so no zombie
# stays in /proc after the test session that started them.
_children: dict[int, subprocess.Popen] = {}


class HarnessError(RuntimeError):
    pass


class RegistryEnv(dict):
    """env.json as a plain dict whose repr masks passwords: pytest prints fixture values in failure reports."""

    def __repr__(self):
        def mask(value, key=None):
            if isinstance(value, dict):
                return {name: ("***" if key == "users" else mask(item, name)) for name, item in value.items()}
            return value
        return "RegistryEnv(%r)" % (mask(dict(self)),)


def resolve_state_dir(state_dir=None) -> str:
    return os.path.abspath(state_dir or os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR)


def _paths(state):
    return {
        "lock": os.path.join(state, ".lock"),
        "env_json": os.path.join(state, "env.json"),
        "env_sh": os.path.join(state, "env.sh"),
        "state_json": os.path.join(state, "state.json"),
        "ca": os.path.join(state, "ca"),
        "registries": os.path.join(state, "registries"),
        "token": os.path.join(state, "token"),
        "auth": os.path.join(state, "auth"),
        "leases": os.path.join(state, "leases"),
    }


def _write_json(path, data, mode=0o600):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (FileNotFoundError, ValueError):
        return None


@contextlib.contextmanager
def _locked(state):
    os.makedirs(state, mode=0o700, exist_ok=True)
    with open(_paths(state)["lock"], "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- processes ---------------------------------------------------------------------------------

def process_start_time(pid):
    """Kernel start time of a live, non-zombie process, or None; guards against PID reuse."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _is_alive(record):
    if not record.get("pid") or record.get("start_time") is None:
        return False
    return process_start_time(record["pid"]) == record["start_time"]


def _spawn(name, argv, log_path, cwd):
    log = open(log_path, "ab")  # pylint: disable=consider-using-with
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                   start_new_session=True, close_fds=True)
    finally:
        log.close()
    _children[process.pid] = process
    start_time = None
    for _attempt in range(100):
        start_time = process_start_time(process.pid)
        if start_time is not None or process.poll() is not None:
            break
        time.sleep(0.01)
    return {"name": name, "pid": process.pid, "start_time": start_time, "log": log_path}


def _signal_group(pid, signum):
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _reap(pid):
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]


def _gone(record):
    """True once the process has ended; for a child of ours, only once it has been reaped.

    A multi-threaded leader (the Go registry) shows as a zombie while its other threads still exit, and
    waitpid cannot reap it until they have: judging by /proc alone would leave that zombie behind.
    """
    if record["pid"] in _children:
        _reap(record["pid"])
        return record["pid"] not in _children
    return not _is_alive(record)


def _terminate(records):
    """SIGTERM every live process group, then SIGKILL what is left; raise if anything survives."""
    live = [record for record in records if _is_alive(record) or record.get("pid") in _children]
    for record in live:
        _signal_group(record["pid"], signal.SIGTERM)
    for signum, timeout in ((signal.SIGKILL, STOP_TIMEOUT), (None, STOP_TIMEOUT)):
        deadline = time.monotonic() + timeout
        while live and time.monotonic() < deadline:
            live = [record for record in live if not _gone(record)]
            if live:
                time.sleep(0.05)
        if not live or signum is None:
            break
        for record in live:
            _signal_group(record["pid"], signum)
    for record in records:
        _reap(record["pid"])
    if live:
        raise HarnessError("processes survived SIGKILL: %s" % ", ".join("%s (pid %d)" % (r["name"], r["pid"]) for r in live))


def _log_tail(path, lines=30):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


# --- network -----------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url, ca_path):
    """True if an HTTP server answers at url (any status, 401 included: an auth challenge is an answer)."""
    context = ssl.create_default_context(cafile=ca_path) if url.startswith("https") else None
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:  # nosec - URLs we built
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (OSError, ssl.SSLError):
        return False


def _post_json(url, body, ca_path):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10, context=ssl.create_default_context(cafile=ca_path)) as response:  # nosec
        return json.load(response)


def _wait_ready(record, url, ca_path, deadline):
    while time.monotonic() < deadline:
        if _answers(url, ca_path):
            return True
        child = _children.get(record["pid"])
        if child is not None and child.poll() is not None:
            return False
        time.sleep(0.1)
    return False


# --- configuration -----------------------------------------------------------------------------

def _registry_config(name, port, data_dir, ca, htpasswd_path=None, realm=None):
    # The registry parses YAML, and JSON is YAML, so no YAML library is needed here.
    http = {"addr": "127.0.0.1:%d" % port, "secret": secrets.token_hex(16), "headers": {"X-Content-Type-Options": ["nosniff"]}}
    if name not in PLAIN_VARIANTS:
        http["tls"] = {"certificate": ca.server_cert_path, "key": ca.server_key_path}
    config = {
        "version": "0.1",
        "log": {"level": "warn", "formatter": "text", "accesslog": {"disabled": True}, "fields": {"variant": name}},
        "storage": {"filesystem": {"rootdirectory": data_dir}, "delete": {"enabled": name not in DELETES_DISABLED},
                    "maintenance": {"uploadpurging": {"enabled": False}}},
        "http": http,
    }
    if name == "basic":
        config["auth"] = {"htpasswd": {"realm": "oci-registry-test-basic", "path": htpasswd_path}}
    elif name in TOKEN_VARIANTS:
        config["auth"] = {"token": {"realm": realm, "service": TOKEN_SERVICE, "issuer": TOKEN_ISSUER, "rootcertbundle": ca.ca_path}}
    return config


def _htpasswd_lines(users):
    lines = []
    for user, password in users.items():
        # -i reads the password from stdin, so it never shows up in a process listing.
        result = subprocess.run(["htpasswd", "-B", "-i", "-n", user], input=password.encode(), capture_output=True, check=False)
        if result.returncode != 0:
            raise HarnessError("htpasswd failed: %s" % result.stderr.decode(errors="replace").strip())
        lines.append(result.stdout.decode().strip())
    return "\n".join(lines) + "\n"


def _write_skopeo_authfiles(paths, env):
    os.makedirs(paths["auth"], mode=0o700, exist_ok=True)
    for variant, info in env["registries"].items():
        for user, password in info.get("users", {}).items():
            auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
            _write_json(os.path.join(paths["auth"], "%s-%s.json" % (variant, user)), {"auths": {info["host"]: {"auth": auth}}})
    # An authfile with no entries: "anonymous" without reading the caller's own docker/containers credentials.
    _write_json(os.path.join(paths["auth"], "anonymous.json"), {"auths": {}})


def env_exports(env) -> str:
    """The env.json content as shell exports (OCI_REGISTRY_<VARIANT>_URL and friends)."""
    values = {"OCI_REGISTRY_TEST_STATE": env["state_dir"], "OCI_REGISTRY_CA_PATH": env["ca_path"], "OCI_REGISTRY_CERT_DIR": env["cert_dir"]}
    for variant in sorted(env["registries"]):
        info = env["registries"][variant]
        prefix = "OCI_REGISTRY_%s_" % variant.upper()
        values[prefix + "URL"] = info["url"]
        values[prefix + "HOST"] = info["host"]
        for user, password in info.get("users", {}).items():
            values["%s%s_PASSWORD" % (prefix, user.upper())] = password
        for key in ("realm", "service", "stats_url", "config_url"):
            if key in info:
                values[prefix + key.upper()] = info[key]
    return "".join("export %s=%s\n" % (key, shlex.quote(str(value))) for key, value in values.items())


# --- start / stop --------------------------------------------------------------------------------

def _clear_runtime(paths):
    for key in ("env_json", "env_sh", "state_json"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(paths[key])
    for key in ("ca", "registries", "token", "auth"):
        shutil.rmtree(paths[key], ignore_errors=True)


def _stop_locked(state):
    paths = _paths(state)
    recorded = _read_json(paths["state_json"]) or {}
    records = list(recorded.get("processes", {}).values())
    try:
        _terminate(records)
    finally:
        _clear_runtime(paths)
    return [record["pid"] for record in records]


def _start_token_service(paths, ca, users, token_expiry):
    os.makedirs(paths["token"], mode=0o700, exist_ok=True)
    port = free_port()
    plain_port = free_port()
    config_path = os.path.join(paths["token"], "config.json")
    _write_json(config_path, {
        "port": port, "plain_port": plain_port, "certfile": ca.server_cert_path, "keyfile": ca.server_key_path,
        "signing_key": ca.signing_key_path, "signing_cert_chain": ca.signing_cert_path,
        "issuer": TOKEN_ISSUER, "service": TOKEN_SERVICE, "users": users, "token_expiry": token_expiry,
    })
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokenserver.py")
    record = _spawn(TOKEN_SERVICE_NAME, [sys.executable, script, config_path], os.path.join(paths["token"], "token.log"), paths["token"])
    return record, port, plain_port


def _start_registry(paths, name, ca, htpasswd_path, realm):
    directory = os.path.join(paths["registries"], name)
    data_dir = os.path.join(directory, "data")
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    port = free_port()
    config_path = os.path.join(directory, "config.yml")
    _write_json(config_path, _registry_config(name, port, data_dir, ca, htpasswd_path, realm))
    record = _spawn(name, [REGISTRY_BINARY, "serve", config_path], os.path.join(directory, "registry.log"), directory)
    return record, port


def _start_locked(state, token_expiry, owner):
    paths = _paths(state)
    _stop_locked(state)
    if shutil.which(REGISTRY_BINARY) is None:
        raise HarnessError("%s not found; install the Debian package docker-registry" % REGISTRY_BINARY)
    ca = CertificateAuthority(paths["ca"]).create()
    users = {variant: {user: secrets.token_urlsafe(18) for user in names} for variant, names in USERS.items()}
    htpasswd_path = os.path.join(paths["ca"], "htpasswd")
    with open(os.open(htpasswd_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write(_htpasswd_lines(users["basic"]))

    processes = {}
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        record, token_port, plain_token_port = _start_token_service(paths, ca, users["token"], token_expiry)
        processes[TOKEN_SERVICE_NAME] = record
        _write_json(paths["state_json"], {"owner": owner, "harness_version": harness_version(), "processes": processes})
        token_base = "https://127.0.0.1:%d" % token_port
        plain_token_base = "http://127.0.0.1:%d" % plain_token_port
        for base in (token_base, plain_token_base):
            if not _wait_ready(record, base + "/healthz", ca.ca_path, deadline):
                raise HarnessError("token service did not become ready:\n" + _log_tail(record["log"]))
        realms = {"token": token_base + "/token", "plaintoken": plain_token_base + "/token"}

        registries = {}
        pending = {}
        for name in VARIANTS:
            record, port = _start_registry(paths, name, ca, htpasswd_path, realms.get(name))
            processes[name] = record
            pending[name] = port
            _write_json(paths["state_json"], {"owner": owner, "harness_version": harness_version(), "processes": processes})
        # All registries boot in parallel; a lost race for a port (another process grabbed it) gets a new one.
        for name in VARIANTS:
            for attempt in range(PORT_ATTEMPTS):
                scheme = "http" if name in PLAIN_VARIANTS else "https"
                url = "%s://127.0.0.1:%d" % (scheme, pending[name])
                if _wait_ready(processes[name], url + "/v2/", ca.ca_path, deadline):
                    break
                log = _log_tail(processes[name]["log"])
                if "address already in use" not in log or attempt == PORT_ATTEMPTS - 1:
                    raise HarnessError("registry %s did not answer at %s/v2/ within %.0fs; log tail:\n%s" % (name, url, READY_TIMEOUT, log))
                _terminate([processes[name]])
                processes[name], pending[name] = _start_registry(paths, name, ca, htpasswd_path, realms.get(name))
                _write_json(paths["state_json"], {"owner": owner, "harness_version": harness_version(), "processes": processes})
            registries[name] = {"url": url, "host": url.split("://", 1)[1]}
            if name in users:
                registries[name]["users"] = users[name]
            elif name == "plaintoken":
                registries[name]["users"] = users["token"]
        registries["token"].update({
            "realm": token_base + "/token", "service": TOKEN_SERVICE, "issuer": TOKEN_ISSUER,
            "stats_url": token_base + "/stats", "config_url": token_base + "/config", "token_expiry": token_expiry,
        })
        registries["plaintoken"].update({
            "realm": realms["plaintoken"], "service": TOKEN_SERVICE, "issuer": TOKEN_ISSUER,
            "stats_url": plain_token_base + "/stats",
        })
    except BaseException:
        sys.stderr.write("tests/registries: start failed, stopping what was started\n")
        for record in processes.values():
            sys.stderr.write("--- %s log tail (%s)\n%s\n" % (record["name"], record["log"], _log_tail(record["log"], 15)))
        _stop_locked(state)
        raise

    env = {"state_dir": state, "ca_path": ca.ca_path, "cert_dir": ca.cert_dir, "registries": registries}
    _write_skopeo_authfiles(paths, env)
    _write_json(paths["env_json"], env)
    with open(os.open(paths["env_sh"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write(env_exports(env))
    return RegistryEnv(env)


def harness_version():
    """Hash of the code that shapes running servers: registries started by older code are restarted when possible."""
    digest = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("launcher.py", "pki.py", "tokenserver.py"):
        with open(os.path.join(here, name), "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]


def _healthy_env(state):
    """The env of a complete, running set of registries in state, or None (nothing there, or stale)."""
    paths = _paths(state)
    env = _read_json(paths["env_json"])
    recorded = _read_json(paths["state_json"])
    if not env or not recorded:
        return None
    records = recorded.get("processes", {})
    if set(records) != set(VARIANTS) | {TOKEN_SERVICE_NAME} or not all(_is_alive(record) for record in records.values()):
        return None
    urls = [info["url"] + "/v2/" for info in env["registries"].values()] + [
        env["registries"][name]["realm"].rsplit("/", 1)[0] + "/healthz" for name in TOKEN_VARIANTS if name in env["registries"]]
    if not all(_answers(url, env["ca_path"]) for url in urls):
        return None
    return RegistryEnv(env)


def _token_expiry_default(token_expiry):
    if token_expiry is not None:
        return int(token_expiry)
    return int(os.environ.get(TOKEN_EXPIRY_ENV) or DEFAULT_TOKEN_EXPIRY)


def _set_token_expiry_locked(state, env, token_expiry):
    if env["registries"]["token"].get("token_expiry") == token_expiry:
        return env
    _post_json(env["registries"]["token"]["config_url"], {"token_expiry": token_expiry}, env["ca_path"])
    env["registries"]["token"]["token_expiry"] = token_expiry
    _write_json(_paths(state)["env_json"], env)
    return env


def _ensure_locked(state, token_expiry, owner):
    env = _healthy_env(state)
    if env is None:
        return _start_locked(state, _token_expiry_default(token_expiry), owner)
    recorded = _read_json(_paths(state)["state_json"])
    if recorded.get("harness_version") != harness_version():
        if not _live_leases(_paths(state)):
            sys.stderr.write("tests/registries: running registries in %s come from other harness code, restarting them\n" % state)
            return _start_locked(state, _token_expiry_default(token_expiry), recorded.get("owner", owner))
        sys.stderr.write("tests/registries: running registries in %s come from other harness code, but test sessions still use them; "
                         "reusing (restart later with: python3 tests/registries start --restart)\n" % state)
    if owner == "cli":
        # Somebody ran `start` by hand: from now on no test session may stop these registries.
        if recorded.get("owner") != "cli":
            recorded["owner"] = "cli"
            _write_json(_paths(state)["state_json"], recorded)
    if token_expiry is not None:
        env = _set_token_expiry_locked(state, env, int(token_expiry))
    return env


# --- public API ----------------------------------------------------------------------------------

def load_env(state_dir=None) -> dict:
    """The env.json of running registries; raises HarnessError when they were not started."""
    state = resolve_state_dir(state_dir)
    env = _read_json(_paths(state)["env_json"])
    if env is None:
        raise HarnessError("no registries in %s; run: python3 tests/registries start --state-dir %s" % (state, shlex.quote(state)))
    return RegistryEnv(env)


def is_running(state_dir=None) -> bool:
    return _healthy_env(resolve_state_dir(state_dir)) is not None


def ensure_started(state_dir=None, token_expiry=None, owner="api") -> dict:
    """Reuse running registries when they all answer, else (re)start them; return env.json.

    token_expiry (seconds) applies to reused registries too, live; default from
    OCI_REGISTRY_TEST_TOKEN_EXPIRY, else 60. `owner` is recorded so sessions know whether they may stop.
    """
    state = resolve_state_dir(state_dir)
    with _locked(state):
        return _ensure_locked(state, token_expiry, owner)


def start(state_dir=None, token_expiry=None, owner="cli") -> dict:
    """Always a fresh set: stops whatever the state dir records, then starts new registries."""
    state = resolve_state_dir(state_dir)
    with _locked(state):
        return _start_locked(state, _token_expiry_default(token_expiry), owner)


def stop(state_dir=None) -> list:
    """Stop every recorded process group, verify they are gone, remove runtime files; return the PIDs."""
    state = resolve_state_dir(state_dir)
    with _locked(state):
        return _stop_locked(state)


def set_token_expiry(seconds, state_dir=None) -> dict:
    """Change the lifetime of tokens issued from now on (negative: already expired); return env."""
    state = resolve_state_dir(state_dir)
    with _locked(state):
        return _set_token_expiry_locked(state, load_env(state), int(seconds))


def process_ids(state_dir=None) -> dict:
    recorded = _read_json(_paths(resolve_state_dir(state_dir))["state_json"]) or {}
    return {name: record["pid"] for name, record in recorded.get("processes", {}).items()}


def _new_lease_path(paths):
    # pid and start time tell whether the holder still lives; the random part lets one process hold several leases.
    return os.path.join(paths["leases"], "%d-%s-%s" % (os.getpid(), process_start_time(os.getpid()), secrets.token_hex(4)))


def _live_leases(paths):
    try:
        names = os.listdir(paths["leases"])
    except FileNotFoundError:
        return []
    live = []
    for name in names:
        pid, _sep, rest = name.partition("-")
        start_time = rest.partition("-")[0]
        if pid.isdigit() and str(process_start_time(int(pid))) == start_time:
            live.append(name)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(paths["leases"], name))
    return live


@contextlib.contextmanager
def session(state_dir=None, token_expiry=None):
    """Registries for the duration of a test session, shared by concurrent sessions on one state dir.

    Each session holds a lease; registries a session started are stopped when the last lease goes,
    registries started by the CLI (`owner` cli) are left running.
    """
    state = resolve_state_dir(state_dir)
    paths = _paths(state)
    with _locked(state):
        env = _ensure_locked(state, token_expiry, "session")
        os.makedirs(paths["leases"], mode=0o700, exist_ok=True)
        lease = _new_lease_path(paths)
        with open(lease, "w", encoding="ascii"):
            pass
    try:
        yield env
    finally:
        with _locked(state):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lease)
            recorded = _read_json(paths["state_json"]) or {}
            if recorded.get("owner") == "session" and not _live_leases(paths):
                _stop_locked(state)
