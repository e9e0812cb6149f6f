"""Real registry servers for the tests: the one launcher used by every test layer.

CLI: `python3 tests/registries start|stop|env [--state-dir DIR] [--token-expiry SECONDS]`.
See docs/dev/contract.md for env.json; `launcher` for the details.
"""

from .launcher import (  # noqa: F401
    DEFAULT_STATE_DIR,
    DEFAULT_TOKEN_EXPIRY,
    TOKEN_ISSUER,
    TOKEN_SERVICE,
    VARIANTS,
    HarnessError,
    ensure_started,
    env_exports,
    is_running,
    load_env,
    process_ids,
    resolve_state_dir,
    session,
    set_token_expiry,
    start,
    stop,
)
