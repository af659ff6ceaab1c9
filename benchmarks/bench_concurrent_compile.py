"""Two processes compiling the dated kernel into one empty numba cache at once, as `make test`'s workers do.

On a fresh clone, both xdist workers reach their first dated fit with numba's cache empty: each
compiles the log density and starts :mod:`dnamodel.inference.dated_compile`'s child for the
functions over draws, four compiles of the same code writing into one cache. This script starts two
small fits (2 × 150 draws after 250 tuning steps, seed 11) at once on an empty cache
(``NUMBA_CACHE_DIR``), then a third from the cache they left, and prints each one's seconds, whether
it started a child, and a hash of its posterior draws: one hash for all three is the same numbers,
and a third that starts no child found every compile in the cache.

Run: ``.venv/bin/python benchmarks/bench_concurrent_compile.py`` (about a minute on 2 cores).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIT = r"""
import hashlib, json, time
start = time.perf_counter()
import numpy as np
from dnamodel.data import load_data
from dnamodel.families import load_model
from dnamodel.inference import dated_compile
from dnamodel.inference.dated import fit_dated
fit = fit_dated(load_model("dated"), load_data(), draws=150, tune=250, chains=2, seed=11, prior_draws=300)
posterior = fit.idata.posterior
draws = b"".join(np.ascontiguousarray(posterior[name].values).tobytes() for name in sorted(posterior.data_vars))
print(json.dumps({"sha256": hashlib.sha256(draws).hexdigest()[:16], "seconds": round(time.perf_counter() - start, 1),
                  "child": dated_compile._child is not None}))
"""


def main() -> None:
    """Two fits at once on an empty cache, then a third from it; print their times, children and hashes."""
    checkout = Path(__file__).resolve().parents[1]
    env = os.environ | {"NUMBA_CACHE_DIR": tempfile.mkdtemp(prefix="dnamodel_numba_")}
    start = time.perf_counter()
    pair = [
        subprocess.Popen([sys.executable, "-c", FIT], cwd=checkout, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [json.loads(process.communicate()[0]) for process in pair]
    if any(process.returncode for process in pair):
        raise SystemExit("a fit on the empty cache failed")
    print(f"two at once on an empty cache, {time.perf_counter() - start:.1f} s wall:", *results, sep="\n  ")
    third = subprocess.run(
        [sys.executable, "-c", FIT], cwd=checkout, env=env, capture_output=True, text=True, check=True
    )
    results.append(json.loads(third.stdout))
    print("a third from their cache:", results[-1], sep="\n  ")
    hashes = {result["sha256"] for result in results}
    print(f"posterior hashes: {len(hashes)} distinct; the third started a child: {results[-1]['child']}")


if __name__ == "__main__":
    main()
