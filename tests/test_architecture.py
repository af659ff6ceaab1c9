"""ARCHITECTURE.md is checked against the code: its module map lists exactly the modules that exist."""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_module_map_matches_the_package():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(dnamodel/[\w/]+\.py)` \|", section, flags=re.MULTILINE))
    present = {str(path.relative_to(ROOT)) for path in (ROOT / "dnamodel").rglob("*.py")}
    assert listed == present
