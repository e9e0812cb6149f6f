"""Starting, reusing, recovering and stopping registry sets; nothing may be left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import requests

from ansible_collections.oci.registry.tests.registries import launcher

LAUNCHER_DIR = os.path.dirname(os.path.abspath(launcher.__file__))


def _running_with(state_dir):
    """PIDs of live (non-zombie) processes whose command line mentions state_dir."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
        except OSError:
            continue
        if state_dir in cmdline and launcher.process_start_time(int(entry)) is not None:
            found.append(int(entry))
    return found


def _alive(pids_with_start_times):
    return [pid for pid, start_time in pids_with_start_times if launcher.process_start_time(pid) == start_time]


def _in_proc_even_as_zombie(pid, start_time):
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return False
    return int(stat[stat.rindex(")") + 2:].split()[19]) == start_time


def _snapshot(state_dir):
    return [(pid, launcher.process_start_time(pid)) for pid in launcher.process_ids(state_dir).values()]


def _all_answer(env):
    urls = [info["url"] + "/v2/" for info in env["registries"].values()]
    return all(requests.get(url, verify=env["ca_path"], timeout=10).status_code in (200, 401) for url in urls)


@pytest.fixture
def state_dir(tmp_path):
    path = str(tmp_path / "state")
    yield path
    launcher.stop(path)
    assert _running_with(path) == []


def test_start_then_stop_leaves_no_process_behind(state_dir):
    env = launcher.start(state_dir)
    processes = _snapshot(state_dir)
    assert len(processes) == len(launcher.VARIANTS) + 1
    assert len(_alive(processes)) == len(processes)
    assert _all_answer(env)
    stopped = launcher.stop(state_dir)
    assert sorted(stopped) == sorted(pid for pid, _start_time in processes)
    # stop() reaps the children it started itself, so not even a zombie remains in /proc. A PID the
    # kernel has already handed to another process (same number, other start time) is not ours.
    assert [pid for pid, start_time in processes if _in_proc_even_as_zombie(pid, start_time)] == []
    assert _running_with(state_dir) == []
    with pytest.raises(launcher.HarnessError):
        launcher.load_env(state_dir)


def test_ensure_started_reuses_running_registries(state_dir):
    first = launcher.ensure_started(state_dir)
    processes = _snapshot(state_dir)
    second = launcher.ensure_started(state_dir)
    assert second == first
    assert _snapshot(state_dir) == processes


def test_ensure_started_recovers_from_stale_state(state_dir):
    first = launcher.ensure_started(state_dir)
    before = _snapshot(state_dir)
    victim = launcher.process_ids(state_dir)["tls"]
    os.killpg(victim, signal.SIGKILL)
    second = launcher.ensure_started(state_dir)
    after = _snapshot(state_dir)
    assert not set(after) & set(before)
    assert _alive(before) == []
    assert _all_answer(second)
    assert second["registries"]["basic"]["users"] != first["registries"]["basic"]["users"]


def test_ensure_started_applies_token_expiry_live(state_dir):
    launcher.ensure_started(state_dir, token_expiry=42)
    env = launcher.ensure_started(state_dir, token_expiry=17)
    token = env["registries"]["token"]
    assert token["token_expiry"] == 17
    answer = requests.get(token["realm"], params={"service": token["service"], "scope": "repository:public/a:pull"}, verify=env["ca_path"], timeout=10)
    assert answer.json()["expires_in"] == 17


def test_failed_start_cleans_up(state_dir, monkeypatch, capsys):
    monkeypatch.setattr(launcher, "REGISTRY_BINARY", "false")
    with pytest.raises(launcher.HarnessError, match="did not answer"):
        launcher.start(state_dir)
    assert "log tail" in capsys.readouterr().err
    assert _running_with(state_dir) == []
    assert not os.path.exists(os.path.join(state_dir, "env.json"))


def test_session_stops_only_what_sessions_started(state_dir):
    with launcher.session(state_dir) as outer:
        processes = _snapshot(state_dir)
        with launcher.session(state_dir) as inner:
            assert inner == outer
        assert launcher.is_running(state_dir)
    assert _alive(processes) == []
    assert not launcher.is_running(state_dir)

    launcher.start(state_dir, owner="cli")
    with launcher.session(state_dir):
        pass
    assert launcher.is_running(state_dir)


def _cli(args, cwd):
    return subprocess.run([sys.executable, LAUNCHER_DIR] + args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_cli_start_env_stop_from_any_cwd(state_dir, tmp_path):
    started = _cli(["start", "--state-dir", state_dir, "--token-expiry", "33"], cwd=str(tmp_path))
    assert started.returncode == 0, started.stderr
    with open(os.path.join(state_dir, "env.json"), encoding="utf-8") as handle:
        env = json.load(handle)
    assert env["registries"]["token"]["token_expiry"] == 33
    assert set(env["registries"]) == set(launcher.VARIANTS)
    processes = _snapshot(state_dir)

    exports = _cli(["env", "--state-dir", state_dir], cwd="/")
    assert exports.returncode == 0
    assert "export OCI_REGISTRY_PLAIN_URL=%s\n" % env["registries"]["plain"]["url"] in exports.stdout
    assert "export OCI_REGISTRY_TOKEN_REALM=%s\n" % env["registries"]["token"]["realm"] in exports.stdout
    with open(os.path.join(state_dir, "env.sh"), encoding="utf-8") as handle:
        same = handle.read() == exports.stdout
    assert same, "env.sh differs from the output of `env`"

    assert _cli(["status", "--state-dir", state_dir], cwd="/").returncode == 0
    stopped = _cli(["stop", "--state-dir", state_dir], cwd="/")
    assert stopped.returncode == 0, stopped.stderr
    # The CLI process that started them is gone, so init reaps them; until then they are zombies, not processes.
    assert _alive(processes) == []
    assert _running_with(state_dir) == []
    assert _cli(["status", "--state-dir", state_dir], cwd="/").returncode == 1
    assert _cli(["env", "--state-dir", state_dir], cwd="/").returncode == 1


def test_registries_from_other_harness_code_are_restarted(state_dir):
    launcher.ensure_started(state_dir)
    before = _snapshot(state_dir)
    state_json = os.path.join(state_dir, "state.json")
    with open(state_json, encoding="utf-8") as handle:
        recorded = json.load(handle)
    recorded["harness_version"] = "older-code"
    with open(state_json, "w", encoding="utf-8") as handle:
        json.dump(recorded, handle)
    env = launcher.ensure_started(state_dir)
    assert _alive(before) == []
    assert _all_answer(env)
