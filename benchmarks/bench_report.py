"""Drawing the report from a saved fit against refitting for it, in one run.

``dnamodel report --from FIT.nc`` exists so that an author fits once and draws many times. This
measures what that saves: the baseline is ``dnamodel report`` without ``--from``, which fits
(compile, sample, leave-one-out refits, power-scaling) and then draws. Each way runs in a fresh
process, as a user would run it, at the spec's own settings (4 chains x 2,500 draws), timed as wall
time of the whole command; both draw the same saved sweeps if ``results/sweeps`` exists. The two
HTML files must agree on the headline (the same fit, so the same numbers), or the script stops.

Run: ``make bench-report`` (about 3 minutes on 2 cores). Prints Markdown.
"""

import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 3
"""Draws from the saved fit, timed separately; the table gives the fastest and the slowest."""


def _run(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dnamodel", "report", *args], check=True, capture_output=True)
    return time.perf_counter() - start


def _headline(path: Path) -> str:
    match = re.search(r'<p class="headline">.*?</p>', path.read_text(encoding="utf-8"))
    if match is None:
        raise SystemExit(f"{path}: no headline")
    return match.group(0)


def main() -> None:
    """Time both ways and print the table."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        fitted = _run("--results", str(out), "--out", str(out / "fitted.html"))
        drawn = [
            _run("--from", str(out / "hierarchical_han.nc"), "--out", str(out / f"drawn{i}.html"))
            for i in range(REPEATS)
        ]
        if _headline(out / "fitted.html") != _headline(out / "drawn0.html"):
            raise SystemExit("the report drawn from the saved fit differs from the one fitted for it")
    print(f"Python {platform.python_version()}, {platform.machine()}, dnamodel report, default spec and settings.\n")
    print("| command | wall time (s) | ratio to the refit |")
    print("| --- | ---: | ---: |")
    print(f"| `dnamodel report` (baseline: fit, leave-one-out, power-scaling, draw) | {fitted:.1f} | 1.00 |")
    print(
        f"| `dnamodel report --from results/hierarchical_han.nc` ({REPEATS} runs) "
        f"| {min(drawn):.1f} to {max(drawn):.1f} "
        f"| {fitted / max(drawn):.1f}x to {fitted / min(drawn):.1f}x faster |"
    )


if __name__ == "__main__":
    main()
