"""The teaching notebooks are well formed; `make notebooks` executes them (`notebooks/run.py`).

These tests read the notebooks without running them: each is a jupytext percent-format file, its
first code cell alone is tagged ``parameters`` and reads the settings from ``DNAMODEL_*``
environment variables, those settings reach the API as arguments, and nothing patches dnamodel or
a sampler, and they import only the public API (``dnamodel`` and the names it exports).
"""

import ast
import importlib.util
from pathlib import Path

import jupytext
import pytest

import dnamodel

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# Each notebook's settings: the environment variables its parameters cell must read, and for each
# parameter, a keyword it must be passed as to some call (the API's own argument, not a patch).
SETTINGS = {
    "01_replicate_report": ({"DNAMODEL_NOTEBOOK_OUT"}, {}),
    "02_monte_carlo": (
        {"DNAMODEL_MC_DRAWS", "DNAMODEL_SEED", "DNAMODEL_NOTEBOOK_OUT"},
        {"MC_DRAWS": "draws", "SEED": "seed"},
    ),
    "03_dated_fit": (
        {"DNAMODEL_DRAWS", "DNAMODEL_TUNE", "DNAMODEL_CHAINS", "DNAMODEL_SEED", "DNAMODEL_NOTEBOOK_OUT"},
        {"DRAWS": "draws", "TUNE": "tune", "CHAINS": "chains", "SEED": "seed"},
    ),
    "04_sensitivity": (
        {"DNAMODEL_DRAWS", "DNAMODEL_TUNE", "DNAMODEL_CHAINS", "DNAMODEL_SEED", "DNAMODEL_NOTEBOOK_OUT"},
        {"DRAWS": "draws", "TUNE": "tune", "CHAINS": "chains", "SEED": "seed"},
    ),
}
SAMPLER_PACKAGES = ("dnamodel", "pymc", "pytensor", "nutpie", "arviz", "numpy")
"""Packages whose objects a notebook must not patch: reduced draws are arguments, never patches."""


def read(name: str):
    return jupytext.read(NOTEBOOKS / f"{name}.py")


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def environment_reads(source: str) -> set[str]:
    """The environment variables code reads: ``os.environ.get(NAME)``, ``os.environ[NAME]``, ``os.getenv(NAME)``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            environ = node.func.attr in ("get", "pop") and _is_environ(node.func.value)
            if (environ or node.func.attr == "getenv") and node.args:
                names.add(_constant(node.args[0]))
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            names.add(_constant(node.slice))
    return names


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _constant(node: ast.AST) -> str:
    return node.value if isinstance(node, ast.Constant) else ast.unparse(node)


def patches(source: str) -> list[str]:
    """Assignments to, deletions of or ``setattr`` on objects imported from the sampler packages."""
    tree = ast.parse(source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in SAMPLER_PACKAGES:
                    imported.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SAMPLER_PACKAGES:
            imported.update(alias.asname or alias.name for alias in node.names)

    def root(node: ast.AST) -> str | None:
        while isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    found = []
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and root(target) in imported:
                found.append(ast.unparse(target))
        attribute_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if attribute_call and node.func.id in ("setattr", "delattr") and node.args and root(node.args[0]) in imported:
            found.append(ast.unparse(node))
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [m for m in modules if m.startswith("unittest") or "monkeypatch" in m]
    return found


PUBLIC_MODULES = ("dnamodel", "dnamodel.plots")
"""The modules a notebook may import from: the package and its public figure module."""


def private_imports(source: str) -> list[str]:
    """Imports of dnamodel other than its public API: its internal modules, or names it does not export.

    Public are ``import dnamodel``, ``import dnamodel.plots``, ``from dnamodel import NAME`` for a
    NAME in ``dnamodel.__all__`` or a public module, and ``from dnamodel.plots import NAME`` for a
    NAME in ``dnamodel.plots.__all__``.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                alias.name
                for alias in node.names
                if alias.name.split(".")[0] == "dnamodel" and alias.name not in PUBLIC_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "dnamodel"):
            module = "." * node.level + (node.module or "")
            if module not in PUBLIC_MODULES:
                found.append(module)
                continue
            exported = set(importlib.import_module(module).__all__)
            if module == "dnamodel":
                exported |= {name.rsplit(".", 1)[1] for name in PUBLIC_MODULES if "." in name}
            found += [f"{module}.{alias.name}" for alias in node.names if alias.name not in exported]
    return found


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_the_notebooks_import_only_the_public_api(name):
    source = "\n".join(cell.source for cell in code_cells(read(name)))
    assert private_imports(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "from dnamodel.inference.dated import fit_dated",
        "import dnamodel.checks.dated as checks",
        "from dnamodel.checks import dated",
        "from dnamodel import checks",
        "from dnamodel import fit, _rebuilt",
        "from dnamodel.plots import _figure",
        "from .plots import tornado_plot",
    ],
)
def test_the_import_detector_sees_a_private_import(source):
    assert private_imports(source)


