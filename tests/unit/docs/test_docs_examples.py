# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The examples in README.md and the guides (docs/docsite/rst/*.rst) run as written.

Every code block carries a marker right before it (only blank lines between), in rst a comment
``.. docs-test: ...``, in Markdown ``<!-- docs-test: ... -->``:

``run PRIMARY[+SECONDARY] [env=awx] [idempotent] [replace=OLD=>NEW ...]``
    A playbook (a list of plays) or a list of tasks, run against real registries from the launcher
    (tests/registries, a private set for this test): PRIMARY is ``plain``, ``tls``, ``basic``,
    ``token`` or ``quickstart`` (the registry the quick start's ``registry-config`` block starts,
    with ``docker-registry serve``); SECONDARY defaults to ``plain2``. ``idempotent``: where the
    text promises that a second run changes nothing, the block runs twice and its second run must
    report no change.
``syntax-only REASON``
    Only ``ansible-playbook --syntax-check`` (Docker Hub, quay.io: no network in tests).
``skip REASON``
    Not Ansible: shell commands, Python, an ansible-builder file, or a play that needs a
    collection or server the test environment lacks. The reason is required.
``registry-config``
    The registry configuration of the quick start (see ``quickstart`` above).

What the test changes in a ``run`` block before it runs, and nothing else:

- host names: ``registry.example.com``, ``staging.example.com``, ``harbor.example.com``,
  ``registry.local:5000``, ``127.0.0.1:5000`` and ``127.0.0.1:5050`` become PRIMARY;
  ``prod.example.com``, ``prod-eu.example.com``, ``prod-us.example.com`` and
  ``backup.example.com`` become SECONDARY. An ``http://`` registry keeps its scheme where the
  documentation wrote a bare host (references then carry ``http://``, which they allow);
- on ``basic`` and ``token`` every ``username`` becomes the harness user ``admin``; the password
  variables of ``SECRET_VARS`` are defined as play variables holding PRIMARY's admin password;
- ``/etc/pki/registry-ca.pem`` becomes the harness CA and ``/tmp/`` a temporary directory; the
  harness CA stands in for the system trust store (``REQUESTS_CA_BUNDLE``), except in ``env=awx``;
- ``env=awx`` runs the block with the environment an AWX job gets from the two credential types
  (``REGISTRY_*`` for PRIMARY, ``OCI_DEST_REGISTRY_*`` for SECONDARY, CA through the CA field);
- ``replace=OLD=>NEW`` literal replacements, only to shorten waits (``poll: 30``).

Task lists are wrapped in a play (``hosts: localhost``, ``connection: local``); plays are run as
written with ``-i localhost,``, so a play without ``connection: local`` fails (it tries SSH).
``tested_digest``, ``promote_tag`` and the password variables are play variables. Each registry
used as PRIMARY is seeded first with the images the examples name (``seed``). All ``run`` blocks
of one environment go through one ``ansible-playbook`` process.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import requests
import yaml

from ansible_collections.oci.registry.tests.registries import images, launcher

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DOCS = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "docsite", "rst", "*.rst")))
OUTPUT = os.path.join(ROOT, "tests", "output", "docs-examples.json")

RST_MARKER = re.compile(r"^\.\. docs-test:(.*)$")
MD_MARKER = re.compile(r"^<!-- docs-test:(.*?)-->\s*$")
RST_CODE = re.compile(r"^(\s*)\.\. code-block::\s*(\S*)")
MD_FENCE = re.compile(r"^```(\S*)\s*$")

VARIANTS = ("plain", "plain2", "tls", "basic", "token", "quickstart")
QUICKSTART = "plain-quickstart"  # "plain..." tells the harness's skopeo wrapper that it is plain HTTP
PRIMARY_HOSTS = ("registry.example.com", "staging.example.com", "harbor.example.com", "registry.local:5000",
                 "127.0.0.1:5000", "127.0.0.1:5050")
SECONDARY_HOSTS = ("prod.example.com", "prod-eu.example.com", "prod-us.example.com", "backup.example.com")
SECRET_VARS = ("vault_registry_password", "registry_password", "vault_robot_token", "vault_prod_password",
               "prod_password", "staging_password", "mirror_password")
