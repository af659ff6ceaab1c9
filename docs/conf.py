"""Sphinx configuration of dnamodel's documentation site (``make docs``; docs/_build/html/index.html).

Nothing on the site is written twice. Its pages take their text where it lives: the guide from the
README (between its ``site:NAME`` markers), the model card from ``docs/model.md``, ARCHITECTURE.md,
the benchmarks' and the data's READMEs, the changelog. Two parts are generated here, at every
build, and never committed:

- ``docs/api/``: one page per public name, from ``dnamodel.__all__`` and ``dnamodel.plots.__all__``
  as they are when the site is built (autosummary stubs, numpydoc);
- ``docs/notebooks/NAME.ipynb``: the notebooks as ``make notebooks`` executed them, copied from
  ``results/notebooks/`` (or ``DNAMODEL_NOTEBOOKS``) and rendered by myst-nb with their outputs,
  never executed again here.

The maths is MathJax 3, shipped in ``docs/_static/mathjax/`` (``README.txt`` there says which
build), so that no page asks the network for anything.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
from pathlib import Path

import dnamodel
from dnamodel import plots

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NOTEBOOK_SOURCES = ROOT / "notebooks"
EXECUTED = Path(os.environ.get("DNAMODEL_NOTEBOOKS", ROOT / "results" / "notebooks"))

project = "dnamodel"
author = "dnamodel maintainers"
copyright = "dnamodel maintainers"
release = version = dnamodel.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]
exclude_patterns = ["_build", "_static", "_templates"]
templates_path = ["_templates"]
html_static_path = ["_static"]

# --- pages: MyST Markdown and the executed notebooks ------------------------------------------------

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
nb_execution_mode = "off"
"""The notebooks are rendered as ``make notebooks`` left them: executing them again here would double
the time CI spends on them, for the same outputs."""

# --- maths: MathJax from this folder, never from a CDN ------------------------------------------------

mathjax_path = "mathjax/tex-svg-full.js"
"""Relative to ``_static``. The ``-full`` build holds every TeX extension, so it loads nothing more."""
mathjax3_config = {"options": {"enableMenu": False}}
"""The menu's accessibility items would load components this copy does not ship."""

# --- API: autosummary stubs of the public names, numpydoc docstrings ------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"
"""The numpydoc sections give every parameter's type, in words; signatures stay short."""
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# --- theme ------------------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"dnamodel {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 8,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_show_search_summary = False
"""A result's summary is fetched from its page, which a browser refuses for a site opened from disk
(``file://``); the results themselves need only ``searchindex.js``."""
html_context = {"default_mode": "auto"}
"""Light or dark as the reader's system prefers (unset, the theme logs an error on every page)."""


def api_page() -> str:
    """The API index: one autosummary table per kind of public name, each name with a page of its own."""
    public = [(name, getattr(dnamodel, name)) for name in dnamodel.__all__]
    functions = [name for name, value in public if inspect.isfunction(value)]
    classes = [name for name, value in public if inspect.isclass(value)]
    other = [(name, value) for name, value in public if not (inspect.isfunction(value) or inspect.isclass(value))]
    figures = [name for name in plots.__all__ if inspect.isfunction(getattr(plots, name))]
    missing = set(plots.__all__) - set(figures)
    if missing:
        raise RuntimeError(f"dnamodel.plots.__all__ names what is not a function: {sorted(missing)}")

    def table(module: str, names: list[str], template: str) -> list[str]:
        return [
            f".. currentmodule:: {module}",
            "",
            ".. autosummary::",
            "   :toctree: .",
            f"   :template: {template}.rst",
            "",
            *(f"   {name}" for name in names),
            "",
        ]

    lines = [
        "API reference",
        "=============",
        "",
        "Every name in ``dnamodel.__all__`` and the figure module ``dnamodel.plots``, with its numpydoc",
        "docstring. This page is generated from the package when the site is built.",
        "",
        ".. automodule:: dnamodel",
        "   :no-members:",
        "",
        "Functions",
        "---------",
        "",
        *table("dnamodel", functions, "function"),
        "Classes",
        "-------",
        "",
        *table("dnamodel", classes, "class"),
    ]
    if other:
        lines += ["Attributes", "----------", ""]
        for name, value in other:
            lines += [f".. py:data:: {name}", "   :module: dnamodel", f"   :value: {value!r}", ""]
    lines += [
        "Figures: ``dnamodel.plots``",
        "---------------------------",
        "",
        ".. automodule:: dnamodel.plots",
        "   :no-members:",
        "",
        *table("dnamodel.plots", figures, "function"),
    ]
    return "\n".join(lines)


