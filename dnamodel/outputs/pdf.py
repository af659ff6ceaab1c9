"""The HTML report as PDF, printed by headless Chromium through Playwright, when both are installed.

Neither is a dependency of dnamodel: Playwright is a Python package (``pip install playwright``),
and the browser is the system's Chromium (Debian's ``chromium``, the one the tests open the report
in), never one Playwright downloads. :func:`pdf_printer` says, before any work, whether a PDF can
be printed here, and how to install what is missing; :func:`page_pdf` prints a page to bytes, for
an atomic write.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dnamodel.errors import UsageError

CHROMIUM_FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run")
"""Chromium's flags for printing a local page: no sandbox (it runs as root in CI), and nothing fetched."""

INSTALL = (
    "install Playwright (pip install playwright) and a Chromium (apt-get install chromium on Debian or "
    "Ubuntu; or name a Chromium with DNAMODEL_CHROMIUM=PATH)"
)


def pdf_printer() -> str:
    """The Chromium that prints the PDF: ``$DNAMODEL_CHROMIUM``, or ``chromium`` on the ``PATH``.

    Raises
    ------
    UsageError
        When Playwright or a Chromium is missing, saying how to install them.
    """
    try:
        import playwright.sync_api  # noqa: F401  (deferred: an optional package, only --pdf needs it)
    except ImportError:
        raise UsageError(f"--pdf: Playwright is not installed; {INSTALL}") from None
    named = os.environ.get("DNAMODEL_CHROMIUM")
    if named:
        if not (os.path.isfile(named) and os.access(named, os.X_OK)):
            raise UsageError(f"--pdf: DNAMODEL_CHROMIUM={named} is not a program that can be run")
        return named
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise UsageError(f"--pdf: no Chromium on the PATH; {INSTALL}")
    return found


def page_pdf(page: str | Path, chromium: str) -> bytes:
    """The HTML file ``page`` printed as an A4 PDF (backgrounds printed), by ``chromium``.

    The report fetches nothing (its Content-Security-Policy), so printing needs no network.
    """
    from playwright.sync_api import Error, sync_playwright  # deferred: an optional package

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_FLAGS))
            try:
                tab = browser.new_page()
                tab.goto(Path(page).resolve().as_uri(), wait_until="load")
                content: bytes = tab.pdf(format="A4", print_background=True)
            finally:
                browser.close()
    except Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(f"--pdf: {chromium} could not print {page} ({reason})") from None
    return content
