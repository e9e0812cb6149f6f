# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process and return its JSON result."""

from __future__ import annotations

import contextlib
import json

import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old


@contextlib.contextmanager
def _as_module_process():
    """Warnings and deprecations behave as in a module process, whatever ran before in this worker.

    ansible-core >= 2.19 sends a module's warnings to the controller's Display once any controller code (a
    lookup or filter test) was imported in the process; the result would then have no ``warnings``.
    """
    try:
        from ansible.module_utils import _internal
    except ImportError:  # ansible-core < 2.19: warnings always go to the result
        yield
        return
    was = getattr(_internal, "is_controller", False)
    _internal.is_controller = False
    try:
        yield
    finally:
        _internal.is_controller = was


def run(module, capsys, check_mode=False, verbosity=0, diff=False, **args):
    args = dict(args)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_verbosity"] = verbosity
    args["_ansible_diff"] = diff
    with patch_module_args(args), _as_module_process():
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)
