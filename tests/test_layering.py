"""The architecture of docs/architecture.md, held by tests.

Two checks: a static one over every module's runtime imports (``if TYPE_CHECKING:`` blocks do
not count: annotations are not dependencies), and a dynamic one that imports each pure module in
a fresh interpreter and looks at what got loaded (reader's ``test_lazy_imports.py`` idea).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "pipeline"

# The pure core: values in, values out. Importable anywhere, imports only itself.
CORE = {
    "records",
    "identity",
    "diff",
    "topics",
    "similarity",
    "addresses",
    "errors",
    "config",
    "config_checks",
    "clock",
    "health",
}
# Small helpers without I/O libraries: shipped-file lookup, the fault-injection hook, bounded
# reads of local files.
UTILITIES = {"resources", "failpoints", "bounded"}
# Which groups each group may import at run time (besides the core and utilities).
ALLOWED: dict[str, set[str]] = {
    "root": {"app"},  # only inside open_paperboy(), lazily
    "core": set(),
    "utilities": set(),
    "store": {"store"},
    "ingest": {"ingest", "store"},
    "feeds": {"feeds", "store"},
    "mail": {"mail", "store"},
    "web": {"web", "store", "mail", "feeds"},
    "run": {"ingest", "store", "feeds", "mail"},
    "app": {"app", "run", "ingest", "store", "feeds", "mail", "web", "schedule"},
    "schedule": set(),
    "cli": {"cli", "app", "schedule"},
    "main": {"cli"},
}
# Third-party libraries with one home: (library, groups allowed to import it at run time).
LIBRARY_HOMES: dict[str, set[str]] = {
    "sqlalchemy": {"store"},
    "sqlmodel": {"store"},
    "alembic": {"store"},
    "psycopg": {"store"},
    "filelock": {"store"},
    "httpx": {"ingest"},
    "selectolax": {"ingest"},
    "smtplib": {"mail"},
    "feedgen": {"feeds"},
    "jinja2": {"mail", "web"},
    "css_inline": {"mail"},
    "starlette": {"web"},
    "uvicorn": {"web", "cli"},
    "itsdangerous": {"web"},
    "apscheduler": {"schedule"},
}
# Loaded by no pure module, checked in a fresh interpreter.
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "httpx", "smtplib", "jinja2", "feedgen", "starlette")


def group_of(module: str) -> str:
    """The layer of ``pipeline.x.y``."""
    parts = module.split(".")
    if len(parts) == 1 or (parts[1].startswith("__") and parts[1] != "__main__"):
        return "root"  # pipeline/__init__.py: the version and the facade's lazy entry point
    name = parts[1]
    if name in CORE:
        return "core"
    if name in UTILITIES:
        return "utilities"
    if name == "__main__":
        return "main"
    return name


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if "migrations" in parts:  # Alembic's scripts: store-internal by location
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def runtime_imports(path: Path) -> list[tuple[str, int]]:
    """Absolute imports executed when the module (or its functions) run, not type-only ones."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                if child.module == "pipeline":  # from pipeline import x
                    found.extend((f"pipeline.{a.name}", child.lineno) for a in child.names)
                else:
                    found.append((child.module, child.lineno))
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_every_module_belongs_to_a_known_layer() -> None:
    unknown = {name for name, _ in modules() if group_of(name) not in ALLOWED}
    assert not unknown, f"add these to docs/architecture.md and ALLOWED: {sorted(unknown)}"


def test_packages_import_only_what_the_architecture_allows() -> None:
    broken = []
    for name, path in modules():
        group = group_of(name)
        allowed = ALLOWED[group] | {"root", "core", "utilities", group}
        for imported, line in runtime_imports(path):
            top = imported.split(".")[0]
            if top == "pipeline":
                target = group_of(imported)
                if target not in allowed and imported != "pipeline":
                    broken.append(f"{path.relative_to(REPO)}:{line} ({group}) imports {imported}")
            elif top in LIBRARY_HOMES and group not in LIBRARY_HOMES[top]:
                broken.append(f"{path.relative_to(REPO)}:{line} ({group}) imports {imported}")
    assert not broken, "layering broken:\n" + "\n".join(broken)


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The static check is not vacuous: a core module importing SQLAlchemy is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import httpx\n"
        "def f():\n    from sqlalchemy import text\n",
        encoding="utf-8",
    )
    assert runtime_imports(bad) == [("typing", 1), ("sqlalchemy", 5)]


PURE = [*sorted(f"pipeline.{name}" for name in CORE), "pipeline", "pipeline.cli"]


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_load_no_io_library(module: str) -> None:
    """Importing a pure module (or the CLI before a command runs) loads no heavy library."""
    code = (
        f"import sys, {module}\nprint(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"{module} loaded: {done.stdout.strip()}"
