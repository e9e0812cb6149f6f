#!/usr/bin/env bash
# Execution environment check: would ansible-builder find the collection's Python and system
# requirements? Checks the built tarball as a user installs it (not the work tree), because
# build_ignore or a wrong path in meta/execution-environment.yml only show up there.
#
# ansible-builder 3 dropped `introspect --sanitize` (sanitising is always on); this runs
# `ansible-builder introspect <collections dir>` on a collections tree holding only oci.registry
# and fails unless `requests` is among the Python requirements attributed to oci.registry.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/.venv/bin:$PATH"
work="$root/.build/ee-check"
rm -rf "$work" && mkdir -p "$work/dist" "$work/collections"

ansible-galaxy collection build --force --output-path "$work/dist" "$root" >/dev/null
tarball=$(ls "$work"/dist/oci-registry-*.tar.gz)
ansible-galaxy collection install --no-deps --force -p "$work/collections" "$tarball" >/dev/null

ansible-builder introspect "$work/collections" \
  --write-pip "$work/requirements.txt" --write-bindep "$work/bindep.txt" | tee "$work/introspect.yml"

python3 - "$work/introspect.yml" <<'PY'
import re
import sys

import yaml

with open(sys.argv[1]) as handle:
    data = yaml.safe_load(handle)
python = data.get("python") or []
ours = [line for line in python if line.endswith("# from collection oci.registry")]
if not any(re.match(r"^requests\b", line) for line in ours):
    sys.exit("ee-check: ansible-builder did not find requests in oci.registry's Python requirements: %r" % (python,))
print("ee-check: ok (python: %s; system: %s)" % (", ".join(l.split("#")[0].strip() for l in ours),
                                               ", ".join(data.get("system") or []) or "none"))
PY
