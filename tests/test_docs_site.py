"""The built documentation site, as a reader opens it: from disk, in headless Chromium.

``make docs`` builds ``docs/_build/html``; these tests read that build and never start one. They
open the home page, the model card, the API index, one API page, the guide's page with the README's
figures and every notebook through Playwright in Debian's ``chromium`` (no browser of its own is
downloaded), and check that every image loaded, that every formula was typeset without a TeX error,
that no request left the site (each is recorded, and any that is not a file of the site is refused)
and that the browser logged no error; then that the search page finds pages through its index.
Full-page screenshots go to ``results/docs/``.

Without a built site these tests are skipped with the reason, and without chromium the browser ones
are; under ``DNAMODEL_REQUIRE_DOCS=1`` (set by ``.ci/run``, which runs this file after ``make
docs``, beside the main pytest session) both fail instead. A site built before the public API
changed fails ``test_every_public_name_has_its_page``: rebuild it with ``make docs``.
"""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

import dnamodel
from dnamodel import plots

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "docs" / "_build" / "html"
REQUIRED = os.environ.get("DNAMODEL_REQUIRE_DOCS") == "1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
NOTEBOOKS = sorted(path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
FIRST_FUNCTION = next(name for name in dnamodel.__all__ if inspect.isfunction(getattr(dnamodel, name)))
PAGES = {
    "index.html": 0,
    "model.html": 0,
    "api/index.html": 0,
    f"api/dnamodel.{FIRST_FUNCTION}.html": 0,
    "guide/estimate.html": 2,  # the README's two key figures
    **{f"notebooks/{name}.html": 1 for name in NOTEBOOKS},
}
"""The pages opened in the browser, each with the fewest images it must show."""


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        if REQUIRED:
            pytest.fail(f"DNAMODEL_REQUIRE_DOCS=1 but no site in {SITE}: run `make docs`")
        pytest.skip(f"no documentation site in {SITE}: `make docs` builds it")
    return SITE


@pytest.fixture(scope="module")
def browser(site):
    if CHROMIUM is None:
        if REQUIRED or os.environ.get("DNAMODEL_REQUIRE_BROWSER") == "1":
            pytest.fail("a browser is required but there is no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH: install Debian's chromium to open the site in a browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def test_every_public_name_has_its_page(site):
    for module, names in (("dnamodel", dnamodel.__all__), ("dnamodel.plots", plots.__all__)):
        for name in names:
            value = getattr(dnamodel if module == "dnamodel" else plots, name)
            if not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            page = site / "api" / f"{module}.{name}.html"
            assert page.is_file(), f"no page for {module}.{name}: rebuild the site with `make docs`"
            assert f'id="{module}.{name}"' in page.read_text(encoding="utf-8"), page
    assert 'id="dnamodel.__version__"' in (site / "api" / "index.html").read_text(encoding="utf-8")


def test_every_notebook_is_on_the_site_with_its_outputs(site):
    for name in NOTEBOOKS:
        text = (site / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
        assert text.count('class="cell_output') >= 3, name


def open_page(browser, url: str):
    """Open ``url`` in a fresh context; return the page and what it asked for, refused and logged."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    seen = {"requests": [], "outside": [], "failed": [], "errors": []}

    def route(route_):
        # a request for anything but a file of the site leaves it: record it and refuse it
        if not inside(route_.request.url):
            seen["outside"].append(route_.request.url)
            return route_.abort()
        return route_.continue_()

    context.route("**/*", route)
    page = context.new_page()
    page.on("request", lambda request: seen["requests"].append(request.url))
    page.on("requestfailed", lambda request: seen["failed"].append(request.url))
    page.on("console", lambda message: seen["errors"].append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.goto(url, wait_until="load")
    return context, page, seen


def inside(url: str) -> bool:
    """A ``data:`` URI, or a file of the site."""
    if url.startswith("data:"):
        return True
    parsed = urlparse(url)
    return parsed.scheme == "file" and Path(unquote(parsed.path)).resolve().is_relative_to(SITE.resolve())


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_page_in_chromium_shows_every_image_and_formula_and_fetches_nothing(browser, site, name):
    context, page, seen = open_page(browser, (site / name).as_uri())
    assert seen["outside"] == []  # before waiting for MathJax: a copy from a CDN would never arrive
    uses_mathjax = page.evaluate("typeof window.MathJax !== 'undefined'")
    if uses_mathjax:
        page.wait_for_function("window.MathJax.startup && window.MathJax.startup.promise", timeout=15_000)
        page.evaluate("MathJax.startup.promise")
    images = page.evaluate(
        """() => [...document.images].map(i => ({src: i.src, complete: i.complete, width: i.naturalWidth}))"""
    )
    maths = page.evaluate("document.querySelectorAll('.math').length")
    typeset = page.evaluate("document.querySelectorAll('.math mjx-container').length")
    tex_errors = page.evaluate("[...document.querySelectorAll('[data-mjx-error]')].map(e => e.dataset.mjxError)")

    assert len(images) >= PAGES[name]
    for image in images:
        assert image["complete"], image
        assert image["width"] > 0, image
    if maths:
        assert uses_mathjax, "a page with mathematics loads no MathJax"
        assert typeset == maths, f"{typeset} of {maths} formulas typeset"
    assert tex_errors == []
    assert seen["outside"] == []
    assert all(inside(url) for url in seen["requests"])
    assert seen["failed"] == []
    assert seen["errors"] == []
    if name in ("index.html", "model.html", f"api/dnamodel.{FIRST_FUNCTION}.html"):
        screenshot = ROOT / "results" / "docs" / f"{name.replace('/', '_').removesuffix('.html')}.png"
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    context.close()


def test_the_model_card_is_typeset(browser, site):
    context, page, seen = open_page(browser, (site / "model.html").as_uri())
    assert seen["outside"] == []
    page.wait_for_function("window.MathJax && window.MathJax.startup && window.MathJax.startup.promise", timeout=15_000)
    page.evaluate("MathJax.startup.promise")
    assert page.evaluate("document.querySelectorAll('.math mjx-container svg').length") > 100
    context.close()


def test_search_finds_pages_through_its_index(browser, site):
    assert (site / "searchindex.js").is_file()
    context, page, seen = open_page(browser, (site / "search.html").as_uri() + "?q=sweep")
    page.wait_for_selector("#search-results li", timeout=15_000)
    found = page.evaluate("[...document.querySelectorAll('#search-results li a')].map(a => a.href)")
    assert any(href.endswith("guide/sweeps.html") for href in found), found
    assert (site / "searchindex.js").as_uri() in seen["requests"]
    assert seen["outside"] == []
    assert seen["errors"] == []
    context.close()
