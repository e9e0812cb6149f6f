"""skopeo as the independent client of the test registries.

Credentials always travel in an auth file that the launcher wrote (`<state>/auth/<variant>-<user>.json`),
never on the command line, so command lines can be logged and shown in failures as they are.
"""

from __future__ import annotations

import json
import os
import subprocess

SKOPEO = "skopeo"
DEFAULT_TIMEOUT = 300


class SkopeoError(RuntimeError):
    def __init__(self, argv, returncode, stderr):
        super().__init__("skopeo failed (exit %d): %s\n%s" % (returncode, " ".join(argv), stderr.strip()))
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr


class Skopeo:
    """Builds skopeo command lines for a variant of the test registries.

    `user=None` means anonymous; `ca=False` drops the CA on TLS variants, to show what an
    untrusting client sees.
    """

    def __init__(self, env, timeout=DEFAULT_TIMEOUT):
        self.env = env
        self.timeout = timeout

    def registry(self, variant):
        return self.env["registries"][variant]

    def reference(self, variant, repository, tag_or_digest="latest"):
        separator = "@" if ":" in tag_or_digest else ":"
        return "docker://%s/%s%s%s" % (self.registry(variant)["host"], repository, separator, tag_or_digest)

    def authfile(self, variant, user):
        if user is None:
            return os.path.join(self.env["state_dir"], "auth", "anonymous.json")
        if user not in self.registry(variant).get("users", {}):
            raise KeyError("variant %s has no user %r" % (variant, user))
        return os.path.join(self.env["state_dir"], "auth", "%s-%s.json" % (variant, user))

    def options(self, variant, user=None, role="", ca=True):
        """Flags for one side of a command: role "" (inspect, list-tags, delete), "src" or "dest" (copy)."""
        prefix = "--%s-" % role if role else "--"
        if variant.startswith("plain"):
            flags = [prefix + "tls-verify=false"]
        elif ca:
            flags = [prefix + "cert-dir", self.env["cert_dir"]]
        else:
            flags = [prefix + "tls-verify=true"]
        # An empty auth file keeps skopeo from falling back to the caller's own docker/containers credentials.
        flags += [prefix + "authfile", self.authfile(variant, user)]
        return flags

    def run(self, argv, check=True, timeout=None):
        argv = [SKOPEO] + list(argv)
        result = subprocess.run(argv, capture_output=True, timeout=timeout or self.timeout, check=False, stdin=subprocess.DEVNULL)
        stderr = result.stderr.decode("utf-8", "replace")
        if check and result.returncode != 0:
            raise SkopeoError(argv, result.returncode, stderr)
        return subprocess.CompletedProcess(argv, result.returncode, result.stdout, stderr)

    def inspect_raw(self, variant, repository, reference="latest", user=None, ca=True, check=True):
        result = self.run(["inspect", "--raw"] + self.options(variant, user, ca=ca) + [self.reference(variant, repository, reference)], check=check)
        return result.stdout if check else result

    def inspect_digest(self, variant, repository, reference="latest", user=None):
        result = self.run(["inspect", "--format", "{{.Digest}}"] + self.options(variant, user) + [self.reference(variant, repository, reference)])
        return result.stdout.decode().strip()

    def list_tags(self, variant, repository, user=None, check=True):
        result = self.run(["list-tags"] + self.options(variant, user) + [self.reference(variant, repository, "latest").rsplit(":", 1)[0]], check=check)
        return json.loads(result.stdout)["Tags"] if check else result

    def copy(self, source, destination, src_variant=None, src_user=None, dest_variant=None, dest_user=None, all_images=True,
             preserve_digests=True, check=True, extra=()):
        """Copy between two transports; variants set TLS and credentials for docker:// sides."""
        argv = ["copy", "--retry-times", "2"]
        if all_images:
            argv.append("--all")
        if preserve_digests:
            argv.append("--preserve-digests")
        if src_variant:
            argv += self.options(src_variant, src_user, "src")
        if dest_variant:
            argv += self.options(dest_variant, dest_user, "dest")
        return self.run(argv + list(extra) + [source, destination], check=check)

    def delete(self, variant, repository, reference, user=None, check=True):
        return self.run(["delete"] + self.options(variant, user) + [self.reference(variant, repository, reference)], check=check)
