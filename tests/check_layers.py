"""The import layering, checked over the source with `ast` (run by `make test`).

- no import cycle between modules (imports inside functions count: a lazy import only hides one);
- `bot.domain` imports nothing of ours outside `bot.domain`;
- `bot.views` imports neither services, the database, Slack's client nor listeners;
- `bot.services` imports no listener (`handlers`) and no job (`scheduler`);
- only `bot.slack` (the adapter) and `bot.sandbox` import slack_sdk's WebClient.

Imports under `if TYPE_CHECKING:` are ignored. Exit status 1 and one line per violation.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "scheduler")
WEB_CLIENT_OWNERS = ("bot.slack", "bot.sandbox")
# (importer prefix, imported prefixes it must not use)
FORBIDDEN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bot.views", ("bot.services", "bot.db", "bot.slack.client", "handlers", "scheduler")),
    ("bot.services", ("handlers", "scheduler")),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of our packages by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _in(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, str | None]]:
    """(imported module, imported name or None) for every import outside TYPE_CHECKING."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield base, alias.name
        stack.extend(ast.iter_child_nodes(node))


def import_graph(found: dict[str, Path]) -> tuple[dict[str, set[str]], list[str]]:
    """Edges between our modules, and the modules importing slack_sdk's WebClient."""
    graph: dict[str, set[str]] = {name: set() for name in found}
    web_client: list[str] = []
    for name, path in found.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for target, imported in _imports(tree, name, path.name == "__init__.py"):
            if _in(target, "slack_sdk") and (
                imported == "WebClient" or target.startswith("slack_sdk.web")
            ):
                web_client.append(name)
            candidate = f"{target}.{imported}" if imported else target
            if candidate in found:
                graph[name].add(candidate)
            elif target in found:
                graph[name].add(target)
        graph[name].discard(name)
    return graph, web_client


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan; a few hundred modules
    nest far below the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(graph[node]):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(component) > 1:
                found.append(sorted(component))

    for root in sorted(graph):
        if root not in index:
            visit(root)
    return found


def violations() -> list[str]:
    """Every broken layering rule, one line each (empty when the layering holds)."""
    found = modules()
    graph, web_client = import_graph(found)
    problems = [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)]
    for name, targets in sorted(graph.items()):
        for target in sorted(targets):
            if _in(name, "bot.domain") and not _in(target, "bot.domain"):
                problems.append(f"{name} is domain but imports {target}")
            problems.extend(
                f"{name} must not import {target}"
                for layer, banned in FORBIDDEN
                if _in(name, layer) and any(_in(target, b) for b in banned)
            )
    problems.extend(
        f"{name} imports slack_sdk's WebClient; only {', '.join(WEB_CLIENT_OWNERS)} may"
        for name in sorted(set(web_client))
        if not any(_in(name, owner) for owner in WEB_CLIENT_OWNERS)
    )
    return problems


def main() -> int:
    problems = violations()
    for problem in problems:
        print(problem)
    if not problems:
        print(f"layers ok: {len(modules())} modules, no cycle")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
