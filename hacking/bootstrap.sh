#!/usr/bin/env bash
# Prepare everything `make test` and `make demo` need on a fresh machine:
# Debian packages, a venv with the newest ansible-core the machine's Python allows,
# and the offline get-pip stand-in ansible-test needs (it cannot download get-pip here).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"

need_apt=()
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v skopeo >/dev/null || need_apt+=(skopeo)
command -v htpasswd >/dev/null || need_apt+=(apache2-utils)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v rsync >/dev/null || need_apt+=(rsync)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${need_apt[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Newest Python first: ansible-core 2.20+ needs 3.12+, 2.17-2.19 run on 3.10/3.11.
pick_python() {
  local candidates=()
  if [ -n "${OCI_REGISTRY_PYTHON:-}" ]; then echo "$OCI_REGISTRY_PYTHON"; return; fi
  for v in 3.14 3.13 3.12 3.11 3.10; do
    candidates+=("$(command -v "python$v" 2>/dev/null || true)")
    for p in "$HOME"/.pyenv/versions/"$v"*/bin/python"$v" /usr/bin/python"$v" /usr/local/bin/python"$v"; do
      candidates+=("$p")
    done
  done
  for p in "${candidates[@]}"; do
    [ -n "$p" ] && [ -x "$p" ] && "$p" -c 'import venv, ensurepip' >/dev/null 2>&1 && { echo "$p"; return; }
  done
  command -v python3
}

if [ ! -x "$venv/bin/python" ] || [ "$root/requirements-dev.txt" -nt "$venv/.installed" ]; then
  py=$(pick_python)
  echo "bootstrap: venv with $py ($("$py" --version))"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
  "$venv/bin/python" -m pip install -q -r "$root/requirements-dev.txt" 2>&1 | { grep -v "^WARNING: Location" || true; }
  touch "$venv/.installed"
fi

# Event-Driven Ansible end to end (`make eda`): ansible-rulebook runs its rules in Drools, which needs
# Java 17+. Both are only for that test, so they are installed only when asked for.
if [ "${OCI_REGISTRY_EDA:-0}" = "1" ]; then
  java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1 || true)
  if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then
    echo "bootstrap: installing Debian package openjdk-17-jre-headless (OCI_REGISTRY_EDA=1)"
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  fi
  if [ ! -x "$venv/bin/ansible-rulebook" ] || [ "$root/requirements-eda.txt" -nt "$venv/.installed-eda" ]; then
    echo "bootstrap: installing ansible-rulebook (requirements-eda.txt)"
    "$venv/bin/python" -m pip install -q -r "$root/requirements-eda.txt" 2>&1 | { grep -v "^WARNING: Location" || true; }
    touch "$venv/.installed-eda"
  fi
fi

# ansible-test downloads get-pip for its sanity venvs; offline it needs our stand-in.
"$venv/bin/python" "$root/hacking/offline_get_pip.py"

# The collection must live at ansible_collections/oci/registry for Ansible to load it.
mkdir -p "$root/.build/ansible_collections/oci"
ln -sfn "$root" "$root/.build/ansible_collections/oci/registry"
# Read the whole output: piping into `head -1` closes the pipe early, and ansible then dies with
# "Unexpected Exception ... Broken pipe" on the lines it is still writing.
version="$("$venv/bin/ansible" --version)"
echo "bootstrap: ready (${version%%$'\n'*})"
