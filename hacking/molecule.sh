#!/usr/bin/env bash
# Run every molecule scenario under extensions/molecule (`make molecule`); non-zero if any fails.
# Molecule 26 finds extensions/molecule/*/molecule.yml when run from the collection root (galaxy.yml).
# The scenarios reuse the shared registries from tests/registries and never stop them.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.build"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}"
mkdir -p "$root/.build/ansible_collections/oci"
ln -sfn "$root" "$root/.build/ansible_collections/oci/registry"

scenarios=()
for file in extensions/molecule/*/molecule.yml; do
  scenarios+=("$(basename "$(dirname "$file")")")
done
[ ${#scenarios[@]} -gt 0 ] || { echo "molecule: no scenarios under extensions/molecule"; exit 1; }

failed=()
for scenario in "${scenarios[@]}"; do
  echo "=== molecule test -s $scenario"
  if ! molecule test -s "$scenario"; then
    failed+=("$scenario")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "molecule: failed scenarios: ${failed[*]}"
  exit 1
fi
echo "molecule: ${#scenarios[@]} scenarios passed (${scenarios[*]})"
