#!/usr/bin/env bash
# Build the collection tarball and run galaxy-importer on it, as Galaxy / Automation Hub do on
# upload, without docker: ansible-test is off (`make sanity` covers it), ansible-doc and
# ansible-lint run locally and offline.
#
# galaxy-importer lives in its own venv (.build/galaxy-importer/venv, created on first use from
# PyPI) because it caps ansible-lint and attrs, which must not hold back the dev venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/.build/galaxy-importer"
venv="$work/venv"
version=0.4.44
mkdir -p "$work"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -m pip show galaxy-importer 2>/dev/null | grep -qx "Version: $version"; then
  python=$(readlink -f "$root/.venv/bin/python" 2>/dev/null || command -v python3)
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
  "$venv/bin/python" -m pip install -q "galaxy-importer==$version" 2>&1 | { grep -v "^WARNING: Location" || true; }
fi

rm -rf "$work/dist" && mkdir -p "$work/dist"
"$venv/bin/ansible-galaxy" collection build --force --output-path "$work/dist" "$root" >/dev/null
tarball=$(ls "$work"/dist/oci-registry-*.tar.gz)

cat > "$work/galaxy-importer.cfg" <<CFG
[galaxy-importer]
run_ansible_test = False
ansible_test_local_image = False
local_image_docker = False
run_ansible_doc = True
run_ansible_lint = True
offline_ansible_lint = True
run_flake8 = False
check_changelog = True
require_v1_or_greater = False
log_level_main = INFO
tmp_root_dir = $work
CFG

# galaxy-importer calls ansible-doc and ansible-lint through PATH; they must be its own venv's.
# It logs errors but can still exit 0, so the log is checked too.
# It writes importer_result.json to the working directory, so it runs in $work.
set +e
cd "$work"
GALAXY_IMPORTER_CONFIG="$work/galaxy-importer.cfg" PATH="$venv/bin:$PATH" \
  "$venv/bin/python" -m galaxy_importer.main "$tarball" 2>&1 | tee "$work/import.log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ] || grep -qE "^(ERROR|CRITICAL)[: ]" "$work/import.log"; then
  echo "galaxy-importer: FAILED (exit $status; log: $work/import.log)" >&2
  exit 1
fi
echo "galaxy-importer: ok ($(basename "$tarball"))"
