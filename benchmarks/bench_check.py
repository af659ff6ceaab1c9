"""``dnamodel data check`` on a large generated ``observations.csv``, against reading it alone.

Validation must grow linearly with the file: a user who exports the data and appends many rows
should get an answer in about the time reading them takes, not hours. The script writes a valid
data folder (the bundled files, with ``observations.csv`` grown by generated rows to the size
asked for), then times, in the same run:

- ``dnamodel data check --data DIR`` as a fresh process (what a user waits for);
- ``load_data(DIR)`` in this process (parse every row, validate every row and reference);
- the baseline: ``csv.reader`` over the same four files, no checks.

The generated rows repeat, for every unit in turn, the shapes the loader checks hardest: a whole-unit
population, a whole-unit sample count set against it (a row without a subarea is compared with every
population known for its unit), a coverage share of the two, and a village count that is part of
the unit's count.

Run: ``.venv/bin/python benchmarks/bench_check.py [MEGABYTES ...]`` (default 50). Prints Markdown.
"""

import csv
import io
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dnamodel.data import FILES, bundled_dir, load_data

SOURCE = "Generated for bench_check.py, a row of the shape the report prints"


def generate(folder: Path, megabytes: float) -> int:
    """A valid data folder whose ``observations.csv`` is about ``megabytes`` MB; returns its row count."""
    shutil.copytree(bundled_dir(), folder)
    units = list(csv.DictReader(io.StringIO((folder / "units.csv").read_text(encoding="utf-8"))))
    target = int(megabytes * 1_000_000)
    path = folder / "observations.csv"
    rows = 0
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        k = 0
        while handle.tell() < target:
            unit = units[k % len(units)]
            uid, population = unit["id"], int(unit["population"])
            g = f"gen{k}"
            samples = 1 + k % max(1, population // 2)
            writer.writerows(
                [
                    [f"{g}_population", uid, "", "population", population, "", "2020", "", "", "", "",
                     "census", SOURCE, "2020", ""],
                    [f"{g}_samples", uid, "", "samples_cumulative", samples, "", "2020-06", "2020-01", "",
                     f"{g}_population", "", "source", SOURCE, "2020-06", ""],
                    [f"{g}_share", uid, "", "coverage_share", "0.0001", "", "2020-06", "", f"{g}_samples",
                     f"{g}_population", "", "report", SOURCE, "", ""],
                    [f"{g}_village", uid, f"Village {k}", "samples_cumulative", 1, "", "2020-06", "2020-01",
                     "", "", f"{g}_samples", "source", SOURCE, "2020-06", ""],
                ]
            )  # fmt: skip
            rows += 4
            k += 1
    return rows


def read_only(folder: Path) -> None:
    """The baseline: every row of the four files through ``csv.reader``, no checks."""
    for name in FILES:
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            for _ in csv.reader(handle):
                pass


def seconds(action: Callable[[], object]) -> float:
    """Wall time of one call of ``action``."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main(sizes: list[float]) -> None:
    """Time each size and print the table."""
    print(f"Python {platform.python_version()}, {platform.machine()}; generated rows appended to the bundled data.\n")
    print(
        "| observations.csv | rows | `csv.reader` (baseline) | `load_data` | ratio "
        "| `data check`, fresh process | ratio |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for megabytes in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "data"
            rows = generate(folder, megabytes)
            size = (folder / "observations.csv").stat().st_size / 1e6
            baseline = seconds(lambda folder=folder: read_only(folder))
            load = seconds(lambda folder=folder: load_data(folder))
            command = [sys.executable, "-m", "dnamodel", "data", "check", "--data", str(folder)]
            check = seconds(lambda command=command: subprocess.run(command, check=True, capture_output=True))
            print(
                f"| {size:.1f} MB | {rows:,} | {baseline:.2f} s | {load:.2f} s | {load / baseline:.0f}× "
                f"| {check:.2f} s | {check / baseline:.0f}× |"
            )


if __name__ == "__main__":
    main([float(arg) for arg in sys.argv[1:]] or [50.0])
