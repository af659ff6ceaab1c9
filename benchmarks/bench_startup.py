"""What a user of the command line feels: start-up, data validation, replicate and audit.

Each figure is a median over repeated runs, reported beside a baseline timed in the same run:

- ``dnamodel replicate`` as a fresh process, against a bare ``python -c pass`` (interpreter start)
  and against importing dnamodel's dependencies alone (pydantic, rich);
- ``load_data()`` (parse and validate every row and reference), against reading the same four
  CSV files with ``csv.DictReader`` and no checks;
- ``replicate()`` and ``audit()`` on loaded data, against ``load_data()``.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_startup.py``). Prints a Markdown table.
"""

import csv
import io
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from dnamodel.casestudy.audit import audit
from dnamodel.casestudy.replicate import replicate
from dnamodel.data import FILES, bundled_dir, load_data


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``action``."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def process(*argv: str) -> Callable[[], object]:
    """An action that runs a fresh Python process with ``argv``."""
    return lambda: subprocess.run([sys.executable, *argv], check=True, capture_output=True)


def read_csv_only() -> None:
    """Read the four bundled files with ``csv.DictReader`` and no checks: the validation baseline."""
    for name in FILES:
        with (bundled_dir() / name).open(encoding="utf-8") as handle:
            list(csv.DictReader(io.StringIO(handle.read())))


def main() -> None:
    """Time everything and print the Markdown table."""
    rows = []
    interpreter = median_seconds(process("-c", "pass"), 15)
    dependencies = median_seconds(process("-c", "import pydantic, rich.console, rich.table"), 15)
    command = median_seconds(process("-m", "dnamodel", "replicate"), 15)
    rows.append(("`dnamodel replicate`, fresh process", command, "`python -c pass`", interpreter))
    rows.append(("`dnamodel replicate`, fresh process", command, "import pydantic and rich only", dependencies))

    raw = median_seconds(read_csv_only, 200)
    load = median_seconds(load_data, 200)
    rows.append(("`load_data()`: parse and validate", load, "`csv.DictReader`, no checks", raw))

    data = load_data()
    rows.append(("`replicate(data=data)`", median_seconds(lambda: replicate(data=data), 200), "`load_data()`", load))
    rows.append(("`audit(data=data)`", median_seconds(lambda: audit(data=data), 200), "`load_data()`", load))

    print("| measured | median | baseline (same run) | median | ratio |")
    print("| --- | ---: | --- | ---: | ---: |")
    for name, seconds, baseline, base_seconds in rows:
        print(
            f"| {name} | {seconds * 1e3:.1f} ms | {baseline} | {base_seconds * 1e3:.1f} ms | "
            f"{seconds / base_seconds:.1f}× |"
        )


if __name__ == "__main__":
    main()