def test_the_import_detector_allows_the_public_api():
    source = "import dnamodel\nimport dnamodel.plots\nfrom dnamodel import plots\nfrom dnamodel.plots import rank_plot"
    assert private_imports(source) == []
    assert private_imports(f"from dnamodel import {', '.join(dnamodel.__all__)}") == []


def test_the_runner_finds_every_notebook():
    spec = importlib.util.spec_from_file_location("notebook_runner", NOTEBOOKS / "run.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    assert runner.available() == sorted(SETTINGS)


def test_the_readme_describes_every_notebook():
    readme = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    for name in SETTINGS:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_percent_format_with_a_python3_kernel(name):
    text = (NOTEBOOKS / f"{name}.py").read_text(encoding="utf-8")
    assert text.startswith("# ---\n# jupyter:\n#   jupytext:\n")
    notebook = read(name)
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "percent"
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    kinds = {cell.cell_type for cell in notebook.cells}
    assert kinds == {"markdown", "code"}
    title = notebook.cells[0]
    assert title.cell_type == "markdown"
    assert title.source.startswith(f"# {name[:2]} ·")


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_the_first_code_cell_alone_is_the_parameters_cell(name):
    cells = code_cells(read(name))
    tagged = [i for i, cell in enumerate(cells) if "parameters" in cell.metadata.get("tags", [])]
    assert tagged == [0]


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_settings_come_from_the_environment_in_the_parameters_cell_only(name):
    wanted, _ = SETTINGS[name]
    parameters, *rest = code_cells(read(name))
    assert environment_reads(parameters.source) == wanted
    for cell in rest:
        assert not environment_reads(cell.source), cell.source


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_settings_reach_the_api_as_arguments(name):
    _, keywords = SETTINGS[name]
    tree = ast.parse("\n".join(cell.source for cell in code_cells(read(name))))
    passed = {
        (keyword.value.id, keyword.arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if isinstance(keyword.value, ast.Name)
    }
    for parameter, keyword in keywords.items():
        assert (parameter, keyword) in passed, f"{parameter} is never passed as {keyword}="


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_nothing_is_monkeypatched(name):
    source = "\n".join(cell.source for cell in code_cells(read(name)))
    assert patches(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "import dnamodel.inference.sampling\ndnamodel.inference.sampling.sample = lambda *args, **kwargs: None",
        "from dnamodel.inference import sampling as s\ns.COMPILED_CACHE_SIZE = 0",
        "import nutpie\nsetattr(nutpie, 'sample', print)",
        "from dnamodel.checks.summary import summarize_fit\nsummarize_fit.__defaults__ = (None,)",
        "from unittest import mock",
    ],
)
def test_the_patch_detector_sees_a_patch(source):
    assert patches(source)


@pytest.mark.parametrize(
    "source",
    [
        'import os\nDRAWS = int(os.environ.get("DNAMODEL_DRAWS", 0)) or None',
        'import os\nDRAWS = int(os.environ["DNAMODEL_DRAWS"])',
        'from os import getenv\nimport os\nDRAWS = os.getenv("DNAMODEL_DRAWS")',
    ],
)
def test_environment_reads_are_seen(source):
    assert environment_reads(source) == {"DNAMODEL_DRAWS"}


def test_the_patch_detector_allows_ordinary_code():
    source = "import pandas as pd\nimport dnamodel\nframe = pd.DataFrame()\nframe.attrs = {}\nx = dnamodel.load_data()"
    assert patches(source) == []