def write_if_changed(path: Path, text: str) -> None:
    """Write ``path`` only when its text changes, so that Sphinx rereads only what changed."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def generate_api() -> None:
    """``docs/api/index.rst`` from today's public names; stale stubs of names gone are removed."""
    folder = DOCS / "api"
    folder.mkdir(exist_ok=True)
    text = api_page()
    current = {f"dnamodel.{name}.rst" for name in dnamodel.__all__} | {
        f"dnamodel.plots.{name}.rst" for name in plots.__all__
    }
    for stub in folder.glob("dnamodel.*.rst"):
        if stub.name not in current:
            stub.unlink()
    write_if_changed(folder / "index.rst", text)


def copy_notebooks() -> None:
    """The executed notebooks, one for each ``notebooks/NN_*.py``, into ``docs/notebooks/``.

    A notebook not executed yet is an error that says how to execute it: the site never shows a
    notebook without its outputs.
    """
    names = sorted(path.stem for path in NOTEBOOK_SOURCES.glob("[0-9][0-9]_*.py"))
    missing = [name for name in names if not (EXECUTED / f"{name}.ipynb").is_file()]
    if missing:
        raise RuntimeError(
            f"no executed notebook {', '.join(missing)} in {EXECUTED}: run `make notebooks` "
            "(or `make docs`, which runs those missing)"
        )
    folder = DOCS / "notebooks"
    for stale in folder.glob("*.ipynb"):
        if stale.stem not in names:
            stale.unlink()
    for name in names:
        source, target = EXECUTED / f"{name}.ipynb", folder / f"{name}.ipynb"
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)


SITE_PAGES = {
    "README.md": "index",
    "ARCHITECTURE.md": "architecture",
    "CHANGELOG.md": "changelog",
    "benchmarks/README.md": "benchmarks",
    "notebooks/README.md": "notebooks/running",
    "dnamodel/data/bundled/README.md": "guide/data",
    "docs/_build/html/index.html": "index",
}
"""Files of the repository that the site shows as a page, by their path in the repository."""
LINK = re.compile(r"(!?\[[^\]]*\]\()([^()\s]+)(\))")


def site_links(_app, relative_path: Path, _parent: str, content: list[str]) -> None:
    """Links between the repository's files become links between the site's pages.

    An included file (the README, say) links to ``docs/model.md`` or ``ARCHITECTURE.md`` by its
    path in the repository; on the site those are pages, named from the source folder. A link to a
    file the site does not show is left as it is, and Sphinx warns (an error under ``-W``).
    """
    included = (DOCS / relative_path).resolve()

    def replace(match: re.Match[str]) -> str:
        target, _, anchor = match[2].partition("#")
        if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
            return match[0]
        path = (included.parent / target).resolve()
        if not path.is_relative_to(ROOT):
            return match[0]
        in_repo = path.relative_to(ROOT).as_posix()
        if in_repo in SITE_PAGES:
            site = f"/{SITE_PAGES[in_repo]}.md"
        elif path.is_relative_to(DOCS):
            site = f"/{path.relative_to(DOCS).as_posix()}"
        else:
            return match[0]
        return f"{match[1]}{site}{'#' + anchor if anchor else ''}{match[3]}"

    content[0] = LINK.sub(replace, content[0])


def setup(app) -> None:
    """Generate the API pages and copy the notebooks before Sphinx reads the sources."""
    generate_api()
    copy_notebooks()
    app.connect("include-read", site_links)
