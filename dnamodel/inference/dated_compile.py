"""The dated kernel's functions over draws, compiled in a child process while this one compiles the density.

On a machine whose numba cache does not hold the dated kernel yet (a fresh clone, or after its file
changed), the first process to sample it compiles two things it needs one after the other: the log
density the sampler calls (:func:`~dnamodel.inference.dated_kernel.logp_grad`, about 15 s on this
project's 2-core machine) and the functions over draws that follow the sampling
(:func:`~dnamodel.inference.dated_kernel.derive` and the rest, about 15 s more, with ArviZ's
histogram that the figures' density curves call). numba compiles on one core, under a lock that
serialises threads, so :func:`start` gives the second half to a child process
(:func:`compile_into_cache`), which writes it into the same on-disk cache
while this process compiles the density; :func:`wait` then blocks until the child is done, and
the functions over draws load from the cache. The numbers are the same: numba's cache holds the
code either process would compile.

:func:`signatures` gives the argument types the package calls each function with
(:mod:`dnamodel.inference.dated_quantities`); ``tests/test_dated_compile.py`` checks that a fit, its
checks and its figures call no other, and that, on an empty cache, the parent compiles none of them.
A warm cache starts no child (ArviZ's histogram, alone missing from a new environment, then compiles
in the figures, about 3 s). A function ``make run`` never calls (``log_likelihoods``,
``progress_at``: SBC, sweeps and the Monte Carlo comparisons) is left to compile on first use.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

CHILD = "import sys; from dnamodel.inference.dated_compile import compile_into_cache; compile_into_cache(sys.argv[1:])"
"""The child's program (``python -c``; ``-m`` would import this module twice, once as ``__main__``)."""

_child: subprocess.Popen[bytes] | None = None
_checked = False
"""Whether :func:`start` has asked numba's cache in this process (once: the kernel's file cannot change under it)."""


def signatures() -> dict[str, list[tuple[Any, ...]]]:
    """The argument types of each function over draws, as :mod:`~dnamodel.inference.dated_quantities` calls it."""
    import numba  # deferred: start-up time (ARCHITECTURE.md)

    real, integer = numba.float64, numba.int64
    vector, matrix, codes = numba.float64[::1], numba.float64[:, ::1], numba.int64[::1]
    curve = (integer, real, real, real)  # the campaign curve's family, ε, t_c and the date
    return {
        "derive": [(matrix, vector, real, *[matrix] * 11)],
        "collected_at": [(*curve, matrix, matrix, matrix, matrix, codes, matrix)],
        "stock_at": [(*curve, matrix, matrix, matrix, matrix, codes, codes, real, vector, vector, vector)],
        # a column of an unverified source's observation is a strided view: layout "A"
        "replicates": [(matrix, codes, vector, matrix, matrix), (numba.float64[:, :], codes, vector, matrix, matrix)],
    }


def missing(kernel: Any) -> list[str]:
    """The functions of :func:`signatures` of which numba's cache holds no compile for one of their signatures."""
    wanted = signatures()
    return [name for name, sigs in wanted.items() if not all(_cached(getattr(kernel, name), sig) for sig in sigs)]


def _cached(dispatcher: Any, sig: tuple[Any, ...]) -> bool:
    """Whether numba's on-disk cache holds ``dispatcher`` compiled for ``sig`` on this machine.

    numba's own test, without loading: the key it would look up (the signature, the CPU, the
    bytecode's hash) in the function's index, which is empty when the source file changed.
    """
    cache = dispatcher._cache  # numba's FunctionCache (numba pinned below 0.66 in pyproject.toml)
    key = cache._index_key(sig, dispatcher.targetctx.codegen())
    return key in cache._cache_file._load_index()


def start(kernel: Any) -> None:
    """Compile the functions over draws that numba's cache lacks in a child process; nothing when it has them all.

    Once per process: later calls neither ask the cache again nor start a child.
    """
    global _child, _checked
    if _checked:
        return
    _checked = True
    names = missing(kernel)
    if not names:
        return
    package_root = str(Path(__file__).resolve().parents[2])  # the child imports the dnamodel this process runs
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    _child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *names],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    atexit.register(_stop)


def wait() -> None:
    """Block until the child started by :func:`start`, if any, has written its compiles into numba's cache.

    Raises
    ------
    RuntimeError
        If the child failed, with its error: the functions would compile here all the same, but a
        child that cannot compile them is a bug to see, not to hide.
    """
    global _child
    child = _child
    if child is None or child.returncode is not None:
        return
    _, stderr = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(
            f"compiling the dated kernel's functions over draws in a child process failed "
            f"(exit {child.returncode}):\n{stderr.decode(errors='replace')[-2000:]}"
        )


def _stop() -> None:
    """At exit, end a child still compiling (numba writes each cache file whole, so none is left half written)."""
    if _child is not None and _child.returncode is None:
        _child.kill()
        _child.wait()


def compile_into_cache(names: list[str]) -> None:
    """The child's work: compile each named function for its :func:`signatures` (numba saves each to its cache).

    Then ArviZ's histogram, which the figures' density curves call (compiled by numba too, cached
    beside ArviZ), for the argument types they give it.
    """
    from dnamodel.inference import dated_kernel  # deferred: loads numba (ARCHITECTURE.md)

    wanted = signatures()
    for name in names:
        for sig in wanted[name]:
            getattr(dated_kernel, name).compile(sig)
    from arviz.stats.density_utils import histogram  # deferred: start-up time

    histogram(np.zeros(2), 2, (0.0, 1.0))
