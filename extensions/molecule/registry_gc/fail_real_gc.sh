#!/bin/sh
# Stands in for docker-registry: dry runs are real, the real garbage collection fails, so the scenario
# can check that the role restores the configuration and restarts the registry after a failure inside
# its read-only window.
for arg in "$@"; do
  if [ "$arg" = "--dry-run" ]; then
    exec docker-registry "$@"
  fi
done
echo "simulated garbage-collect failure" >&2
exit 3
