"""Renamed public names and moved arguments, kept for one release with a warning.

When a public function is renamed, its old name stays one release as :func:`deprecated_alias`:
the same function, which warns (``DeprecationWarning``) at each call and names the new one. When an
argument becomes keyword-only (``data``, in every public function: ``ARCHITECTURE.md``, "The public
API"), :func:`keyword_only_since` lets it still be given by position for one release, with the same
warning. Both keep the function's own signature and docstring visible to ``inspect`` and ``help``.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

REMOVAL = "the next release"
"""When a deprecated name or argument order stops working."""


def deprecated_alias(function: Callable[P, R], old: str) -> Callable[P, R]:
    """``function`` under its old name ``old``: it warns, then does what ``function`` does.

    Examples
    --------
    >>> import warnings
    >>> def leave_one_out(x: int) -> int:
    ...     return x
    >>> loo = deprecated_alias(leave_one_out, "loo")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     loo(3), str(caught[0].message)
    (3, 'dnamodel.loo is deprecated and will be removed in the next release; use dnamodel.leave_one_out')
    """
    message = f"dnamodel.{old} is deprecated and will be removed in {REMOVAL}; use dnamodel.{function.__name__}"

    @functools.wraps(function)
    def alias(*args: P.args, **kwargs: P.kwargs) -> R:
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return function(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated: use :func:`dnamodel.{function.__name__}`, of which this is the old name."
    return alias


def keyword_only_since(*names: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let the keyword-only parameters ``names`` still be given by position, after the others, for one release.

    They were positional before, in this order, right after the function's positional parameters;
    given so, they are passed by keyword and a ``DeprecationWarning`` names them.

    Examples
    --------
    >>> import warnings
    >>> @keyword_only_since("data")
    ... def fit(spec: str, *, data: str | None = None) -> tuple[str, str | None]:
    ...     return spec, data
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     fit("dated", "mine"), "data=" in str(caught[0].message)
    (('dated', 'mine'), True)
    >>> fit("dated", data="mine")
    ('dated', 'mine')
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        parameters = inspect.signature(function).parameters.values()
        positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            if len(args) > positional:
                extra = args[positional:]
                if len(extra) > len(names):
                    raise TypeError(
                        f"{function.__name__}() takes {positional} positional arguments but {len(args)} were given"
                    )
                given = dict(zip(names, extra, strict=False))
                twice = sorted(given.keys() & kwargs.keys())
                if twice:
                    raise TypeError(f"{function.__name__}() got multiple values for {', '.join(twice)}")
                shown = ", ".join(f"{name}=" for name in given)
                warnings.warn(
                    f"dnamodel.{function.__name__}: give {shown} by keyword; by position it is deprecated and stops "
                    f"working in {REMOVAL}",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs.update(given)
                args = args[:positional]
            return function(*args, **kwargs)

        return wrapper

    return decorate
