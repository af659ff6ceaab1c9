"""The compiled loops of the Monte Carlo engine: the program interpreter and the streaming summary.

Two kernels, compiled by numba the first time a Monte Carlo run needs them and cached on disk
(``cache=True``), so that the compile is paid once per machine, not once per process:

- :func:`run_program` executes a program (:mod:`~dnamodel.montecarlo.program`) over blocks of
  :data:`BLOCK` draws: every instruction loops over one block of its registers, which stay in the
  processor's cache, and no operation allocates an array the size of a chunk;
- :func:`accumulate` adds a block of one output to its running sums (for the mean and standard
  deviation), its extremes and its fixed-grid histogram, while the block is in cache.

The functions here are plain Python written for numba; :func:`compiled` returns them compiled.
Their signatures are fixed (contiguous float64 and int64 arrays, draws first, each column
contiguous), so there is one compiled version of each, whatever the spec: a spec's expressions
reach the interpreter as data.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# numba's cache is keyed on this file: a change here recompiles, a change elsewhere does not. So
# everything the kernels read at compile time (the opcodes, the block size) is defined here, and
# the compiler of programs (dnamodel.montecarlo.program) imports it from here.

# Opcodes. u is the instruction's uniform column x; r[i] is register row i; n[k] is numbers[k].
UNIFORM = 0  # r[d] = n[z] + u * n[z + 1]                          (low, high − low)
TRIANGULAR = 1  # n[z:z + 6] = low, high, split, high − low, mode − low, high − mode
CHOICE = 2  # y alternatives: n[z:z + y − 1] cumulative weights, n[z + y − 1:z + 2y − 1] values
EMPIRICAL = 3  # y values at n[z:z + y], taken at ⌊u · y⌋
COPY = 4  # r[d] = u                                                (drawn before the interpreter)
CONSTANT = 5  # r[d] = n[z], filled once per call
ADD = 6  # r[d] = r[x] + r[y]
SUBTRACT = 7
MULTIPLY = 8
DIVIDE = 9
NEGATE = 10  # r[d] = −r[x]
WHERE = 11  # r[d] = r[y] where r[x] ≠ 0, else r[z]
MINIMUM = 12  # r[d] = minimum(r[x], r[y]), NaN if either is (as numpy.minimum)
MAXIMUM = 13

OPCODES = (
    "UNIFORM",
    "TRIANGULAR",
    "CHOICE",
    "EMPIRICAL",
    "COPY",
    "CONSTANT",
    "ADD",
    "SUBTRACT",
    "MULTIPLY",
    "DIVIDE",
    "NEGATE",
    "WHERE",
    "MINIMUM",
    "MAXIMUM",
)
"""Each opcode's name, by its number (for reading a program)."""

BLOCK = 256
"""Draws per register row: about 30 rows of 2 KB stay in a core's first- and second-level cache."""


