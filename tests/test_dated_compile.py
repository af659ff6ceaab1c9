"""The dated kernel's functions over draws, compiled in a child process on a cold numba cache.

:mod:`dnamodel.inference.dated_compile` compiles them for the argument types in its ``signatures``
while the parent compiles the density. These check that those are the types an ``estimate`` calls
them with (else the parent compiles again), that a warm cache starts no child, and (slow: the
child compiles for about 15 s) that on an empty cache the parent then loads every one of them.
"""

import json
import os
import subprocess
import sys

import pytest

from dnamodel.inference import dated_compile

CALLED = """
import json, sys
from dnamodel.cli import main
from dnamodel.inference import dated_kernel as K
from dnamodel.inference.dated_compile import signatures
main(["estimate", "--draws", "50", "--tune", "50", "--chains", "2", "--allow-bad-fit", "--assumptions", "off",
      "--out", sys.argv[1]])
print(json.dumps({name: sorted(map(str, getattr(K, name).signatures)) for name in signatures()}))
"""


def run(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_estimate_calls_the_functions_over_draws_with_the_childs_types_only(tmp_path):
    called = json.loads(run(CALLED, str(tmp_path / "out")).splitlines()[-1])
    declared = {name: sorted(map(str, sigs)) for name, sigs in dated_compile.signatures().items()}
    # each function the run calls, with no type the child does not compile (leave-one-out, forecasts,
    # predictive checks and the figures included); a function it does not call has no signature
    assert {name: sigs for name, sigs in called.items() if sigs} == declared


def test_a_warm_cache_starts_no_child():
    probe = (
        "from dnamodel.inference import dated_compile, dated_quantities; dated_quantities.compiled(); "
        "print(dated_compile._child is None)"
    )
    run(probe)  # fills numba's cache if it lacks anything
    assert run(probe).split() == ["True"]


@pytest.mark.slow
def test_on_an_empty_cache_the_child_compiles_what_the_parent_then_loads(tmp_path):
    code = """
from dnamodel.inference import dated_compile
from dnamodel.inference import dated_kernel as K
wanted = dated_compile.signatures()
assert sorted(dated_compile.missing(K)) == sorted(wanted)
dated_compile.start(K)
assert dated_compile._child is not None
dated_compile.wait()
assert dated_compile.missing(K) == []
for name, sigs in wanted.items():
    for sig in sigs:
        getattr(K, name).compile(sig)
    stats = getattr(K, name).stats
    print(name, sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
"""
    out = run(code, env=os.environ | {"NUMBA_CACHE_DIR": str(tmp_path)})
    loaded = {name: (int(hits), int(misses)) for name, hits, misses in (line.split() for line in out.splitlines())}
    assert loaded == {name: (len(sigs), 0) for name, sigs in dated_compile.signatures().items()}
