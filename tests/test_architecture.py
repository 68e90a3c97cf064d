"""No import circle between the first-party apps.

The allowed direction, from top to bottom (an app may import the ones below it):

    photos      (writes through routing's write gate)
    routing     (orchestrates: transitions, workflows, console; reads replication's
                 drain check, canary and status)
    replication (copies and measures; asks routing through signals, never imports it)
    accounts
    mra_site    (the foundation: AWS layer, errors, polling, resources)

mra_site's composition root (settings, URLs, WSGI, scheduled entry points, the
context processors that gather every app's page texts)
wires the apps together and may import any of them; it is its own node
(`mra_site:project`) in the graph, so it cannot hide a circle.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("mra_site", "accounts", "photos", "routing", "replication")
PROJECT_MODULES = (
    "mra_site.settings",
    "mra_site.urls",
    "mra_site.wsgi",
    "mra_site.scheduled",
    "mra_site.context_processors",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _node(module: str) -> str | None:
    """The graph node a module belongs to: its app, or mra_site's composition root."""
    top = module.split(".")[0]
    if top not in APPS:
        return None
    if any(module == p or module.startswith(p + ".") for p in PROJECT_MODULES):
        return "mra_site:project"
    return top


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, at module level or inside functions."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            elif node.module:
                yield node.module


def app_graph() -> dict[str, dict[str, str]]:
    """{app: {imported app: one importing module, for the message}}."""
    graph: dict[str, dict[str, str]] = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            source = _node(_module_name(path))
            if source is None:
                continue
            for imported in _imports(path):
                target = _node(imported)
                if target and target != source:
                    graph.setdefault(source, {}).setdefault(target, _module_name(path))
    return graph


def find_cycle(graph: dict[str, dict[str, str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for nxt in graph.get(node, {}):
            cycle = visit(nxt, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def test_no_import_circle_between_apps():
    graph = app_graph()
    cycle = find_cycle(graph)
    if cycle:
        steps = [f"{a} → {b} (in {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)]
        raise AssertionError("import circle between apps: " + "; ".join(steps))


def test_replication_never_imports_routing():
    assert "routing" not in app_graph().get("replication", {})


def test_the_cycle_finder_names_a_circle_through_a_chain():
    graph = {"a": {"b": "a.x"}, "b": {"c": "b.y"}, "c": {"a": "c.z"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": "a.x"}, "b": {}}) is None
