"""The documentation site's sources: its guide is the README's text, by markers, and nothing of it is lost.

The site (``make docs``, ``docs/conf.py``) takes each guide page from the README between a pair of
markers, ``<!-- site:NAME -->`` and ``<!-- /site:NAME -->``. These tests read the sources only, so
they run without Sphinx: a marker moved or deleted by an edit of the README, or a section of the
README that no page shows, fails here before it fails the build. The built site itself is tested in
``test_docs_site.py``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
INCLUDE = re.compile(r"^```\{include\} (?P<path>\S+)\n(?P<options>(?::[\w-]+:.*\n)*)```", re.MULTILINE)


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts and "_static" not in p.parts)


def readme_includes() -> list[tuple[Path, str, str]]:
    """(page, start-after, end-before) of every include of the README in the site's pages."""
    found = []
    for page in pages():
        for match in INCLUDE.finditer(page.read_text(encoding="utf-8")):
            if (page.parent / match["path"]).resolve() != ROOT / "README.md":
                continue
            options = dict(re.findall(r"^:([\w-]+): (.*)$", match["options"], flags=re.MULTILINE))
            found.append((page, options.get("start-after", ""), options.get("end-before", "")))
    return found


def test_the_guide_pages_include_the_readme():
    included = {page.relative_to(DOCS).as_posix() for page, _, _ in readme_includes()}
    assert {
        "index.md",
        "guide/quickstart.md",
        "guide/estimate.md",
        "guide/programme.md",
        "guide/sweeps.md",
        "guide/report.md",
        "guide/commands.md",
        "notebooks/index.md",
    } <= included


def test_each_include_names_a_pair_of_markers_that_encloses_text():
    for page, start, end in readme_includes():
        name = re.fullmatch(r"<!-- site:([a-z-]+) -->", start)
        assert name, f"{page}: start-after {start!r} is not a site marker"
        assert end == f"<!-- /site:{name[1]} -->", f"{page}: end-before {end!r} does not close {start!r}"
        assert README.count(start) == 1, f"README.md has {README.count(start)} of {start!r}"
        assert README.count(end) == 1, f"README.md has {README.count(end)} of {end!r}"
        text = README[README.index(start) + len(start) : README.index(end)]
        assert README.index(start) < README.index(end), f"{start!r} comes after {end!r}"
        assert len(text.split()) > 20, f"{page}: {start!r} encloses almost nothing"


def test_every_marker_of_the_readme_is_used_by_a_page():
    used = {marker for _, start, end in readme_includes() for marker in (start, end)}
    markers = set(re.findall(r"<!-- /?site:[a-z-]+ -->", README))
    assert markers == used


def test_every_section_of_the_readme_is_on_the_site():
    spans = [(README.index(start), README.index(end)) for _, start, end in readme_includes()]
    for heading in re.finditer(r"^## .+$", README, flags=re.MULTILINE):
        # inside a marked part, or the heading of one (a page gives its own title to the text below it)
        shown = any(
            low < heading.start() < high or (heading.end() <= low and not README[heading.end() : low].strip())
            for low, high in spans
        )
        assert shown, f"no page shows {heading[0]!r}"


def test_the_readme_links_to_the_built_site():
    assert "(docs/_build/html/index.html)" in README
    assert "make docs" in README


def test_the_vendored_mathjax_is_the_one_its_readme_names():
    folder = DOCS / "_static" / "mathjax"
    named = re.search(r"sha256 ([0-9a-f]{64})", (folder / "README.txt").read_text(encoding="utf-8"))[1]
    assert hashlib.sha256((folder / "tex-svg-full.js").read_bytes()).hexdigest() == named
    assert "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8")
