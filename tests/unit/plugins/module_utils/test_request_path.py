"""One request path: registry requests go through Endpoint.request, whose status-to-error mapping is the only one.

Read from the source (ast) of every plugin file: ``<something>.transport.request(...)``,
``.http.request(...)`` or ``.session.request(...)`` may appear only in the endpoint, the
authenticator (token requests, the challenge discovery) and the transport itself; typed errors
are built from responses only by the endpoint; the delete hint is attached only there.
"""

from __future__ import annotations

import ast
import os

import pytest

PLUGINS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins"))
MODULE_UTILS = os.path.join(PLUGINS, "module_utils")

LOW_LEVEL_SENDERS = ("transport", "http", "session")
ALLOWED_SENDERS = {"module_utils/_endpoint.py", "module_utils/_auth.py", "module_utils/_transport.py"}


def plugin_sources():
    for directory, _dirs, files in os.walk(PLUGINS):
        for filename in sorted(files):
            if filename.endswith(".py"):
                path = os.path.join(directory, filename)
                with open(path, encoding="utf-8") as handle:
                    yield os.path.relpath(path, PLUGINS), ast.parse(handle.read(), filename=path)


def _receiver_name(node):
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def low_level_requests(tree):
    """Lines of ``<x>.transport.request(...)``-like calls (the transport, its wrapper, a requests session)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "request":
            if _receiver_name(node.func.value) in LOW_LEVEL_SENDERS:
                lines.append(node.lineno)
    return lines


def calls_of(tree, function_name):
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and _receiver_name(node.func) == function_name]


def names_used(tree, name):
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)]


@pytest.fixture(scope="module")
def sources():
    return dict(plugin_sources())


def test_no_request_bypasses_the_endpoint(sources):
    bypassing = {path: low_level_requests(tree) for path, tree in sources.items() if path not in ALLOWED_SENDERS}
    assert {path: lines for path, lines in bypassing.items() if lines} == {}
    # The endpoint really is where the groups' requests leave (the check above is not vacuous).
    assert low_level_requests(sources["module_utils/_endpoint.py"])


def test_typed_errors_from_responses_are_built_only_by_the_endpoint(sources):
    building = {path: calls_of(tree, "error_from_response") for path, tree in sources.items()}
    assert {path: lines for path, lines in building.items() if lines} == {
        "module_utils/_endpoint.py": building["module_utils/_endpoint.py"]}
    assert len(building["module_utils/_endpoint.py"]) == 1


def test_delete_hint_is_attached_in_one_place(sources):
    using = {path: names_used(tree, "DELETE_HINT") for path, tree in sources.items()}
    assert [path for path, lines in using.items() if lines] == ["module_utils/_endpoint.py"]
    assert len(using["module_utils/_endpoint.py"]) == 1


def test_the_checker_sees_a_bypass():
    tree = ast.parse("def f(self):\n    r = self.client.transport.request('GET', url)\n    self.http.request('GET', u)\n"
                     "    self.endpoint.request('GET', '/v2/')\n")
    assert low_level_requests(tree) == [2, 3]


def test_group_files_are_known_to_the_check():
    groups = sorted(name for name in os.listdir(MODULE_UTILS) if name.startswith("_api_"))
    assert len(groups) == 8


def test_secrets_are_read_only_inside_the_authenticator(sources):
    # Docker Hub's login gets the password from auth.login_credentials(), never from auth._password.
    private = ("_password", "_bearer_token", "_identity_token")
    reading = {path: [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr in private]
               for path, tree in sources.items() if path != "module_utils/_auth.py"}
    assert {path: lines for path, lines in reading.items() if lines} == {}
    assert calls_of(sources["module_utils/_api_hub.py"], "login_credentials")
