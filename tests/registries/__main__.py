"""`python3 tests/registries start|stop|env|status [--state-dir DIR] [--token-expiry SECONDS] [--restart]`."""

import argparse
import os
import sys

if __package__:
    from . import launcher
else:
    # Run as a directory (`python3 tests/registries`): import the directory as the package `registries`.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from registries import launcher  # pylint: disable=import-error


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tests/registries", description="Start and stop the real registries the tests use.")
    parser.add_argument("command", choices=("start", "stop", "env", "status"),
                        help="start (reuses running registries unless --restart), stop, env (print shell exports), status")
    parser.add_argument("--state-dir", help="default: $%s, else %s" % (launcher.STATE_DIR_ENV, launcher.DEFAULT_STATE_DIR))
    parser.add_argument("--token-expiry", type=int, default=None,
                        help="token lifetime in seconds (default $%s, else %d); applied live to running registries"
                        % (launcher.TOKEN_EXPIRY_ENV, launcher.DEFAULT_TOKEN_EXPIRY))
    parser.add_argument("--restart", action="store_true", help="with start: always start a fresh set")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            if args.restart:
                env = launcher.start(args.state_dir, token_expiry=args.token_expiry)
            else:
                env = launcher.ensure_started(args.state_dir, token_expiry=args.token_expiry, owner="cli")
            for name, info in env["registries"].items():
                sys.stderr.write("%-7s %s\n" % (name, info["url"]))
            sys.stderr.write("env: %s\n" % os.path.join(env["state_dir"], "env.json"))
        elif args.command == "stop":
            pids = launcher.stop(args.state_dir)
            sys.stderr.write("stopped %d processes\n" % len(pids))
        elif args.command == "env":
            sys.stdout.write(launcher.env_exports(launcher.load_env(args.state_dir)))
        else:
            running = launcher.is_running(args.state_dir)
            sys.stdout.write("running\n" if running else "stopped\n")
            return 0 if running else 1
    except launcher.HarnessError as error:
        sys.stderr.write("tests/registries: %s\n" % error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
