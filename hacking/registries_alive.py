"""Exit 0 when the registries recorded in STATE/env.json answer, so `make test` can reuse them."""
import json
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path

state = Path(sys.argv[1])
try:
    env = json.loads((state / "env.json").read_text())
except (OSError, ValueError):
    sys.exit(1)
context = ssl.create_default_context(cafile=env.get("ca_path"))
for registry in env.get("registries", {}).values():
    try:
        urllib.request.urlopen(registry["url"] + "/v2/", timeout=3, context=context)
    except urllib.error.HTTPError:
        pass  # 401 from the auth variants still proves the server is up
    except (OSError, KeyError):
        sys.exit(1)
sys.exit(0)
