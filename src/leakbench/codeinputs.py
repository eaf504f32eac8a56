"""The library files a workflow script runs, read from the static import graph.

Snakemake re-runs a job when its script changes, not when a module the script imports
changes. Each rule therefore declares as inputs the library files its script imports,
directly or transitively, and this module derives that set from the source itself, so no
list is kept by hand and none can fall behind the code.

The graph is read with :mod:`ast`, never by importing: the workflow computes it while
parsing the Snakefile, before any job runs. Three rules make it cover everything that runs
when the script imports the library:

- every import statement counts, at module level and inside functions alike: a lazy
  import inside a function runs when the job calls that function, and a static reading
  cannot tell which functions a job calls (the set is then a safe over-approximation);
  only the bodies of ``if TYPE_CHECKING:`` are skipped, since they never run;
- importing ``pkg.a.b`` runs ``pkg/__init__.py`` and ``pkg/a/__init__.py`` before
  ``pkg/a/b.py``, so every package on the way is part of the set;
- ``from pkg.a import name`` loads the submodule ``pkg.a.name`` when ``name`` is one
  (a file or a package in the tree); otherwise ``name`` is an attribute of ``pkg.a``;
- a package whose ``__init__.py`` scans itself (calls ``pkgutil.iter_modules(__path__)``,
  as a registry filled by its modules does) imports every module in its folder.

Names that resolve to no file under the source root (another distribution, an attribute)
are not followed. Other imports through :func:`importlib.import_module` are not seen; the
library has none, and the workflow's tests check every rule against a real import.

This module is a leaf: standard library only, so the workflow and any layer may use it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


def module_file(*, name: str, src: Path) -> Path | None:
    """The source file of module ``name`` under ``src``, or None if there is none.

    Args:
        name: a dotted module name, e.g. ``"leakbench.data.pool"``.
        src: the folder that holds the top-level package (``src/`` in this repository).

    Returns:
        ``<src>/<a>/<b>/__init__.py`` for a package, ``<src>/<a>/<b>.py`` for a module.
    """
    base = Path(src).joinpath(*name.split("."))
    for path in (base / "__init__.py", base.parent / f"{base.name}.py"):
        if path.is_file():
            return path
    return None


def imported_modules(*, script: Path, src: Path, package: str) -> frozenset[str]:
    """Every module of ``package`` that importing ``script`` runs, transitively.

    Args:
        script: a Python file run as ``__main__`` (a workflow script).
        src: the folder that holds ``package``.
        package: the top-level package whose modules count (``"leakbench"``).

    Returns:
        The dotted names of the modules and packages, each with a file under ``src``.
    """
    return frozenset(_closure(script=Path(script), src=Path(src), package=package))


def _closure(*, script: Path, src: Path, package: str) -> dict[str, Path]:
    """``{module name: its file}`` for every module :func:`imported_modules` finds."""
    found: dict[str, Path] = {}
    todo = list(_edges(script, module="__main__", src=src, package=package))
    while todo:
        name, path = todo.pop()
        if name not in found:
            found[name] = path
            todo.extend(_edges(path, module=name, src=src, package=package))
    return found


_EDGES: dict[tuple, tuple[tuple[str, Path], ...]] = {}


def _edges(path: Path, *, module: str, src: Path, package: str) -> tuple[tuple[str, Path], ...]:
    """The modules (name, file) that ``path``'s import statements load, memoised per file
    state: a Snakefile derives the inputs of every rule in one process, and the rules'
    scripts share most of their modules, so each file is parsed once, not once a rule. The
    key holds the file's size and modification time, so an edited file is read again."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, module, str(src), package)
    if key not in _EDGES:
        _EDGES[key] = tuple(_modules(_read(path, module=module), src=src, package=package))
    return _EDGES[key]


def library_files(*, script: Path, src: Path, package: str) -> list[Path]:
    """The source files of the modules :func:`imported_modules` finds, sorted (each file
    as the import graph found it: no second lookup per module)."""
    return sorted(set(_closure(script=Path(script), src=Path(src), package=package).values()))


@dataclass(frozen=True)
class _Source:
    """A parsed module.

    Attributes:
        tree: its syntax tree.
        anchor: the package its relative imports start from (the module itself for a
            package's ``__init__.py``, else the package that holds it).
        scanned: the modules of its folder, for a package that scans itself; else none.
    """

    tree: ast.Module
    anchor: str
    scanned: tuple[str, ...] = ()


def _read(path: Path, *, module: str) -> _Source:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if path.name != "__init__.py":
        return _Source(tree=tree, anchor=module.rpartition(".")[0])
    scanned = ()
    if any(_scans_itself(node) for node in ast.walk(tree)):
        scanned = tuple(
            f"{module}.{child.stem}"
            for child in sorted(path.parent.iterdir())
            if (child.suffix == ".py" and child.name != "__init__.py")
            or (child / "__init__.py").is_file()
        )
    return _Source(tree=tree, anchor=module, scanned=scanned)


def _scans_itself(node: ast.AST) -> bool:
    """Whether ``node`` is a call ``iter_modules(__path__)`` (``pkgutil.`` or bare)."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    first = node.args[0]
    return name == "iter_modules" and isinstance(first, ast.Name) and first.id == "__path__"


def _modules(source: _Source, *, src: Path, package: str) -> Iterator[tuple[str, Path]]:
    """The modules of ``package`` (name, file) that ``source``'s import statements load:
    each name imported and every package on its way."""
    for name in _imported_names(source):
        parts = name.split(".")
        if parts[0] != package:
            continue
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if (path := module_file(name=prefix, src=src)) is not None:
                yield prefix, path


def _imported_names(source: _Source) -> Iterator[str]:
    """Absolute dotted names each import statement may load (submodule or attribute), and
    the modules a self-scanning package loads."""
    yield from source.scanned
    for node in _runtime_imports(source.tree.body):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
            continue
        base = _absolute(node, anchor=source.anchor)
        yield base
        yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def _absolute(node: ast.ImportFrom, *, anchor: str) -> str:
    """The absolute module a ``from ... import`` statement names (PEP 328: each leading
    dot beyond the first goes one package up from the anchor)."""
    if node.level == 0:
        return node.module or ""
    parts = anchor.split(".")
    parts = parts[: len(parts) - node.level + 1]
    return ".".join([*parts, *([node.module] if node.module else [])])


# Only statements hold import statements (an expression, a lambda's body included, cannot),
# so the walk never descends into expressions: most of a module's nodes.
_HOLDS_IMPORTS = (ast.stmt, ast.excepthandler, ast.match_case)


def _runtime_imports(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement among ``nodes`` and below, except under ``if TYPE_CHECKING``."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _runtime_imports(node.orelse)
        else:
            yield from _runtime_imports(
                child for child in ast.iter_child_nodes(node) if isinstance(child, _HOLDS_IMPORTS)
            )


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )
