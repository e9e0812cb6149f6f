# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the collection is, for tests that start Ansible, ansible-runner or ansible-rulebook as processes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def collections_path():
    """The directory holding ansible_collections/oci/registry (ANSIBLE_COLLECTIONS_PATH for child processes).

    Under ansible-test the tree is a copy at .../ansible_collections/oci/registry; run from the
    repository (make pytest), .build holds an ansible_collections/oci/registry link to it.
    """
    path = ROOT
    while os.path.basename(path) != "ansible_collections" and path != os.path.dirname(path):
        path = os.path.dirname(path)
    if os.path.basename(path) == "ansible_collections":
        return os.path.dirname(path)
    return os.path.join(ROOT, ".build")


def venv_binary(name):
    """A console script of the Python running the tests (ansible-playbook, ansible-runner, ansible-rulebook)."""
    return os.path.join(os.path.dirname(sys.executable), name)


def child_env(**extra):
    """The environment for an Ansible child process: this collection, this venv's tools first.

    Modules run with this venv's Python too: interpreter discovery would pick the newest Python on the
    machine (a pyenv 3.13 beside a 3.11 venv), which need not have requests.
    """
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    env.update(extra)
    return env