DOC_CA = "/etc/pki/registry-ca.pem"
QUICKSTART_ADDR = "127.0.0.1:5050"
QUICKSTART_DIR = "/tmp/oci-registry-try"


@dataclass
class Block:
    path: str
    line: int
    language: str
    text: str
    marker: str | None
    kind: str = ""
    reason: str = ""
    primary: str = ""
    secondary: str = "plain2"
    env: str = ""
    idempotent: bool = False
    replacements: list = field(default_factory=list)

    @property
    def where(self):
        return "%s:%d" % (os.path.relpath(self.path, ROOT), self.line)


def _rst_blocks(path, lines):
    marker = None
    index = 0
    while index < len(lines):
        line = lines[index]
        found = RST_MARKER.match(line)
        code = RST_CODE.match(line)
        if found:
            marker = found.group(1).strip()
        elif code:
            indent = len(code.group(1))
            start = index + 1
            body = []
            index += 1
            while index < len(lines) and (not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent):
                body.append(lines[index])
                index += 1
            while body and (not body[0].strip() or body[0].strip().startswith(":")):
                body.pop(0)
                start += 1
            width = min((len(text) - len(text.lstrip()) for text in body if text.strip()), default=0)
            yield Block(path, start + 1, code.group(2), "\n".join(text[width:] for text in body).strip("\n") + "\n",
                        marker)
            marker = None
            continue
        elif line.strip():
            marker = None
        index += 1


def _md_blocks(path, lines):
    marker = None
    index = 0
    while index < len(lines):
        line = lines[index]
        found = MD_MARKER.match(line)
        fence = MD_FENCE.match(line)
        if found:
            marker = found.group(1).strip()
        elif fence:
            start = index + 1
            index += 1
            body = []
            while index < len(lines) and not lines[index].startswith("```"):
                body.append(lines[index])
                index += 1
            yield Block(path, start + 1, fence.group(1), "\n".join(body) + "\n", marker)
            marker = None
        elif line.strip():
            marker = None
        index += 1


def parse_marker(block):
    """Fill in kind, reason, variants, env and replacements; return a list of problems."""
    if not block.marker:
        return ["%s: code block without a docs-test marker" % block.where]
    words = shlex.split(block.marker)
    block.kind = words[0]
    rest = words[1:]
    if block.kind in ("skip", "syntax-only"):
        block.reason = " ".join(rest)
        return [] if block.reason else ["%s: '%s' needs a reason" % (block.where, block.kind)]
    if block.kind == "registry-config":
        return [] if not rest else ["%s: registry-config takes no arguments" % block.where]
    if block.kind != "run":
        return ["%s: unknown docs-test marker %r" % (block.where, block.kind)]
    problems = []
    if not rest or "=" in rest[0]:
        return ["%s: 'run' needs the registry variant" % block.where]
    variants = rest[0].split("+")
    block.primary = variants[0]
    if len(variants) > 1:
        block.secondary = variants[1]
    for variant in variants:
        if variant not in VARIANTS:
            problems.append("%s: unknown variant %r" % (block.where, variant))
    for word in rest[1:]:
        key, _sep, value = word.partition("=")
        if key == "env" and value == "awx":
            block.env = value
        elif word == "idempotent":
            block.idempotent = True
        elif key == "replace" and "=>" in value:
            old, new = value.split("=>", 1)
            if old not in block.text:
                problems.append("%s: replace: %r is not in the block" % (block.where, old))
            block.replacements.append((old, new))
        else:
            problems.append("%s: unknown run option %r" % (block.where, word))
    if block.language != "yaml":
        problems.append("%s: only yaml blocks can run" % block.where)
    return problems


def collect():
    blocks = []
    for path in DOCS:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        blocks.extend((_md_blocks if path.endswith(".md") else _rst_blocks)(path, lines))
    return blocks


BLOCKS = collect()


def test_every_block_has_a_valid_marker():
    problems = []
    for block in BLOCKS:
        problems.extend(parse_marker(block))
    assert not problems, "\n".join(problems)
    kinds = [block.kind for block in BLOCKS]
    # The examples that matter are really run, not waved through.
    assert kinds.count("run") >= 10 and kinds.count("registry-config") == 1, kinds


