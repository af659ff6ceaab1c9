"""ARCHITECTURE.md is checked against the code, and the code against the layering it states.

- The module map lists exactly the modules that exist, each with its stage.
- A module imports only from its own stage or an earlier one (the stages are the path a figure
  takes, in :data:`STAGES`), and dnamodel's modules import one another without cycles.
- Every import of a dnamodel module is at the top of its module, never inside a function.
- The public API (``dnamodel.__all__``) holds functions and classes, not modules, and every
  ``dnamodel.NAME`` the README calls or a notebook uses is in it; its functions, and those of the
  public figure module ``dnamodel.plots``, have numpydoc docstrings with runnable examples.

The imports are read with ``ast``, inside functions too, so an import hidden in a function to
dodge a cycle is seen.
"""

from __future__ import annotations

import ast
import re
import types
from dataclasses import dataclass
from pathlib import Path

import dnamodel
from dnamodel import plots

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "dnamodel"

STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("dnamodel.errors", "dnamodel.dims", "dnamodel.provenance", "dnamodel.files")),
    ("data", ("dnamodel.data",)),
    ("casestudy", ("dnamodel.casestudy",)),
    ("spec", ("dnamodel.spec",)),
    ("montecarlo", ("dnamodel.montecarlo",)),
    ("inference", ("dnamodel.inference",)),
    ("checks", ("dnamodel.checks",)),
    ("outputs", ("dnamodel.outputs",)),
    ("workflows", ("dnamodel.workflows",)),
    ("interface", ("dnamodel.cli", "dnamodel.__main__", "dnamodel.plots", "dnamodel")),
)
"""The stages in order, each with the modules (and packages, with everything in them) it holds."""

TYPE_ONLY_EXCEPTIONS = {"dnamodel.provenance": {"data"}}
"""Later stages a module may import from under ``if TYPE_CHECKING:`` only (for annotations)."""


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the dnamodel module imported
    line: int
    in_function: bool
    type_only: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def stage_of(module: str) -> str | None:
    """The stage of a module: the longest prefix listed in STAGES (the root package only exactly)."""
    best, length = None, -1
    for stage, prefixes in STAGES:
        for prefix in prefixes:
            exact = module == prefix
            inside = prefix != "dnamodel" and module.startswith(prefix + ".")
            if (exact or inside) and len(prefix) > length:
                best, length = stage, len(prefix)
    return best


def stage_index(stage: str) -> int:
    return [name for name, _ in STAGES].index(stage)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """Every import of a dnamodel module in ``path``, at any depth, resolved to the module it loads."""
    found: list[Import] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST, in_function: bool, type_only: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            in_function = True
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, in_function, True)
            for child in node.orelse:
                visit(child, in_function, type_only)
            return
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import, resolved against this module's package
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from dnamodel.outputs import plots` loads the module dnamodel.outputs.plots
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            if target == "dnamodel" or target.startswith("dnamodel."):
                found.append(Import(module, target, node.lineno, in_function, type_only))
        for child in ast.iter_child_nodes(node):
            visit(child, in_function, type_only)

    visit(ast.parse(path.read_text(encoding="utf-8")), False, False)
    return found


def all_imports() -> list[Import]:
    found = modules()
    return [imp for module, path in found.items() for imp in imports_of(module, path, set(found))]


# --- ARCHITECTURE.md -------------------------------------------------------------------------------


def test_module_map_matches_the_package():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(dnamodel/[\w/]+\.py)` \| (\w+) \|", section, flags=re.MULTILINE)
    listed = {path for path, _ in rows}
    present = {str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")}
    assert listed == present
    wrong = {path: (stage, stage_of(module_name(ROOT / path))) for path, stage in rows}
    assert {path: pair for path, pair in wrong.items() if pair[0] != pair[1]} == {}, "(listed, by STAGES)"


# --- layering --------------------------------------------------------------------------------------


def test_every_module_has_a_stage():
    assert [module for module in modules() if stage_of(module) is None] == []


def test_no_module_imports_from_a_later_stage():
    later = []
    for imp in all_imports():
        mine, theirs = stage_of(imp.module), stage_of(imp.target)
        if mine is None or theirs is None or stage_index(theirs) <= stage_index(mine):
            continue
        if imp.type_only and theirs in TYPE_ONLY_EXCEPTIONS.get(imp.module, set()):
            continue
        later.append(f"{imp.module}:{imp.line} ({mine}) imports {imp.target} ({theirs})")
    assert later == []


def test_no_import_cycles():
    graph: dict[str, set[str]] = {}
    for imp in all_imports():
        if not imp.type_only and imp.target != imp.module:
            graph.setdefault(imp.module, set()).add(imp.target)
    cycles, done, path = [], set(), []

    def visit(module: str) -> None:
        if module in path:
            cycles.append(" -> ".join([*path[path.index(module) :], module]))
            return
        if module in done:
            return
        path.append(module)
        for target in sorted(graph.get(module, ())):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert cycles == []


COMPILED_MODULES = {"dnamodel.inference.dated_kernel"}
"""Modules of numba-compiled code: importing one loads numba and its compiled kernels (about a
second), so they are imported inside the functions that sample, and only there (ARCHITECTURE.md)."""


def test_no_function_level_imports_of_dnamodel():
    inside = [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in all_imports()
        if imp.in_function and imp.target not in COMPILED_MODULES
    ]
    assert inside == []


def test_compiled_modules_are_imported_only_inside_functions():
    at_top = [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in all_imports()
        if imp.target in COMPILED_MODULES and not imp.in_function and not imp.module.startswith("tests")
    ]
    assert at_top == []


# --- the public API --------------------------------------------------------------------------------


def documented_names() -> set[str]:
    """``dnamodel.NAME`` as the README calls it, and as the notebooks use it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = set(re.findall(r"\bdnamodel\.([A-Za-z_]\w*)\(", readme))
    for notebook in (ROOT / "notebooks").glob("[0-9]*.py"):
        for node in ast.walk(ast.parse(notebook.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "dnamodel":
                names.add(node.attr)
    return names


def test_the_public_api_is_importable_has_no_modules_and_covers_the_docs():
    for name in dnamodel.__all__:
        value = getattr(dnamodel, name)  # AttributeError: exported but missing
        assert not isinstance(value, types.ModuleType), f"dnamodel.{name} is a module, not a function"
    documented = documented_names()
    assert "sweep" in documented  # the README's sweep example: the docs are being read
    assert sorted(documented - set(dnamodel.__all__)) == []


def test_every_public_function_has_a_numpydoc_docstring_with_a_runnable_example():
    """Every function of ``dnamodel.__all__``, and of the public figure module ``dnamodel.plots``."""
    import inspect

    public = {name: getattr(dnamodel, name) for name in dnamodel.__all__}
    public |= {f"plots.{name}": getattr(plots, name) for name in plots.__all__}
    lacking = {}
    for name, obj in public.items():
        if not inspect.isfunction(obj):
            continue
        doc = inspect.getdoc(obj) or ""
        sections = ["Returns", "Examples"] + (["Parameters"] if inspect.signature(obj).parameters else [])
        missing = [s for s in sections if f"\n{s}\n{'-' * len(s)}\n" not in f"\n{doc}"]
        examples = doc.split("Examples\n--------\n", 1)[-1]
        if ">>> " not in examples or "doctest: +SKIP" in examples:
            missing.append("a runnable example (>>>, not skipped)")
        if missing:
            lacking[name] = missing
    assert lacking == {}
