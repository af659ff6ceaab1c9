"""The README's examples are run, so that it cannot drift from the code.

Every ```python block runs, top to bottom, in one namespace per block; the minimal dated spec of
"Your own programme" (its ```toml block) is parsed and resolved against the shipped example's data.
The blocks are kept cheap (reduced draws) so that this stays a fast test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import dnamodel
from dnamodel.spec.dated import resolve_dated

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)


def test_the_readme_has_python_examples():
    assert len(blocks("python")) >= 2


def test_a_result_the_readme_shows_is_checked():
    shown = run_block("x = 6 * 7\nx  # 42\nx + 1  # 42\nx  # the answer\n", "sample")
    assert [(source, value, literal) for source, value, literal in shown] == [("x", 42, 42), ("x + 1", 43, 42)]


def run_block(code: str, name: str) -> list[tuple[str, object, object]]:
    """Run a block statement by statement; an expression whose line ends in ``# LITERAL`` must equal it.

    Returns the (source, value, literal) of every such expression.
    """
    namespace: dict[str, object] = {"__name__": "__readme__"}
    lines = code.splitlines()
    shown = []
    for statement in ast.parse(code).body:
        source = ast.get_source_segment(code, statement) or ""
        if isinstance(statement, ast.Expr):
            value = eval(compile(ast.Expression(statement.value), name, "eval"), namespace)
            comment = lines[statement.end_lineno - 1].partition("  # ")[2]
            try:
                literal = ast.literal_eval(comment.split(" ")[0] if comment[:1] not in "'\"" else comment)
            except (ValueError, SyntaxError):
                continue
            shown.append((source, value, literal))
        else:
            exec(compile(ast.Module([statement], type_ignores=[]), name, "exec"), namespace)
    return shown


@pytest.mark.parametrize("number", range(len(blocks("python"))))
def test_a_python_example_of_the_readme_runs_and_shows_what_it_says(number, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything an example writes lands here
    shown = run_block(blocks("python")[number], f"README.md, python block {number + 1}")
    assert [(source, value) for source, value, literal in shown if value != literal] == []


def test_the_minimal_spec_of_the_readme_fits_the_example(tmp_path):
    (spec_text,) = [b for b in blocks("toml") if 'name = "my_programme"' in b]
    path = tmp_path / "my.toml"
    path.write_text(spec_text, encoding="utf-8")
    data = dnamodel.load_data(dnamodel.example_path("quillmoor") / "data")
    inputs = resolve_dated(dnamodel.load_model(path), data)
    assert inputs.observation == ("fernhollow", "kestrel_point")
    assert list(inputs.censor) == [0, 2]  # "at most 15,000" is an upper bound
