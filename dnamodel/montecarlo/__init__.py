"""Monte Carlo: a spec's inputs drawn, its quantities evaluated, summarised, and ranked.

:mod:`~dnamodel.montecarlo.engine` holds the array kernels and the :class:`Engine`;
:mod:`~dnamodel.montecarlo.run` draws (``monte_carlo``) and summarises (``summarize``);
:mod:`~dnamodel.montecarlo.sensitivity` ranks the inputs (``sobol``, ``tornado``).
"""