def test_playbook_blocks_are_yaml_plays_or_tasks():
    for block in BLOCKS:
        parse_marker(block)
        if block.kind not in ("run", "syntax-only"):
            continue
        data = yaml.safe_load(block.text)
        assert isinstance(data, list) and data, "%s: not a list of plays or tasks" % block.where
        assert all(isinstance(item, dict) for item in data), block.where


# --------------------------------------------------------------------------------------------- helpers

def _is_playbook(data):
    return all("hosts" in item or "import_playbook" in item for item in data)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _host_of(url):
    return url.split("://", 1)[1]


def substitute(block, env, tmp):
    """The block's text with the documented substitutions applied."""
    registries = env["registries"]
    text = block.text
    for old, new in block.replacements:
        text = text.replace(old, new)

    def target(variant):
        return registries[QUICKSTART if variant == "quickstart" else variant]

    for hosts, variant in ((PRIMARY_HOSTS, block.primary), (SECONDARY_HOSTS, block.secondary)):
        url = target(variant)["url"]
        for host in hosts:
            pattern = re.compile(r"(https?://)?" + re.escape(host) + r"(?![\w.-])")
            text = pattern.sub(lambda match, url=url: url if match.group(1) or url.startswith("http://") else _host_of(url),
                               text)
    if target(block.primary).get("users"):
        text = re.sub(r"(username:\s*)(['\"]?)[^'\"\s]+\2", r"\1admin", text)
        text = re.sub(r"(username=)(['\"])[^'\"]+\2", r"\1'admin'", text)
    text = text.replace("/tmp/", os.path.join(tmp, "files") + "/").replace(DOC_CA, env["ca_path"])
    return text


def _password(env, variant):
    return env["registries"][variant].get("users", {}).get("admin", "unused-on-an-open-registry")


SECOND_RUN = " (second run)"


def plays_for(block, env, tmp, facts):
    data = yaml.safe_load(substitute(block, env, tmp))
    if not _is_playbook(data):
        data = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": data}]
    if block.idempotent:
        data = data + [dict(play, name=play.get("name", "example") + SECOND_RUN) for play in yaml.safe_load(
            yaml.safe_dump(data))]
    primary = QUICKSTART if block.primary == "quickstart" else block.primary
    for play in data:
        play["name"] = "[%s] %s" % (block.where, play.get("name", "example"))
        play_vars = play.setdefault("vars", {})
        for name in SECRET_VARS:
            play_vars.setdefault(name, _password(env, primary))
        for name, value in facts.items():
            play_vars.setdefault(name, value)
    return data


def awx_environment(env, block, tmp):
    """What the two AWX credential types inject (see extensions/awx/credential_types)."""
    auth_file = os.path.join(tmp, "awx-auth.json")
    with open(auth_file, "w") as handle:
        handle.write('{"auths": {}}')
    variables = {}
    # The same user name on both credentials, as AWX sites often have: the destination must still get
    # its own password (the connection rule once dropped a user name equal to REGISTRY_USERNAME).
    for prefix, variant, user in (("REGISTRY_", block.primary, "admin"), ("OCI_DEST_REGISTRY_", block.secondary, "admin")):
        registry = env["registries"][variant]
        has_users = user in registry.get("users", {})
        variables.update({
            prefix + "URL": registry["url"], prefix + "USERNAME": user if has_users else "",
            prefix + "PASSWORD": registry["users"][user] if has_users else "", prefix + "TOKEN": "",
            prefix + "VALIDATE_CERTS": "true", prefix + "AUTH_FILE": auth_file,
            prefix + "CA_PATH": env["ca_path"] if registry["url"].startswith("https://") else "",
        })
    return variables


