"""The package's shape (issue 14, item 2): no import circles among dosing's modules, none over about 300 lines.

An import circle held apart by an import inside a function still ties the two
modules together (neither can be read, tested or moved without the other), so
the graph below counts every import, at the top of a module or inside a
function, read from the source with ast (nothing is imported to find them).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dosing"
MOST_LINES = 300

# Modules allowed over MOST_LINES for now, each with the reason. Empty when the package is in shape.
OVER_FOR_NOW: dict[str, str] = {}

# Import circles allowed for now, each pair with the reason. Empty when there are none.
CIRCLES_FOR_NOW: dict[frozenset, str] = {}


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name, for its __init__.py)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The dosing modules `name` imports anywhere in its source (`from a import b` is a.b when b is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(_known(alias.name, known) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .a import b
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                whole = f"{base}.{alias.name}"
                found.add(whole if whole in known else _known(base, known))
    found.discard(None)
    found.discard(name)
    return found


def _known(dotted: str, known: set[str]) -> str | None:
    """The dosing module a dotted name lies in (the longest known prefix); None outside the package."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return None


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another, round a circle (Tarjan's strongly connected components)."""
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_the_graph_sees_imports_inside_functions():
    # The circles issue 14 names were held apart by imports inside functions: the graph must see those.
    edges = graph()
    assert "dosing.web" in edges["dosing.cli.commands"]  # `dosing serve` imports the page inside _serve
    assert "dosing.cli.commands" in edges["dosing.cli"] and "dosing.requests" in edges["dosing.web.form"]


def test_no_import_circles():
    edges = graph()
    allowed = [group for group in circles(edges) if frozenset(group) in CIRCLES_FOR_NOW]
    found = [group for group in circles(edges) if group not in allowed]
    said = [" <-> ".join(group) + ": " + "; ".join(f"{a} imports {b}" for a in group for b in sorted(edges[a]) if b in group)
            for group in found]
    assert not found, "import circles:\n" + "\n".join(said)


def test_the_command_line_and_the_page_meet_only_in_requests():
    # The command line may start the page (`dosing serve`); the page never imports the command line.
    edges = graph()
    page = [name for name in edges if name == "dosing.web" or name.startswith("dosing.web.")]
    assert page and not any(target.startswith("dosing.cli") for name in page for target in edges[name])
    assert "dosing.requests" in edges["dosing.cli.arguments"] and "dosing.requests" in edges["dosing.web.form"]


def test_no_module_over_300_lines():
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    over = {name: n for name, n in lines.items() if n > MOST_LINES and name not in OVER_FOR_NOW}
    assert not over, f"modules over {MOST_LINES} lines (split them by idea): {over}"
    assert not [name for name in OVER_FOR_NOW if lines.get(name, 0) <= MOST_LINES], "in shape now: take it off OVER_FOR_NOW"
