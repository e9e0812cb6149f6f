# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""WWW-Authenticate challenge parsing (RFC 7235).

The bottom floor with errors.py: both the typed 401 errors and the authenticator read
challenges, so the parser depends on nothing of ours.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

_CHALLENGE_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_AUTH_PARAM_RE = re.compile(r"\s*(%s)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^\s,]*)\s*(,|$)" % _CHALLENGE_TOKEN)
_SCHEME_RE = re.compile(r"\s*(%s)(?:\s+|$)" % _CHALLENGE_TOKEN)


class Challenge(namedtuple("Challenge", ["scheme", "params"])):
    """One WWW-Authenticate challenge; ``scheme`` lowercase, ``params`` lowercase keys."""

    __slots__ = ()

    @property
    def realm(self):
        return self.params.get("realm")

    @property
    def service(self):
        return self.params.get("service")

    @property
    def scope(self):
        return self.params.get("scope")

    @property
    def error(self):
        return self.params.get("error")

    def to_dict(self):
        return {"scheme": self.scheme, "realm": self.realm, "service": self.service}


def parse_challenges(header):
    """Parse a WWW-Authenticate value into a list of Challenge (RFC 7235, tolerant).

    Handles several challenges in one header, quoted strings with commas and
    escaped quotes, and unquoted values.
    """
    if not header:
        return []
    challenges = []
    pos = 0
    length = len(header)
    while pos < length:
        while pos < length and header[pos] in " ,\t":
            pos += 1
        if pos >= length:
            break
        match = _SCHEME_RE.match(header, pos)
        if not match:
            break
        scheme = match.group(1).lower()
        pos = match.end()
        params = {}
        while pos < length:
            param = _AUTH_PARAM_RE.match(header, pos)
            if not param:
                break
            # A token followed by "=" is a parameter; a bare token starts the next challenge.
            key = param.group(1).lower()
            value = param.group(2)
            if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[key] = value
            pos = param.end()
        challenges.append(Challenge(scheme, params))
    return challenges


def preferred_challenge(challenges):
    """Bearer beats Basic: a registry offering both wants tokens."""
    for wanted in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == wanted:
                return challenge
    return challenges[0] if challenges else None


__all__ = ["Challenge", "parse_challenges", "preferred_challenge"]
