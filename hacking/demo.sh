#!/usr/bin/env bash
# `make demo`: two local registries (staging and production), seeded images, then the main job.
# The registries keep running afterwards so you can look around; the last lines say how to stop them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.build"
state="$root/.build/demo-registries"
export OCI_REGISTRY_TEST_STATE="$state"

bash hacking/bootstrap.sh >/dev/null
# A fresh pair every time, so the demo always starts from the same content.
python tests/registries start --restart --state-dir "$state" >/dev/null 2>&1
python hacking/demo_seed.py "$state" "$state/demo-vars.json"
ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_NOCOLOR=1 \
  ansible-playbook -i localhost, playbooks/demo.yml -e "@$state/demo-vars.json"
echo
echo "Registries still running:"
echo "  staging    $(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["registries"]["plain"]["url"])' "$state/env.json")"
echo "  production $(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["registries"]["plain2"]["url"])' "$state/env.json")"
echo "Stop them with: .venv/bin/python tests/registries stop --state-dir $state"