def run_program(
    code: np.ndarray, numbers: np.ndarray, uniforms: np.ndarray, n: int, rows: int, outputs: np.ndarray, out: np.ndarray
) -> None:
    """Execute ``code`` on a matrix of uniforms and copy the registers ``outputs`` into ``out``.

    Parameters
    ----------
    code : ndarray of int64, shape (instructions, 5)
    numbers : ndarray of float64
    uniforms : ndarray of float64, shape (n × inputs,)
        An ``(n, inputs)`` matrix in Fortran order, flat: one column of uniforms per random input
        (of draws, for inputs drawn before), one after the other. Flat, so that a matrix of one
        column, which is C- as well as Fortran-contiguous, has the same type as any other.
    n : int
        Draws.
    rows : int
        Registers the code uses.
    outputs : ndarray of int64, shape (k,)
        The registers to copy out.
    out : ndarray of float64, shape (n × k,)
        An ``(n, k)`` matrix in Fortran order, flat.
    """
    slab = np.empty((max(rows, 1), BLOCK))
    for k in range(code.shape[0]):  # constants: once, for every block
        if code[k, 0] == CONSTANT:
            slab[code[k, 1], :] = numbers[code[k, 4]]
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        for k in range(code.shape[0]):
            op, d, x, y, z = code[k, 0], code[k, 1], code[k, 2], code[k, 3], code[k, 4]
            target = slab[d]
            if op == UNIFORM:
                u = uniforms[x * n + start : x * n + start + m]
                low, width = numbers[z], numbers[z + 1]
                for i in range(m):
                    target[i] = low + u[i] * width
            elif op == CHOICE:
                u = uniforms[x * n + start : x * n + start + m]
                if y == 2:  # the common either/or: a select the compiler vectorises
                    edge, first, second = numbers[z], numbers[z + 1], numbers[z + 2]
                    for i in range(m):
                        target[i] = second if u[i] >= edge else first
                else:
                    for i in range(m):
                        index = 0
                        for e in range(y - 1):
                            index += u[i] >= numbers[z + e]
                        target[i] = numbers[z + y - 1 + index]
            elif op == ADD:
                a, b = slab[x], slab[y]
                for i in range(m):
                    target[i] = a[i] + b[i]
            elif op == SUBTRACT:
                a, b = slab[x], slab[y]
                for i in range(m):
                    target[i] = a[i] - b[i]
            elif op == MULTIPLY:
                a, b = slab[x], slab[y]
                for i in range(m):
                    target[i] = a[i] * b[i]
            elif op == DIVIDE:
                a, b = slab[x], slab[y]
                for i in range(m):
                    target[i] = a[i] / b[i]
            elif op == WHERE:
                c, a, b = slab[x], slab[y], slab[z]
                for i in range(m):
                    p, q = a[i], b[i]  # both loaded first, so the choice is a select, not a branch
                    target[i] = p if c[i] != 0 else q
            elif op == NEGATE:
                a = slab[x]
                for i in range(m):
                    target[i] = -a[i]
            elif op == MINIMUM:
                a, b = slab[x], slab[y]
                for i in range(m):
                    p, q = a[i], b[i]
                    target[i] = p if (p < q or p != p) else q  # numpy.minimum: q when equal (−0, +0)
            elif op == MAXIMUM:
                a, b = slab[x], slab[y]
                for i in range(m):
                    p, q = a[i], b[i]
                    target[i] = p if (p > q or p != p) else q
            elif op == TRIANGULAR:
                u = uniforms[x * n + start : x * n + start + m]
                low, high, split = numbers[z], numbers[z + 1], numbers[z + 2]
                width, left, right = numbers[z + 3], numbers[z + 4], numbers[z + 5]
                for i in range(m):
                    if u[i] < split:
                        target[i] = low + math.sqrt(u[i] * width * left)
                    else:
                        target[i] = high - math.sqrt((1 - u[i]) * width * right)
            elif op == EMPIRICAL:
                u = uniforms[x * n + start : x * n + start + m]
                for i in range(m):
                    target[i] = numbers[z + min(int(u[i] * y), y - 1)]
            elif op == COPY:
                u = uniforms[x * n + start : x * n + start + m]
                for i in range(m):
                    target[i] = u[i]
        for j in range(outputs.shape[0]):
            source, target = slab[outputs[j]], out[j * n + start : j * n + start + m]
            for i in range(m):
                target[i] = source[i]


