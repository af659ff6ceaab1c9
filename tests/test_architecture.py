"""ARCHITECTURE.md is checked against the code, and the code against the layering it states.

- The module map lists exactly the modules that exist, each with its stage; a module over 800
  lines is listed, with its reason, under "Long modules".
- A module imports only from its own stage or an earlier one (the stages are the path a figure
  takes, in :data:`STAGES`), and dnamodel's modules import one another without cycles; no engine
  module imports the case study, an application on top.
- Every import of a dnamodel module is at the top of its module, never inside a function.
- Nothing outside the model families (``dnamodel/families/``) tells the kinds of model apart: no
  ``isinstance`` on a kind's spec, inputs or fit, no comparison with a kind's name, no table keyed by
  kinds, no reading of a fit's ``model_kind`` (:func:`kind_dispatch`).
- The public API (``dnamodel.__all__``) holds functions and classes, not modules, and every
  ``dnamodel.NAME`` the README calls or a notebook uses is in it; its functions, and those of the
  public figure module ``dnamodel.plots``, have numpydoc docstrings with runnable examples, typed
  signatures, ``data`` as a keyword-only argument, and a name defined once in the package.

The imports are read with ``ast``, inside functions too, so an import hidden in a function to
dodge a cycle is seen.
"""

from __future__ import annotations

import ast
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dnamodel
from dnamodel import plots

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "dnamodel"

STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        ("dnamodel.errors", "dnamodel.dims", "dnamodel.provenance", "dnamodel.files", "dnamodel.deprecation"),
    ),
    ("data", ("dnamodel.data",)),
    ("spec", ("dnamodel.spec",)),
    ("montecarlo", ("dnamodel.montecarlo",)),
    ("inference", ("dnamodel.inference",)),
    ("checks", ("dnamodel.checks",)),
    ("outputs", ("dnamodel.outputs",)),
    ("families", ("dnamodel.families",)),
    ("workflows", ("dnamodel.workflows",)),
    ("casestudy", ("dnamodel.casestudy",)),
    ("interface", ("dnamodel.cli", "dnamodel.__main__", "dnamodel.plots", "dnamodel.applications", "dnamodel")),
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


# --- model kinds -----------------------------------------------------------------------------------

FAMILIES_PACKAGE = "dnamodel.families"
DISPATCH_BUDGET = 5
"""Issue 19: at most this many sites outside the families may tell kinds apart (there were 47)."""
ALLOWED_DISPATCH: dict[str, str] = {}
"""Sites outside the families allowed to tell kinds apart, ``"module:line"``: why. None are needed."""


def _kind_names() -> tuple[set[str], set[str]]:
    """The kinds' names, and the names of the classes only one kind has (spec, inputs, fit, family)."""
    from dnamodel.families import FAMILIES

    kinds = {family.kind for family in FAMILIES}
    classes = {family.spec_class.__name__ for family in FAMILIES} | {type(family).__name__ for family in FAMILIES}
    classes |= {"ModelInputs", "DatedInputs", "Fitted", "DatedFit", "Resolved"}
    return kinds, classes


def _names_in(node: ast.AST) -> set[str]:
    found = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return found | {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def kind_dispatch(tree: ast.AST, kinds: set[str], classes: set[str]) -> list[tuple[int, str]]:
    """Where a module tells kinds of model apart, ``(line, code)``.

    An ``isinstance`` on a class only one kind has; a comparison with a kind's name (``== "dated"``,
    ``in ("dated", ...)``); a dict keyed by kinds' names (a dispatch table); and reading a fit's or a
    spec's kind (``attrs["model_kind"]``, ``.get("model_kind")``, ``.get("kind")``).
    """
    sites = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            if len(node.args) == 2 and _names_in(node.args[1]) & classes:
                sites.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Compare):
            constants = {
                c.value
                for part in (node.left, *node.comparators)
                for c in ast.walk(part)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
            if constants & kinds:
                sites.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            if len(keys & kinds) >= 2:
                sites.append((node.lineno, "a dict keyed by " + ", ".join(sorted(keys & kinds))))
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            if node.slice.value == "model_kind":
                sites.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in ("model_kind", "kind")
        ):
            sites.append((node.lineno, ast.unparse(node)))
    return sites


def test_the_counter_sees_each_form_of_kind_dispatch():
    kinds, classes = {"dated", "hierarchical"}, {"DatedSpec"}
    code = """
if isinstance(spec, DatedSpec | Other): pass
if kind == "dated": pass
if name in ("dated", "x"): pass
TABLE = {"dated": 1, "hierarchical": 2}
k = idata.attrs["model_kind"]
k = raw["model"].get("kind")
ok = {"dated": 1}  # one key is a name, not a table of kinds
ok = isinstance(x, int)
"""
    found = [line for line, _ in kind_dispatch(ast.parse(code), kinds, classes)]
    assert found == [2, 3, 4, 5, 6, 7]


