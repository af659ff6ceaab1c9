"""What decides a fit's figure, gathered for ``estimate`` to say beside its sentence.

:func:`what_decides` computes, from the fit's own spec and data: the decisive assumptions and the
robust range with the total by the typed share (:func:`dnamodel.workflows.assumptions.run_assumptions`),
each quantity's posterior width against its prior's (:func:`dnamodel.checks.decisive.prior_widths`),
the share of the total collected after the last figure covering the whole region, and the warning
on selection. :class:`Said` holds them and their sentences and JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnamodel import dims
from dnamodel.checks.decisive import Assumptions, Width, data_sentence, decisive_sentence, prior_widths
from dnamodel.errors import UsageError
from dnamodel.families import Capability
from dnamodel.spec import parameters
from dnamodel.workflows.assumptions import (
    FIXED,
    ShareAfter,
    run_assumptions,
    selection_warning,
    share_after_last_regionwide,
)

MODES = ("compute", "cached", "off")


@dataclass
class Said:
    """The decisive assumptions, the κ table, the widths, the share after the last region-wide figure, selection."""

    assumptions: Assumptions | None = None
    widths: list[Width] = field(default_factory=list)
    share_after: ShareAfter | None = None
    selection: str | None = None
    persons: str = "people"
    region: str = "the region"
    """The study's words for the region (``study.toml``'s ``region``)."""
    power_scaling: Any = None
    labels: dict[str, str] = field(default_factory=dict)
    """Each width row's quantity in words (the registry's symbol and meaning in the study's words)."""
    fixed_symbol: str = "κ"
    fixed_words: str = "the typed share"
    """The κ table's parameter: its symbol and meaning, the registry's, in the study's words."""

    def decisive_sentence(self, summary: Any) -> str | None:
        """The second sentence (:func:`dnamodel.checks.decisive.decisive_sentence`), or None without one to cite."""
        if self.assumptions is None or summary.sentence is None:
            return None
        interval = summary.total.interval(0.9)
        return decisive_sentence(self.assumptions, interval.low, interval.high, self.persons)

    def data_sentence(self) -> str | None:
        """The sentence when the total is mostly prior (:func:`dnamodel.checks.decisive.data_sentence`)."""
        return data_sentence(self.widths, self.power_scaling)

    def share_after_sentence(self) -> str | None:
        """The share of the total collected after the last region-wide figure, with its 90% interval."""
        s = self.share_after
        if s is None:
            return None
        return (
            f"After {s.label} (the last figure covering the whole of {self.region}, {s.observation}) no datum "
            f"speaks of {self.region} as a whole: {s.median:.0%} of the total (90%: {s.low:.0%} to {s.high:.0%}) "
            "was collected after it, on the campaign curve the model assumes."
        )

    def as_dict(self, summary: Any) -> dict[str, Any]:
        """The JSON keys of what decides the figure.

        ``decisive_sentence``, ``decisive_assumptions``, ``robust_range``, ``assumptions``,
        ``total_by_fixed``, ``prior_widths``, ``data_sentence``, ``after_last_regionwide``, ``selection``.
        """
        interval = summary.total.interval(0.9)
        refits = (
            self.assumptions.as_dict(interval.low, interval.high)
            if self.assumptions is not None
            else {"decisive_assumptions": None, "robust_range": None, "assumptions": None, "total_by_fixed": None}
        )
        if summary.sentence is None:
            refits["robust_range"] = None
        return {
            "decisive_sentence": self.decisive_sentence(summary),
            **refits,
            "prior_widths": [w.as_dict() for w in self.widths],
            "data_sentence": self.data_sentence(),
            "after_last_regionwide": None if self.share_after is None else self.share_after.as_dict(),
            "selection": self.selection,
        }


def what_decides(
    family: Any,
    fit: Any,
    data: Any,
    summary: Any,
    out: str | Path,
    *,
    assumptions: str = "compute",
    scaling: Any = None,
    status: Callable[[str], None] | None = None,
    importance: bool = True,
    one_left: Callable[[], None] | None = None,
) -> Said:
    """Everything :class:`Said` holds, for a fit ``estimate`` has just made.

    The refits run only for a model whose points run in threads (the dated family) and a fit with a
    sentence to cite (one that passed its gates): without a sentence there is nothing for them to
    qualify. ``assumptions`` is ``"compute"``, ``"cached"`` or ``"off"``; ``importance`` false samples
    every refit (no reweighting of the default's draws, ``run_assumptions``' ``importance``);
    ``one_left`` is called when at most one of the refits is left to finish (``run_assumptions``').
    """
    if assumptions not in MODES:
        raise UsageError(f"assumptions must be one of {', '.join(MODES)}, not {assumptions!r}")
    post = fit.idata.posterior
    scalars = [n for n in post.data_vars if n != "total" and post[n].ndim == 2]
    widths = prior_widths(fit.idata, dims.GROUP, scalars)
    fixed = parameters.find(FIXED, parameters.DATED)
    said = Said(
        widths=widths,
        persons=data.study.words.persons,
        region=data.study.words.region,
        power_scaling=scaling,
        labels=width_labels(widths, family, fit, data),
        fixed_symbol=fixed.symbol if fixed is not None else "",
        fixed_words=fixed.meaning_in(data.study) if fixed is not None else "",
    )
    if fit.inputs is not None and hasattr(fit.inputs, "last_regionwide_date") and "unconstrained" in post:
        said.share_after = share_after_last_regionwide(fit)
        said.selection = selection_warning(fit, data.study.words)
    threaded = family.supports(Capability.SWEEP_THREADS) and family.supports(Capability.POSTERIOR)
    if threaded and assumptions != "off" and summary.sentence is not None:
        said.assumptions = run_assumptions(
            fit.spec,
            data,
            out,
            compute=assumptions == "compute",
            status=status,
            importance=importance,
            fit=fit,
            fit_gates=summary.diagnostics,
            one_left=one_left,
        )
    return said


def width_labels(widths: list[Width], family: Any, fit: Any, data: Any) -> dict[str, str]:
    """Each width row's quantity in words: the registry's axis label in the study's words (the family's).

    The total and the share are the estimand's; a group's total (``total: GROUP``) by the group's name
    in the data (as the table by group names it).
    """
    study = data.study
    axes = dict(family.parameter_axes(fit, study))
    estimand = {q.name: q.axis_in(study) for q in parameters.ESTIMAND}
    labels = {}
    for w in widths:
        if w.quantity.startswith("total: "):
            where = w.quantity.removeprefix("total: ")
            labels[w.quantity] = f"total of {data.place_name(where)} ({study.words.persons})"
        else:
            labels[w.quantity] = estimand.get(w.quantity) or axes.get(w.quantity) or w.quantity
    return labels
