"""module_utils is a layered core: no import circle, no import hidden in a function, imports only go down.

From the bottom floor up (docs/dev/client-api.md, "Layers"): errors and challenge parsing;
reference, media and option values; transport and auth; the endpoint (the one request path) and
the paginator; the API groups; the blob writer; the client; the services. An API group never
imports another, nor reaches another through the client. A file this test does not know is a
service: it may build on the client, and no group may import it.

The checks run on the real files and, each once, on a small synthetic package that breaks the
rule, so a checker that stopped finding anything would fail too.
"""

from __future__ import annotations

import ast
import os

import pytest

MODULE_UTILS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins",
                                             "module_utils"))
PACKAGE = "ansible_collections.oci.registry.plugins.module_utils"

API_GROUP_PREFIX = "_api_"
SERVICES = "services"
LAYERS = (
    ("errors", ("_challenge", "_errors")),
    ("values", ("_reference", "_media", "_options", "_tracing", "_workers", "_rate_limit")),
    ("transport", ("_transport", "_auth")),
    ("endpoint", ("_endpoint", "_pagination")),
    ("api groups", ()),  # every _api_*.py
    ("blob writer", ("_blob_writer",)),
    ("client", ("_client", "client")),
    (SERVICES, ()),  # everything else
)
LAYER_NAMES = [name for name, _files in LAYERS]


def layer_of(module):
    if module.startswith(API_GROUP_PREFIX):
        return "api groups"
    for name, files in LAYERS:
        if module in files:
            return name
    return SERVICES


def rank(module):
    return LAYER_NAMES.index(layer_of(module))


def read_sources(directory):
    sources = {}
    for filename in sorted(os.listdir(directory)):
        if filename.endswith(".py") and filename != "__init__.py":
            with open(os.path.join(directory, filename), encoding="utf-8") as handle:
                sources[filename[:-3]] = handle.read()
    return sources


def _imported_modules(node, known):
    """module_utils modules named by one import statement (absolute or relative)."""
    found = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.startswith(PACKAGE + "."):
                found.append(alias.name[len(PACKAGE) + 1:].split(".")[0])
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level == 1 or base == PACKAGE:
            if base and base != PACKAGE:
                found.append(base.split(".")[0])
            else:
                found.extend(alias.name for alias in node.names)
        elif base.startswith(PACKAGE + "."):
            found.append(base[len(PACKAGE) + 1:].split(".")[0])
    return [module for module in found if module in known]


def _nested_imports(tree):
    """(line, enclosing function) of every import statement inside a function or lambda."""
    hidden = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, getattr(child, "name", "<lambda>"))
            elif isinstance(child, (ast.Import, ast.ImportFrom)) and function is not None:
                hidden.append((child.lineno, function))
            else:
                visit(child, function)

    visit(tree, None)
    return hidden


def analyse(sources):
    """``(graph, problems)``: module -> set of module_utils modules it imports, and rule violations."""
    trees = {name: ast.parse(text, filename=name + ".py") for name, text in sources.items()}
    graph = {}
    problems = []
    for name, tree in trees.items():
        graph[name] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[name].update(_imported_modules(node, trees))
        for line, function in _nested_imports(tree):
            problems.append("%s.py:%d imports inside %s()" % (name, line, function))
    for name, imported in sorted(graph.items()):
        for target in sorted(imported):
            if rank(target) > rank(name):
                problems.append("%s (%s) imports %s from the higher layer %s" % (
                    name, layer_of(name), target, layer_of(target)))
            elif layer_of(name) == layer_of(target) == "api groups" and target != name:
                problems.append("API group %s imports API group %s" % (name, target))
    for name, tree in trees.items():
        if layer_of(name) != "api groups":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "client":
                problems.append("API group %s.py:%d reaches through the client" % (name, node.lineno))
            elif isinstance(node, ast.Name) and node.id == "RegistryClient":
                problems.append("API group %s.py:%d names RegistryClient" % (name, node.lineno))
    problems.extend("import circle: %s" % " -> ".join(cycle) for cycle in find_cycles(graph))
    return graph, problems


def find_cycles(graph):
    """One circle per strongly connected component with more than one module (or a self-import)."""
    index = {}
    low = {}
    stack = []
    on_stack = set()
    cycles = []
    counter = [0]

    def connect(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                cycles.append(sorted(component) + [sorted(component)[0]])

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return cycles


# --------------------------------------------------------------------------- the real files

@pytest.fixture(scope="module")
def real():
    return analyse(read_sources(MODULE_UTILS))


def test_module_utils_layers_hold(real):
    _graph, problems = real
    assert problems == []


def test_every_named_layer_file_exists(real):
    # A renamed file would otherwise drop silently into "services" and weaken the checks.
    graph, _problems = real
    named = [module for _name, files in LAYERS for module in files]
    assert sorted(set(named) - set(graph)) == []
    groups = sorted(module for module in graph if module.startswith(API_GROUP_PREFIX))
    assert groups == ["_api_blobs", "_api_catalog", "_api_hub", "_api_manifests", "_api_referrers",
                      "_api_system", "_api_tags", "_api_uploads"]


def test_client_composes_every_group_and_the_groups_build_only_on_the_endpoint(real):
    graph, _problems = real
    groups = set(module for module in graph if module.startswith(API_GROUP_PREFIX))
    assert groups <= graph["_client"]
    for group in groups:
        assert "_endpoint" in graph[group], group


def test_errors_and_auth_no_longer_form_a_circle(real):
    # The circle the issue found (auth -> reference -> errors -> auth) stays broken.
    graph, _problems = real
    assert "_auth" not in graph["_errors"] and "_auth" not in graph["_reference"]
    assert graph["_challenge"] == set()


# --------------------------------------------------------------------------- the checker finds what it should

def _package(**files):
    header = "from %s." % PACKAGE
    return {name: text.replace("FROM ", header) for name, text in files.items()}


def test_checker_finds_a_circle():
    _graph, problems = analyse(_package(_errors="FROM _reference import x\n", _reference="FROM _errors import y\n"))
    assert any(problem.startswith("import circle: _errors -> _reference -> _errors") for problem in problems)


def test_checker_finds_an_import_hidden_in_a_function():
    _graph, problems = analyse(_package(_reference="def f():\n    FROM _errors import x\n", _errors=""))
    assert problems == ["_reference.py:2 imports inside f()"]


def test_checker_finds_an_upward_import():
    _graph, problems = analyse(_package(_transport="FROM _client import RegistryClient\n", _client=""))
    assert problems == ["_transport (transport) imports _client from the higher layer client"]


def test_checker_finds_a_group_importing_a_group_or_a_service():
    _graph, problems = analyse(_package(_api_tags="FROM _api_manifests import ManifestsApi\nFROM _new_thing import x\n",
                                        _api_manifests="", _new_thing=""))
    assert problems == ["API group _api_tags imports API group _api_manifests",
                        "_api_tags (api groups) imports _new_thing from the higher layer services"]


def test_checker_finds_a_group_reaching_through_the_client():
    _graph, problems = analyse({"_api_tags": "def f(self):\n    return self.client.manifests\n"})
    assert problems == ["API group _api_tags.py:2 reaches through the client"]


def test_checker_reads_relative_and_package_imports():
    graph, _problems = analyse({"_a": "from ._b import x\nfrom . import _c\n", "_b": "", "_c": "",
                                "_d": "from %s import _a\nimport %s._b\n" % (PACKAGE, PACKAGE)})
    assert graph == {"_a": {"_b", "_c"}, "_b": set(), "_c": set(), "_d": {"_a", "_b"}}
