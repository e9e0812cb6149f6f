#!/usr/bin/env bash
# The whole test suite (`make test`): every quality gate, against real registries.
# Runs each gate even when an earlier one fails, then prints one summary line and exits non-zero
# if anything failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
export PATH="$root/.venv/bin:$PATH"
state="${OCI_REGISTRY_TEST_STATE:-$HOME/.cache/oci-registry-tests}"

bash hacking/bootstrap.sh || exit 1

# Reuse registries a developer already runs; otherwise start them and stop them at the end.
started_here=0
if ! python3 hacking/registries_alive.py "$state" 2>/dev/null; then
  .venv/bin/python tests/registries start || exit 1
  started_here=1
fi
cleanup() { [ "$started_here" = 1 ] && .venv/bin/python tests/registries stop >/dev/null 2>&1; }
trap cleanup EXIT

passed=0; failed=0; failures=()
gate() {
  local name=$1; shift
  local t0=$SECONDS
  echo "=== $name: $*"
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED ($((SECONDS - t0)) s)"
  fi
}

gate changelog make --no-print-directory changelog-lint
gate sanity make --no-print-directory sanity
gate units make --no-print-directory units
gate integration make --no-print-directory integration
gate molecule make --no-print-directory molecule
gate ansible-lint make --no-print-directory lint
gate docs make --no-print-directory docs-lint
gate build make --no-print-directory build
gate execution-environment make --no-print-directory ee-check
gate galaxy-importer make --no-print-directory galaxy-importer

[ ${#failures[@]} -eq 0 ] || echo "failed gates: ${failures[*]}"
echo "gates: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
