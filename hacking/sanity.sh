#!/usr/bin/env bash
# ansible-test sanity: every default test on the venv's Python, then compile and import (the tests
# that catch syntax or imports a target Python cannot run) on every other Python from 3.9 up that
# this machine has, since modules run on targets with Python >= 3.9.
set -euo pipefail
tree=$1; shift
venv_python=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pybin=$(dirname "$tree")/../../../pythons
mkdir -p "$pybin"
others=()
for v in 3.9 3.10 3.11 3.12 3.13 3.14; do
  [ "$v" = "$venv_python" ] && continue
  for candidate in "$HOME"/.pyenv/versions/"$v".*/bin/python"$v" /usr/bin/python"$v" /usr/local/bin/python"$v"; do
    if [ -x "$candidate" ] && "$candidate" -c 'import venv, ensurepip' >/dev/null 2>&1; then
      ln -sfn "$candidate" "$pybin/python$v"; others+=("$v"); break
    fi
  done
done
export PATH="$pybin:$PATH"
cd "$tree"
ansible-test sanity --local --python "$venv_python" --color=no "$@"
for v in "${others[@]}"; do
  ansible-test sanity --local --python "$v" --test compile --test import --color=no "$@"
done