def start_playbook(plays, tmp, name, extra_env=None, syntax_only=False):
    """Start ansible-playbook on ``plays``; returns a Popen whose output goes to files (see finish)."""
    playbook = os.path.join(tmp, name + ".yml")
    with open(playbook, "w") as handle:
        yaml.safe_dump(plays, handle, sort_keys=False)
    # The directory holding ansible_collections/ that this test imported the collection from (the
    # .build tree, or ansible-test's copy); ROOT may be a checkout outside of any such directory.
    collection = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(launcher.__file__))))
    collections = os.path.dirname(os.path.dirname(os.path.dirname(collection)))
    env = {
        "HOME": os.environ.get("HOME", tmp), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ANSIBLE_COLLECTIONS_PATH": collections, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCAL_TEMP": os.path.join(tmp, "ansible-tmp"), "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_HOST_KEY_CHECKING": "0", "ANSIBLE_SSH_RETRIES": "0",
        "ANSIBLE_TIMEOUT": "5", "ANSIBLE_PIPELINING": "1", "PYTHONPATH": "",
    }
    env.update(extra_env or {})
    argv = [sys.executable, "-m", "ansible.cli.playbook", "-i", "localhost,", playbook]
    if syntax_only:
        argv.append("--syntax-check")
    stdout = open(os.path.join(tmp, name + ".out"), "w+b")
    stderr = open(os.path.join(tmp, name + ".err"), "w+b")
    process = subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, cwd=tmp)
    process.outputs = (stdout, stderr)
    return process


