#!/usr/bin/env bash
# make bench: copy throughput and memory of the engine vs skopeo and a raw ceiling, on local registries.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
mkdir -p "$ROOT/.build/ansible_collections/oci"
ln -sfn "$ROOT" "$ROOT/.build/ansible_collections/oci/registry"
export PYTHONPATH="$ROOT/.build" ANSIBLE_COLLECTIONS_PATH="$ROOT/.build" PATH="$ROOT/.venv/bin:$PATH"
# Shared registries: started if needed, never stopped here (other sessions may use them).
"$PY" "$ROOT/tests/registries" start >/dev/null
"$PY" "$ROOT/benchmarks/bench_copy.py" "$@"

# ------------------------------------------------------------------------------------------------
# Load (issue 7): a 5,000-repository catalog, 10,000 tags vs skopeo list-tags, 20 concurrent module
# runs. Its own registry set in a temporary state dir; writes benchmarks/results/load.md.
"$PY" "$ROOT/benchmarks/load/load.py"

# ------------------------------------------------------------------------------------------------
# Cleanup at scale (issue 13): 5,000 repositories + one with 1,000 images, the cleanup role against
# plain requests; its own registry set; writes benchmarks/results/cleanup.md. CLEANUP_BENCH_ARGS
# sizes it down, e.g. "--repositories 1000 --big-images 200" (and "--rounds 1": one floor and role run each).
# shellcheck disable=SC2086
"$PY" "$ROOT/benchmarks/cleanup/bench_cleanup.py" ${CLEANUP_BENCH_ARGS:-}

# ------------------------------------------------------------------------------------------------
# Roles (issue 13): mirror role with 200 entries vs the copy engine, promote of a 30-image release;
# module runs per role run, wall time, peak RSS. Writes benchmarks/results/roles.md.
"$PY" "$ROOT/benchmarks/bench_roles.py"

# ------------------------------------------------------------------------------------------------
# Sync (issue 14): registry_copy tag_pattern '.*' vs skopeo sync --preserve-digests, 1,000 tags over
# 300 images: cold, no-op re-run, immutable re-run; requests per side and GETs at the destination.
# Writes benchmarks/results/sync.md. SYNC_BENCH_ARGS sizes it down, e.g. "--tags 100 --images 30".
# shellcheck disable=SC2086
"$PY" "$ROOT/benchmarks/bench_sync.py" ${SYNC_BENCH_ARGS:-}

# ------------------------------------------------------------------------------------------------
# Layout archives (issue 16): registry_copy registry -> oci-archive and back with a 1 GiB image, wall
# time and the module process's peak RSS (< 100 MB). Writes benchmarks/results/layout.md.
"$PY" "$ROOT/benchmarks/bench_layout.py"
