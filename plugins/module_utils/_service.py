# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""The contract between a module and its service.

A module is a thin adapter: it declares its options, calls one service, and hands what comes back
to ``_ansible_module.run_module``. A service does the work with a registry client and returns an
``Outcome`` (the result keys, the state before and after for ``--diff``, warnings), or raises
``ServiceError`` for a failure the user must fix, which ``run_module`` turns into a one-line
``msg``. Services import no Ansible, so they are tested directly against the real registries.

Also here: the name listing shared by the tag and catalog listings (``collect_names``) and the
regular expression options (``compile_pattern``), which both fail as a ServiceError.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.oci.registry.plugins.module_utils._options import check_number


class ServiceError(Exception):
    """A failure the user must fix: ``msg`` is one line saying what to do; ``result`` holds extra result keys."""

    def __init__(self, msg, **result):
        super(ServiceError, self).__init__(msg)
        self.msg = msg
        self.result = result


class Outcome(object):
    """What a service did: ``result`` (the module's result keys, ``changed`` included), ``before`` and
    ``after`` (the state ``--diff`` shows; None when the service has no diff), ``warnings`` (lines)."""

    __slots__ = ("result", "before", "after", "warnings")

    def __init__(self, result, before=None, after=None, warnings=None):
        self.result = result
        self.before = before
        self.after = after
        self.warnings = list(warnings or [])

    @property
    def changed(self):
        return bool(self.result.get("changed"))

    def diff(self):
        if self.before is None and self.after is None:
            return None
        return dict(before=self.before, after=self.after)


def compile_pattern(pattern, name="pattern"):
    """``pattern`` compiled (None stays None); ServiceError in one line when it is not a regular expression."""
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as err:
        raise ServiceError("%s %r is not a valid regular expression: %s" % (name, pattern, err))


def collect_names(names, last, limit, regex):
    """Take names matching ``regex`` from the iterable ``names`` until ``limit``; return (names, next_last).

    ``next_last`` is the last name examined when ``limit`` stopped us and more names follow,
    so that passing it as ``last`` continues exactly there; None when the listing is complete.
    ``names`` is consumed lazily: a listing stopped by ``limit`` reads no page beyond the one
    holding the name after the last one taken.
    """
    if limit is not None:
        limit = check_number("limit", limit, minimum=0, maximum=2 ** 31)
    taken = []
    previous = last
    for name in names:
        if limit is not None and len(taken) >= limit:
            return taken, previous
        if regex is None or regex.search(name):
            taken.append(name)
        previous = name
    return taken, None


__all__ = ["Outcome", "ServiceError", "collect_names", "compile_pattern"]