def test_nothing_outside_the_model_families_tells_kinds_apart():
    kinds, classes = _kind_names()
    sites = {}
    for module, path in modules().items():
        if module == FAMILIES_PACKAGE or module.startswith(FAMILIES_PACKAGE + "."):
            continue
        for line, code in kind_dispatch(ast.parse(path.read_text(encoding="utf-8")), kinds, classes):
            sites[f"{module}:{line}"] = code
    unexplained = {site: code for site, code in sites.items() if site not in ALLOWED_DISPATCH}
    assert unexplained == {}
    assert len(sites) <= DISPATCH_BUDGET


def test_the_families_do_tell_kinds_apart():
    """The counter is not blind: the one place that chooses a kind's family is seen by it."""
    kinds, classes = _kind_names()
    tree = ast.parse((PACKAGE / "families" / "__init__.py").read_text(encoding="utf-8"))
    assert kind_dispatch(tree, kinds, classes)


def test_no_engine_module_imports_the_case_study():
    engine = [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in all_imports()
        if imp.target.startswith("dnamodel.casestudy") and stage_of(imp.module) not in ("casestudy", "interface")
    ]
    assert engine == []


# --- module size -----------------------------------------------------------------------------------

MAX_LINES = 800


def test_a_long_module_says_why_in_architecture_md():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Long modules", 1)[1].split("\n## ", 1)[0]
    reasons = dict(re.findall(r"^- `(dnamodel/[\w/]+\.py)`: (.+)$", section, flags=re.MULTILINE))
    long = {
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }
    assert sorted(long - set(reasons)) == []  # over 800 lines without a reason
    assert sorted(set(reasons) - long) == []  # a reason for a module no longer long


# --- the public API's signatures ---------------------------------------------------------------------


def _public_functions() -> dict[str, types.FunctionType]:
    import inspect

    public = {name: getattr(dnamodel, name) for name in dnamodel.__all__}
    public |= {f"plots.{name}": getattr(plots, name) for name in plots.__all__}
    return {name: obj for name, obj in public.items() if inspect.isfunction(obj)}


def test_data_is_a_keyword_argument_of_every_public_function():
    """One rule: a public function that reads data takes them as ``data=``, keyword-only, default ``None``."""
    import inspect

    wrong = {}
    for name, function in _public_functions().items():
        parameter = inspect.signature(function).parameters.get("data")
        if parameter is not None and (parameter.kind is not parameter.KEYWORD_ONLY or parameter.default is not None):
            wrong[name] = str(parameter)
    assert wrong == {}
    assert "data" in inspect.signature(dnamodel.fit).parameters  # the rule is being read


def test_public_signatures_are_typed():
    """Every parameter and every return annotated, and none of them ``Any`` alone."""
    import inspect

    untyped = {}
    for name, function in _public_functions().items():
        signature = inspect.signature(function)
        annotations = {p.name: p.annotation for p in signature.parameters.values()}
        annotations["return"] = signature.return_annotation
        bad = [k for k, a in annotations.items() if a in (inspect.Parameter.empty, "Any", Any)]
        if bad:
            untyped[name] = bad
    assert untyped == {}


FIGURE_WRAPPERS = {"campaign_plot", "covariate_plot", "parameter_plot", "prior_predictive_plot"}
"""The public figure module's functions that take the fit alone and draw through ``outputs.plots``'s
function of the same name and meaning, which takes the model's inputs (and labels) as well."""


def test_a_public_name_is_defined_once_in_the_package():
    """One verb, one meaning: a public function's name is not defined by another module-level function."""
    defined: dict[str, list[str]] = {}
    for module, path in modules().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                defined.setdefault(node.name, []).append(module)
    names = set(dnamodel.__all__) | set(plots.__all__) | set(dnamodel.DEPRECATED.values())
    twice = {
        name: where
        for name, where in defined.items()
        if name in names and len(set(where)) > (2 if name in FIGURE_WRAPPERS else 1)
    }
    assert twice == {}
    assert len(defined["predictive_checks"]) == 1  # the test is reading the definitions


def test_every_old_name_is_kept_and_left_out_of_the_public_list():
    for old, new in dnamodel.DEPRECATED.items():
        assert callable(getattr(dnamodel, old))
        assert old not in dnamodel.__all__
        assert new in dnamodel.__all__
