#!/usr/bin/env bash
# `make test-matrix`: ansible-test sanity and units on the oldest supported ansible-core (2.17), the
# newest that runs on Python 3.11 (2.19: what `make test` gets on a machine with only 3.11) and the
# newest (2.21), each in its own venv under .build/matrix/<version> with a copy of the collection
# tree (ansible-test resolves symlinks, like `make ansible-test-tree`). Not part of `make test`: it
# builds three venvs and runs sanity three times.
#
#   hacking/test-matrix.sh [VERSION...]      e.g. hacking/test-matrix.sh 2.17
#
# Each entry is "ansible-core version:Pythons to try, preferred first". 2.17 runs its controller on
# Python 3.10-3.12, 2.19 on 3.11-3.13, 2.21 on 3.12+.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
matrix=("2.17:3.12 3.11" "2.19:3.11" "2.21:3.13 3.12")

find_python() {
  local v candidate
  for v in "$@"; do
    for candidate in "$HOME"/.pyenv/versions/"$v".*/bin/python"$v" /usr/bin/python"$v" /usr/local/bin/python"$v"; do
      if [ -x "$candidate" ] && "$candidate" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        echo "$candidate"; return 0
      fi
    done
  done
  return 1
}

# ansible-test downloads get-pip for its sanity venvs; offline it needs our stand-in.
get_pip_stand_in() {
  "$1" "$(dirname "$0")/offline_get_pip.py"
}

selected=("$@")
passed=0; failed=0; failures=()
gate() {
  local name=$1; shift
  echo "=== $name"
  if "$@"; then passed=$((passed + 1)); echo "=== $name: ok"
  else failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED"; fi
}

for entry in "${matrix[@]}"; do
  core=${entry%%:*}
  if [ ${#selected[@]} -gt 0 ] && [[ " ${selected[*]} " != *" $core "* ]]; then continue; fi
  # shellcheck disable=SC2086  # the Python list is meant to split
  if ! python=$(find_python ${entry#*:}); then
    echo "=== ansible-core $core: no Python among ${entry#*:} on this machine"
    failed=$((failed + 1)); failures+=("$core (no Python)"); continue
  fi
  pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  dir="$root/.build/matrix/$core"
  venv="$dir/venv"
  mkdir -p "$dir"
  if ! "$venv/bin/python" -c "import ansible.release as r, sys; sys.exit(not r.__version__.startswith('$core.'))" 2>/dev/null \
      || [ "$root/tests/unit/requirements.txt" -nt "$venv/.installed" ]; then
    echo "=== ansible-core $core: venv with $python"
    rm -rf "$venv"
    if ! { "$python" -m venv "$venv" \
           && "$venv/bin/python" -m pip install -q --upgrade pip \
           && "$venv/bin/python" -m pip install -q "ansible-core~=$core.0" pyyaml -r "$root/tests/unit/requirements.txt"; \
         } >"$dir/install.log" 2>&1; then
      grep -v "^WARNING: Location" "$dir/install.log" | tail -20
      failed=$((failed + 1)); failures+=("$core (venv)"); continue
    fi
    touch "$venv/.installed"
  fi
  get_pip_stand_in "$venv/bin/python"

  tree="$dir/ansible_collections/oci/registry"
  rm -rf "$tree" && mkdir -p "$tree"
  # .ansible/ is ansible-lint's cache (a full copy of the collection); ansible-test would lint it too.
  (cd "$root" && git ls-files -co --exclude-standard --exclude=/.ansible/ -z \
     | rsync -a --from0 --files-from=- ./ "$tree/")
  (cd "$tree" && git init -q && git add -A >/dev/null 2>&1)

  echo "=== ansible-core $("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)') on Python $pyver"
  gate "$core sanity" env -C "$tree" PATH="$venv/bin:$PATH" \
    ansible-test sanity --local --python "$pyver" --color=no
  gate "$core units" env -C "$tree" PATH="$venv/bin:$PATH" \
    ansible-test units --local --python "$pyver" --requirements --color=no
done

[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "matrix: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