def accumulate(
    values: np.ndarray,
    shift: float,
    low: float,
    inverse_width: float,
    counts: np.ndarray,
    carried: np.ndarray,
    outside: np.ndarray,
    sums: np.ndarray,
) -> int:
    """Add ``values`` to a fixed-grid histogram; return sums, extremes and what falls off the grid.

    Parameters
    ----------
    values : ndarray of float64, shape (n,)
    shift : float
        Subtracted before summing, for the sum of squares' accuracy: the running mean.
    low, inverse_width : float
        Bin ``b`` holds ``low + b / inverse_width ≤ v < low + (b + 1) / inverse_width``.
    counts, carried : ndarray of uint16 and of int64, shape (bins,)
        A bin's count is ``carried + counts``, incremented in place: 16-bit counts, a quarter of the
        memory of 64-bit ones, so that more of them stay in cache while a stream scatters its
        increments over them; a count that reaches 2^16 carries into ``carried``.
    outside : ndarray of float64, shape (n,)
        Receives the values off the grid (and NaN), in order.
    sums : ndarray of float64, shape (4,)
        Set to Σ(v − shift), Σ(v − shift)², min and max of ``values``.

    Returns
    -------
    int
        How many values went to ``outside``.
    """
    n = values.shape[0]
    bins = counts.shape[0]
    # Four lanes of running sums and extremes, taken in turn: independent chains that the compiler
    # turns into one vector, in a fixed order (no reassociation), so the same values always give the
    # same sums. `v if v < low else low` is the processor's own minimum, which keeps `low` when v is NaN.
    s0 = s1 = s2 = s3 = 0.0
    q0 = q1 = q2 = q3 = 0.0
    low0 = low1 = low2 = low3 = math.inf
    high0 = high1 = high2 = high3 = -math.inf
    quads = n - n % 4
    for i in range(0, quads, 4):
        v0, v1, v2, v3 = values[i], values[i + 1], values[i + 2], values[i + 3]
        d0, d1, d2, d3 = v0 - shift, v1 - shift, v2 - shift, v3 - shift
        s0 += d0
        s1 += d1
        s2 += d2
        s3 += d3
        q0 += d0 * d0
        q1 += d1 * d1
        q2 += d2 * d2
        q3 += d3 * d3
        low0 = v0 if v0 < low0 else low0
        low1 = v1 if v1 < low1 else low1
        low2 = v2 if v2 < low2 else low2
        low3 = v3 if v3 < low3 else low3
        high0 = v0 if v0 > high0 else high0
        high1 = v1 if v1 > high1 else high1
        high2 = v2 if v2 > high2 else high2
        high3 = v3 if v3 > high3 else high3
    for i in range(quads, n):
        v0 = values[i]
        d0 = v0 - shift
        s0 += d0
        q0 += d0 * d0
        low0 = v0 if v0 < low0 else low0
        high0 = v0 if v0 > high0 else high0
    sums[0] = (s0 + s1) + (s2 + s3)
    sums[1] = (q0 + q1) + (q2 + q3)
    sums[2] = min(min(low0, low1), min(low2, low3))
    sums[3] = max(max(high0, high1), max(high2, high3))
    # The histogram in two passes: every bin index first (a loop the compiler vectorises), then the
    # increments alone, so that the processor overlaps their memory accesses.
    index = np.empty(n, dtype=np.int32)
    for i in range(n):
        position = (values[i] - low) * inverse_width
        inside = (position >= 0) & (position < bins)  # False for NaN
        index[i] = np.int32(position) if inside else -1
    off = 0
    for i in range(n):
        j = index[i]
        if j < 0:
            outside[off] = values[i]
            off += 1
        elif counts[j] == 65535:  # the 2^16-th: carried
            counts[j] = 0
            carried[j] += 65536
        else:
            counts[j] += 1
    return off


@dataclass(frozen=True)
class Kernels:
    """The kernels compiled: callables with the arguments of the functions of the same name."""

    run_program: Any
    accumulate: Any


_RUN_PROGRAM = "void(int64[:, ::1], float64[::1], float64[::1], int64, int64, int64[::1], float64[::1])"
_ACCUMULATE = "int64(float64[::1], float64, float64, float64, uint16[::1], int64[::1], float64[::1], float64[::1])"


@functools.cache
def compiled() -> Kernels:
    """The kernels, compiled by numba (from its on-disk cache after the first time on a machine).

    Examples
    --------
    >>> values = np.array([1.0, 2.0, 3.0, 10.0])
    >>> counts, carried = np.zeros(4, dtype=np.uint16), np.zeros(4, dtype=np.int64)
    >>> outside, sums = np.empty(4), np.empty(4)
    >>> compiled().accumulate(values, 2.0, 0.0, 1.0, counts, carried, outside, sums), counts.tolist(), outside[:1]
    (1, [0, 1, 1, 1], array([10.]))
    """
    # numba is imported here, not at the top: it costs about 0.3 s, and `dnamodel replicate` and
    # `audit` import this module through the package without drawing anything.
    import numba

    # error_model="numpy": a division by zero gives inf or NaN, as in NumPy, with no check per element
    jit = functools.partial(numba.njit, cache=True, nogil=True, error_model="numpy")
    return Kernels(run_program=jit(_RUN_PROGRAM)(run_program), accumulate=jit(_ACCUMULATE)(accumulate))