def finish(process):
    """Wait for a process from start_playbook; returns (returncode, stdout, stderr)."""
    try:
        returncode = process.wait(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        returncode = process.wait()
    texts = []
    for handle in process.outputs:
        handle.seek(0)
        texts.append(handle.read().decode("utf-8", "replace"))
        handle.close()
    return returncode, texts[0], texts[1]


def run_playbook(plays, tmp, name, extra_env=None, syntax_only=False):
    return finish(start_playbook(plays, tmp, name, extra_env, syntax_only))


def _failed_block(stdout):
    """The [file:line] of the last play that started before the first failure, for the message."""
    current = None
    for line in stdout.splitlines():
        match = re.match(r"^PLAY \[\[(.+?)\]", line)
        if match:
            current = match.group(1)
        if re.match(r"^(fatal|failed):", line) or "ERROR!" in line:
            return current
    return current


def _assert_ran(returncode, stdout, stderr, what):
    tail = (stdout[-6000:] + "\n" + stderr[-3000:]).strip()
    assert returncode == 0, "%s failed in %s:\n%s" % (what, _failed_block(stdout) or "(before any play)", tail)
    # Ansible only warns about these; in documentation they are bugs.
    assert "reserved name" not in stdout + stderr, "Ansible warns about a reserved variable name:\n" + tail
    assert "UNREACHABLE" not in stdout, tail


# --------------------------------------------------------------------------------------------- seeding

def seed(env, variant, text):
    """The images the examples name, deterministic (the same digests on every registry).

    Only the repositories that ``text`` (the blocks run against this registry) mentions are pushed.
    """
    facts = {"promote_tag": "1.4.2"}
    if "team/app" in text:
        app = images.push_index(env, variant, "team/app", "1.4.2", seed="docs/team/app/1.4.2",
                                created="2026-03-01T12:00:00Z")
        facts["tested_digest"] = app.digest
        images.push_oci_image(env, variant, "team/app", "1.4.0-rc1", seed="docs/team/app/1.4.0-rc1",
                              created="2026-02-01T12:00:00Z")
    if "staging/app" in text:
        images.push_oci_image(env, variant, "staging/app", "1.4.2", seed="docs/staging/app")
    if "ml/model" in text:
        images.push_oci_image(env, variant, "ml/model", "2025-01", seed="docs/ml/model")
    if "alpine" in text:
        images.push_index(env, variant, "alpine", "3.20", seed="docs/alpine/3.20")
    return facts


class QuickstartRegistry:
    """The registry of the quick start, from its registry-config block, on a free port."""

    def __init__(self, block, tmp):
        port = _free_port()
        text = block.text.replace(QUICKSTART_ADDR, "127.0.0.1:%d" % port).replace(QUICKSTART_DIR, tmp)
        assert str(port) in text and tmp in text, "the quick start's registry config no longer names %s and %s" % (
            QUICKSTART_ADDR, QUICKSTART_DIR)
        self.config = os.path.join(tmp, "config.yml")
        with open(self.config, "w") as handle:
            handle.write(text)
        self.url = "http://127.0.0.1:%d" % port
        self.log = open(os.path.join(tmp, "registry.log"), "wb")
        self.process = subprocess.Popen(["docker-registry", "serve", self.config], stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, "docker-registry serve exited: see %s" % self.log.name
            try:
                if requests.get(self.url + "/v2/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the quick start's registry did not answer"
            time.sleep(0.2)

    def close(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


# --------------------------------------------------------------------------------------------- the tests

def test_syntax_only_blocks(tmp_path):
    blocks = [block for block in BLOCKS if not parse_marker(block) and block.kind == "syntax-only"]
    assert blocks
    plays = []
    for block in blocks:
        data = yaml.safe_load(block.text)
        if not _is_playbook(data):
            data = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": data}]
        for play in data:
            play["name"] = "[%s] %s" % (block.where, play.get("name", "example"))
        plays.extend(data)
    returncode, stdout, stderr = run_playbook(plays, str(tmp_path), "syntax", syntax_only=True)
    _assert_ran(returncode, stdout, stderr, "--syntax-check")


def test_runnable_blocks(tmp_path):
    for block in BLOCKS:
        assert not parse_marker(block), block.where
    runs = [block for block in BLOCKS if block.kind == "run"]
    config = [block for block in BLOCKS if block.kind == "registry-config"]
    tmp = str(tmp_path)
    os.makedirs(os.path.join(tmp, "quickstart"))
    os.makedirs(os.path.join(tmp, "files"))
    quickstart = QuickstartRegistry(config[0], os.path.join(tmp, "quickstart")) if config else None
    try:
        with launcher.session(state_dir=os.path.join(tmp, "registries")) as env:
            env = dict(env)
            env["registries"] = dict(env["registries"])
            if quickstart:
                env["registries"][QUICKSTART] = {"url": quickstart.url, "host": _host_of(quickstart.url)}
            facts = {}
            for variant in sorted(set(block.primary for block in runs)):
                text = "".join(block.text for block in runs if block.primary == variant)
                facts.update(seed(env, QUICKSTART if variant == "quickstart" else variant, text))
            groups = {}
            for block in runs:
                key = (block.env, block.primary, block.secondary) if block.env else ("",)
                groups.setdefault(key, []).append(block)
            counts = {"run_blocks": len(runs), "processes": 0, "plays": 0}
            # The groups are independent (separate repositories or registries), so they run side by side.
            started = []
            for key, members in sorted(groups.items()):
                plays = [play for block in members for play in plays_for(block, env, tmp, facts)]
                extra = awx_environment(env, members[0], tmp) if key[0] == "awx" else {"REQUESTS_CA_BUNDLE": env["ca_path"]}
                started.append((members, start_playbook(plays, tmp, "run-%d" % counts["processes"], extra)))
                counts["processes"] += 1
                counts["plays"] += len(plays)
            # Every process ends before any assertion, so none outlives the registries.
            finished = [(members, finish(process)) for members, process in started]
            for members, (returncode, stdout, stderr) in finished:
                _assert_ran(returncode, stdout, stderr, "ansible-playbook")
                ran = set(re.findall(r"^PLAY \[\[(.+?)\]", stdout, re.M))
                for play in re.split(r"^(?=PLAY )", stdout, flags=re.M):
                    header = play.split("\n", 1)[0]
                    if SECOND_RUN in header:
                        assert not re.search(r"^changed:", play, re.M), "a second run changed something:\n" + play
                assert ran == set(block.where for block in members), "not every example ran: %s" % sorted(
                    set(block.where for block in members) - ran)
    finally:
        if quickstart:
            quickstart.close()
    _summary(counts)


def _summary(counts):
    kinds = {}
    for block in BLOCKS:
        kinds.setdefault(block.kind, []).append(block.where)
    summary = dict(counts, syntax_checked=len(kinds.get("syntax-only", [])), skipped=kinds.get("skip", []),
                   registry_config=len(kinds.get("registry-config", [])))
    summary["summary"] = ("docs examples: %d run (%d plays, %d ansible-playbook processes), %d syntax-checked only, "
                          "%d skipped (shell, Python, an ansible-builder file, an AWX-only play; each with its reason)" % (
                              counts["run_blocks"], counts["plays"], counts["processes"], summary["syntax_checked"],
                              len(summary["skipped"])))
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w") as handle:
        json.dump(summary, handle, indent=2)
