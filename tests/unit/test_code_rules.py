"""Project rules that code review alone would let slip."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

CJK = re.compile(r"[\u3400-\u9fff]")
# Modules whose Chinese literals are data (the contract's canonical headers and
# codes, the sample district's names and the name its imports are recorded
# under), input grammar (年/月/日, 万 in cells) or the string table itself.
CHINESE_ALLOWED = {"text.py", "contract.py", "sample.py", "sample_loader.py", "cells.py"}
SQL_WORDS = re.compile(r"\b(select|insert|update|delete|create|drop|from|where)\b", re.I)


def _python_files(*folders: str) -> list[Path]:
    files = [PROJECT_DIR / "app.py"]
    for folder in folders:
        files += sorted((PROJECT_DIR / folder).rglob("*.py"))
    return files


def _string_literals(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node


def test_user_facing_chinese_lives_in_the_string_table():
    offenders = []
    for path in _python_files("pages", "governance"):
        if path.name in CHINESE_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in _string_literals(tree):
            if id(node) not in docstrings and CJK.search(node.value):
                offenders.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_no_sql_is_built_with_f_strings_or_format():
    offenders = []
    for path in _python_files("pages", "governance"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(
                    part.value for part in node.values
                    if isinstance(part, ast.Constant) and isinstance(part.value, str)
                )
                if SQL_WORDS.search(text) and re.search(r"\b(select|insert|delete|update)\b.*\b(from|into|set|where)\b", text, re.I):
                    offenders.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno}")
            if (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "format" and isinstance(node.func.value, ast.Constant)
                and isinstance(node.func.value.value, str) and SQL_WORDS.search(node.func.value.value)
            ):
                offenders.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno}")
    assert offenders == []


def test_governance_never_imports_streamlit():
    for path in sorted((PROJECT_DIR / "governance").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "streamlit" for n in names), path


def test_pages_hold_no_sql_text():
    for path in sorted((PROJECT_DIR / "pages").glob("*.py")):
        for node in _string_literals(ast.parse(path.read_text(encoding="utf-8"))):
            assert not re.search(r"\bselect\b.+\bfrom\b", node.value, re.I | re.S), path


def test_no_outside_hosts_in_app_code():
    pattern = re.compile(r"https?://(?!localhost|127\.0\.0\.1)")
    for path in _python_files("pages", "governance"):
        assert not pattern.search(path.read_text(encoding="utf-8")), path


def test_every_multiselect_speaks_chinese():
    """Streamlit's own multiselect texts are English: "Select all" (which in the
    facility what-if closed every facility in one click) and "Choose options".
    Every multiselect turns the first off and says the second itself."""
    offenders = []
    for path in _python_files("pages"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "multiselect":
                keywords = {k.arg: k.value for k in node.keywords}
                select_all = keywords.get("select_all")
                if not (isinstance(select_all, ast.Constant) and select_all.value is False) \
                        or "placeholder" not in keywords:
                    offenders.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno}")
    assert offenders == []


def _package_imports(package: str) -> dict[str, set[str]]:
    """Module → the modules of `package` it imports (type-checking imports too:
    a cycle there is a structure knot all the same)."""
    root = PROJECT_DIR / package
    modules = {}
    for path in sorted(root.rglob("*.py")):
        name = ".".join(path.relative_to(PROJECT_DIR).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(package):
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {other for other in found if other in modules and other != name}
    return graph


@pytest.mark.parametrize("package", ["governance", "pages"])
def test_no_import_cycle(package):
    graph = _package_imports(package)
    assert len(graph) > 5, graph  # the walk found the package's modules
    cycles = []

    def visit(node: str, path: list[str], done: set[str]) -> None:
        for other in sorted(graph[node]):
            if other in path:
                cycles.append(" → ".join(path[path.index(other):] + [other]))
            elif other not in done:
                done.add(other)
                visit(other, [*path, other], done)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            done.add(start)
            visit(start, [start], done)
    assert cycles == []
