"""The decisive assumptions' refits with and without importance sampling, side by side, into empty folders.

Usage: ``python benchmarks/bench_assumptions_importance.py importance exact importance``: one
``run_assumptions`` of the bundled default model per argument, in the order given, each into a new
empty folder (``importance``: candidates of the default's parameters reweighted first; ``exact``:
``importance=False``, every one sampled). Prints one JSON line per run: wall time, the load average
before and after, how each refit started, the sampler steps (tuning and draws of every chain), and
the decisive settings with the robust range, so that runs can be checked to agree.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.workflows.assumptions import POINTS_FOLDER, run_assumptions


def main(runs: list[str]) -> None:
    """Run :func:`run_assumptions` once per entry of ``runs`` and print what it measured."""
    spec, data = load_model("dated"), load_data()
    for label in runs:
        if label not in ("importance", "exact"):
            raise SystemExit(f"each run is 'importance' or 'exact', not {label!r}")
        out = tempfile.mkdtemp(prefix=f"assumptions-{label}-")
        load_before = os.getloadavg()[0]
        begin = time.perf_counter()
        found = run_assumptions(spec, data, out, importance=label == "importance")
        wall = time.perf_counter() - begin
        starts: Counter[str] = Counter()
        steps = 0
        for file in (Path(out) / POINTS_FOLDER).glob("*.json"):
            point = json.loads(file.read_text(encoding="utf-8"))["result"]
            starts[point["start"]] += 1
            steps += spec.sampler.chains * (point["tune"] + (0 if point["start"] == "importance" else point["draws"]))
        default = found.default or {}
        record = {
            "run": label,
            "wall_s": round(wall, 1),
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "starts": dict(starts),
            "sampler_steps": steps,
            "decisive": [(o.setting, round(o.median), round(o.low), round(o.high)) for o in found.decisive],
            "robust": [round(v) for v in found.robust_range(default["low"], default["high"])],
        }
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["importance", "exact", "importance"])
