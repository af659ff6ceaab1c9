"""Monte Carlo: a spec's inputs drawn, its quantities evaluated, summarised, and ranked.

:mod:`~dnamodel.montecarlo.engine` holds the NumPy reference kernels and the :class:`Engine`;
:mod:`~dnamodel.montecarlo.program` flattens a spec into a register program, which the numba
kernels of :mod:`~dnamodel.montecarlo.kernels` run block by block;
:mod:`~dnamodel.montecarlo.run` draws (``monte_carlo``) and summarises by streaming (``stream_summary``);
:mod:`~dnamodel.montecarlo.sensitivity` ranks the inputs (``sobol``, ``tornado``).
"""
