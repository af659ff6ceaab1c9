"""Summaries → figures: PNG files drawn with matplotlib's Agg canvas.

Figures are built on a :class:`matplotlib.figure.Figure` of their own, never
through ``pyplot``'s global state, rendered to memory and written with
:func:`dnamodel.files.atomic_write_bytes`, so a reader never sees half a file.
Each PNG carries its title and caption as metadata (``Title``, ``Description``).

This is the one style module for figures: the figure, its caption, its axes and its atomic write
(:func:`_figure`, :func:`_save`, :func:`_count_axis`, :func:`_mark_comparisons`), which the other
figure modules draw with (:mod:`~dnamodel.outputs.check_plots`, :mod:`~dnamodel.outputs.sweep_plots`,
and each model's own, :mod:`~dnamodel.outputs.dated` and :mod:`~dnamodel.outputs.hierarchical`).

- A fit: :func:`total_posterior_plot`, :func:`prior_predictive_plot`; for the report also
  :func:`rank_plot`, :func:`parameter_plot` (each parameter labelled by its model family:
  :func:`hierarchical_parameter_axes`, :func:`dated_parameter_axes`) and :func:`forest_plot` (with
  an application's :class:`GroupMarks`), drawn by ArviZ into axes made here (``ax=``).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import textwrap
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dnamodel import dims
from dnamodel.data.study import NEUTRAL, Study
from dnamodel.errors import UsageError
from dnamodel.files import atomic_write_bytes
from dnamodel.inference.sampling import quiet_arviz
from dnamodel.spec import parameters

if TYPE_CHECKING:
    import arviz as az
    from matplotlib.figure import Figure

    from dnamodel.checks.summary import Summary

# matplotlib and ArviZ are imported in the functions that draw: the command line imports this module
# at start-up, and `dnamodel replicate` or `mc` without --tornado should not wait for them.

LOW_COLOUR = "#4c72b0"
HIGH_COLOUR = "#dd8452"
DPI = 150
CAPTION_WIDTH = 150  # characters a caption line holds at the figure's width and font size
# --- the hierarchical model's figures --------------------------------------------------------------


def _figure(width: float = 8.0, height: float = 4.8) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # deferred: start-up time
    from matplotlib.figure import Figure  # deferred: start-up time

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


_CAPTION_DRAWN = contextvars.ContextVar("caption_drawn", default=True)


@contextlib.contextmanager
def captions_beside() -> Iterator[None]:
    """Within this block, figures keep their caption in the PNG's metadata but do not draw it.

    For a page that prints each caption beside its figure (the HTML report), so a reader does
    not read it twice. Title and caption stay in the file's ``Title`` and ``Description``.

    Examples
    --------
    >>> with captions_beside():
    ...     _CAPTION_DRAWN.get()
    False
    >>> _CAPTION_DRAWN.get()
    True
    """
    token = _CAPTION_DRAWN.set(False)
    try:
        yield
    finally:
        _CAPTION_DRAWN.reset(token)


_HELD: contextvars.ContextVar[dict[Path, bytes] | None] = contextvars.ContextVar("held", default=None)


@contextlib.contextmanager
def figures_held() -> Iterator[dict[Path, bytes]]:
    """Within this block, figures are rendered to memory and held, not written: ``{path: PNG bytes}``.

    For a caller that writes a figure with other files, all or none
    (:func:`dnamodel.files.atomic_write_files`): ``dnamodel estimate``'s NetCDF, CSV and figures.

    Examples
    --------
    >>> with figures_held() as held:
    ...     _HELD.get() is held
    True
    """
    held: dict[Path, bytes] = {}
    token = _HELD.set(held)
    try:
        yield held
    finally:
        _HELD.reset(token)


def write_png(target: Path, content: bytes) -> Path:
    """Write a rendered figure atomically, or hold it within :func:`figures_held`."""
    held = _HELD.get()
    if held is not None:
        held[target] = content
    else:
        atomic_write_bytes(target, content)
    return target


def _save(figure: Figure, path: str | Path, title: str, caption: str) -> Path:
    """Caption the figure, render it and write the PNG atomically (or hold it: :func:`figures_held`)."""
    target = _png_target(path)
    if _CAPTION_DRAWN.get():
        # a caption line holds CAPTION_WIDTH characters up to 8.5 inches wide, proportionally more beyond
        width = max(CAPTION_WIDTH, int(CAPTION_WIDTH * figure.get_figwidth() / 8.5))
        figure.supxlabel(textwrap.fill(caption, width), x=0.01, ha="left", fontsize=7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Title": title, "Description": caption})
    return write_png(target, buffer.getvalue())


TITLE_WIDTH = 70
"""Characters a figure's title holds on one line at the narrowest figure's width (8 inches, 12 points)."""


def wrapped_title(title: str) -> str:
    r"""A title that names a study's own words (a covariate's label) on lines that fit the figure, not cut off.

    Examples
    --------
    >>> wrapped_title("Collection fraction at saturation against the share of residents in towns of more than "
    ...               "ten thousand, 2021 census, by unit").count("\n")
    1
    """
    return textwrap.fill(title, TITLE_WIDTH)


def _count_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter  # deferred: start-up time

    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))


TITLE_PAD = 26
"""Points between a plot and its title that hold one row of labels above the plot (two lines at 7 points)."""
LABEL_ROW = 22
"""Points each further row of labels above a plot takes."""


def _mark_comparisons(axes: Any, study: Study | None) -> float:
    """The study's marked comparison figures as dashed vertical lines, each labelled above the plot.

    Returns the title's pad that clears the labels (:func:`_label_lines`).
    """
    marks = (study or NEUTRAL).marks()
    for x, _ in marks:
        axes.axvline(x, color="grey", linestyle="--", linewidth=1)
    return _label_lines(axes, [(x, f"{name}\n{x:,.0f}") for x, name in marks])


def _label_lines(axes: Any, lines: Sequence[tuple[float, str]], fontsize: float = 7) -> float:
    """Label vertical lines above the plot, each over its line, a label that would overlap another raised a row.

    Figures close together on a wide axis (two estimates a few per cent apart on an axis of hundreds of
    millions) would print their labels over each other; each label goes in the lowest row where it
    overlaps none, centred on its line, or flush to it near an edge. Returns the title's pad that
    clears every row.
    """
    if not lines:
        return TITLE_PAD
    axes.autoscale_view()  # the lines' own limits, so positions are where they will be drawn
    to_axes = axes.transAxes.inverted()
    width = axes.figure.get_figwidth() * 72 * 0.8  # the plot's width in points, before layout: about
    placed: list[tuple[int, float, float]] = []
    for x, text in sorted(lines):
        where = float(to_axes.transform(axes.transData.transform((x, 0.0)))[0])
        span = max(len(line) for line in text.split("\n")) * fontsize * 0.55 / width
        align = "center"
        left, right = where - span / 2, where + span / 2
        if left < 0:
            align, left, right = "left", where, where + span
        elif right > 1:
            align, left, right = "right", where - span, where
        row = 0
        while any(r == row and left < r_right + 0.01 and right > r_left - 0.01 for r, r_left, r_right in placed):
            row += 1
        placed.append((row, left, right))
        axes.annotate(
            text,
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 2 + LABEL_ROW * row),
            textcoords="offset points",
            ha=align,
            va="bottom",
            fontsize=fontsize,
        )
    return TITLE_PAD + LABEL_ROW * max(row for row, _, _ in placed)


def _compared(study: Study | None, what: str = "Dashed lines") -> str:
    """The caption's sentence on the dashed lines, or nothing when the study marks no figure."""
    study = study or NEUTRAL
    marks = study.marks()
    if not marks:
        return ""
    names = " and ".join(label for _, label in marks)
    return f" {what}: {names}."


def _words(summary: Any) -> Study:
    return getattr(summary, "study", None) or NEUTRAL


def total_posterior_plot(idata: az.InferenceData, summary: Summary, path: str | Path) -> Path:
    """The posterior of the region's total, its 90% and 95% intervals, and the study's comparison figures.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit (:func:`dnamodel.fit`).
    summary : Summary
        Its summary (:func:`dnamodel.summarize`), which gives the intervals and the study's words.
    path : str or Path
        The PNG file to create or replace; its folder must exist.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> total_posterior_plot(idata, dnamodel.summarize(idata), "total.png").name
    'total.png'
    """
    from arviz import kde  # deferred: start-up time

    total = idata.posterior["total"].values.ravel()
    figure = _figure()
    axes = figure.add_subplot()
    axes.hist(total, bins=70, density=True, color=LOW_COLOUR, alpha=0.4, label="posterior draws (histogram)")
    grid, density = kde(total)
    axes.plot(grid, density, color=LOW_COLOUR, linewidth=1.5, label="posterior density (kernel estimate)")
    # the two intervals as stacked bars at the foot, 95% below 90%, each labelled at its right end
    for prob, (bottom, top), colour in ((0.95, (0.0, 0.045), "#5a5a5a"), (0.9, (0.05, 0.095), LOW_COLOUR)):
        interval = summary.total.interval(prob)
        axes.axvspan(interval.low, interval.high, ymin=bottom, ymax=top, color=colour, alpha=0.85)
        axes.text(
            interval.high,
            (bottom + top) / 2,
            f" {prob:.0%}: {interval.low:,.0f} to {interval.high:,.0f}",
            transform=axes.get_xaxis_transform(),
            fontsize=7,
            va="center",
        )
    axes.set_ylim(bottom=-0.12 * density.max())  # room for the interval bars below the density
    axes.legend(fontsize=7, loc="upper right")
    axes.axvline(summary.total.median, color="black", linewidth=1.2)
    axes.text(
        summary.total.median,
        0.95,
        f" median {summary.total.median:,.0f}",
        transform=axes.get_xaxis_transform(),
        fontsize=7,
    )
    study = _words(summary)
    pad = _mark_comparisons(axes, study)
    axes.set_xlabel(f"{study.title(idata.attrs.get('estimand_date'))} ({study.words.unit})")
    axes.set_ylabel("posterior density")
    _count_axis(axes.xaxis)
    axes.set_yticks([])
    title = f"Total for {study.words.place}: posterior of {summary.model}"
    axes.set_title(title, pad=pad)
    i90, i95 = summary.total.interval(0.9), summary.total.interval(0.95)
    caption = (
        f"Histogram and kernel density of {total.size:,} posterior draws of the total. Black line: median "
        f"{summary.total.median:,.0f}. Bars at the foot: the 90% (blue, {i90.low:,.0f} to {i90.high:,.0f}) and 95% "
        f"(grey, {i95.low:,.0f} to {i95.high:,.0f}) equal-tailed credible intervals." + _compared(study)
    )
    return _save(figure, path, title, caption)


def prior_predictive_plot(
    idata: Any, check: Any, path: str | Path, *, study: Study | None = None, stocks: Sequence[tuple[float, str]] = ()
) -> Path:
    """The prior distribution of the total, on a log scale, without and with the thesis constraint.

    ``stocks`` are database figures the data print, ``(value, label)``, drawn as dotted lines
    beside the census population; the study's comparison figures are dashed lines.
    """
    study = study or NEUTRAL
    total = idata.prior["total"].values.ravel()
    figure = _figure()
    axes = figure.add_subplot()
    bins = np.logspace(np.log10(max(total.min(), 1.0)), np.log10(total.max() * 1.01), 80)
    bounded = check.constrained != check.forward
    label = "prior, forward draws (no thesis bound)" if bounded else "prior, forward draws"
    axes.hist(total, bins=bins.tolist(), color=LOW_COLOUR, alpha=0.5, label=label)
    axes.set_xscale("log")
    for x, name in ((check.population, "census population"), *stocks):
        axes.axvline(x, color="black", linestyle=":", linewidth=1)
        # along the line, so the labels clear the report's estimates labelled above the plot
        axes.text(
            x,
            0.5,
            f"{name} {x:,.0f} ",
            transform=axes.get_xaxis_transform(),
            fontsize=7,
            rotation=90,
            ha="right",
            va="center",
        )
    pad = _mark_comparisons(axes, study)
    lo, hi = check.constrained[0], check.constrained[-1]
    if bounded:
        axes.axvspan(lo, hi, ymin=0, ymax=0.04, color=HIGH_COLOUR, label="98% range with the thesis bound")
    axes.set_xlabel(f"total for {study.words.place} under the prior ({study.words.unit}, log scale)")
    axes.set_ylabel("prior draws per bin")
    _count_axis(axes.xaxis)
    axes.legend(fontsize=7, loc="upper left")
    title = "Prior predictive check: the total before seeing the data"
    axes.set_title(title, pad=pad)
    caption = (
        f"Forward draws from the priors. Without the thesis bound the prior's 1-99% range is "
        f"{check.forward[0]:,.0f} to {check.forward[-1]:,.0f} ({check.span()}); weighting each draw by the thesis "
        f"factor gives {lo:,.0f} to {hi:,.0f} (orange band). A plausible prior reaches from a small share of the "
        "population to about all of it."
        if bounded
        else f"Forward draws from the priors: the prior's 1-99% range of the total is {check.forward[0]:,.0f} to "
        f"{check.forward[-1]:,.0f}, {check.span()}. A plausible prior reaches from a small share of the population to "
        "about all of it."
    )
    return _save(figure, path, title, caption)


# --- the report's diagnostic and check figures ----------------------------------------------------

PRIOR_COLOUR = "#9a9a9a"
LOO_COLOUR = "#c44e52"


def _symbol(name: str) -> str:
    """How the model card writes a parameter or the estimand: the registry's symbol, else the name."""
    entry = parameters.find(name)
    return entry.symbol if entry is not None else name


def parameter_axes(
    registry: tuple[parameters.Parameter, ...],
    study: Study | None = None,
    covariate: str = "",
    *,
    covariate_term: bool = True,
) -> dict[str, str]:
    """Each scalar parameter's axis label, in a study's words: its registry entry's (``Parameter.axis_in``).

    Examples
    --------
    >>> from dnamodel.spec.parameters import DATED
    >>> parameter_axes(DATED)["group_sd"]
    "spread between groups' logit fractions (logit scale, sd)"
    """
    return {
        p.name: p.axis_in(study, covariate, covariate_term=covariate_term) for p in registry if p.scalar and p.posterior
    }


def _png_target(path: str | Path) -> Path:
    """The path, checked before any drawing: a ``.png`` name in a folder that exists (unless held: figures_held).

    A held figure's folder is the writer's to create (:func:`dnamodel.outputs.io.write_outputs`).
    """
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise UsageError(f"{target}: a figure is a PNG file; give a name ending in .png")
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name ending in .png")
    if _HELD.get() is None and not target.parent.is_dir():
        raise UsageError(f"{target.parent}: no such folder")
    return target


def _arviz() -> Any:
    import arviz as az  # deferred: start-up time

    quiet_arviz()
    return az


@contextlib.contextmanager
def _arviz_on_new_matplotlib() -> Iterator[None]:
    # ArviZ 0.23's plot_posterior and plot_kde hand matplotlib's normalize_kwargs an alias dict,
    # deprecated in matplotlib 3.11; it is ArviZ's call to change, and nothing here passes aliases.
    from matplotlib import MatplotlibDeprecationWarning  # deferred: start-up time

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="Passing a dict or None as alias_mapping",
            category=MatplotlibDeprecationWarning,
            module=r"arviz(\..*)?$",
        )
        yield


def _scalars(group: Any, names: Sequence[str]) -> list[str]:
    """The names that ``group`` holds as one value per draw (dims ``chain``, ``draw`` only)."""
    return [name for name in names if name in group and group[name].ndim == 2]


def _grid(figure: Figure, panels: int, columns: int) -> list[Any]:
    """``panels`` axes in rows of ``columns``; the grid's unused cells are left empty."""
    rows = -(-panels // columns)
    return [figure.add_subplot(rows, columns, k + 1) for k in range(panels)]


def rank_plot(idata: az.InferenceData, path: str | Path) -> Path:
    r"""Rank plots of the gated scalars, one panel each, to show whether the chains agree.

    Each panel pools a quantity's draws from every chain, ranks them, and draws one
    histogram of ranks per chain (:func:`arviz.plot_rank`). Chains that sample the same
    distribution have uniform ranks.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit with a ``posterior`` group over ``chain`` and ``draw``; every name of
        the registries' gated scalars (:func:`dnamodel.spec.parameters.gated_names`) it holds as a
        scalar per draw is drawn (``total`` always is).
    path : str or Path
        The PNG file to create or replace; its folder must exist.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    UsageError
        If the name does not end in ``.png`` or its folder does not exist.

    References
    ----------
    .. [1] A. Vehtari, A. Gelman, D. Simpson, B. Carpenter and P.-C. Bürkner,
       "Rank-normalization, folding, and localization: an improved R-hat for
       assessing convergence of MCMC", Bayesian Analysis 16(2), 667–718, 2021.

    Examples
    --------
    >>> import tempfile, arviz as az, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior={"alpha": rng.normal(size=(4, 200)), "total": rng.lognormal(13, 0.2, (4, 200))})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     rank_plot(idata, Path(folder) / "rank.png").read_bytes()[:4]
    b'\x89PNG'
    """
    target = _png_target(path)
    az = _arviz()
    post = idata.posterior
    names = _scalars(post, tuple(dict.fromkeys((*parameters.gated_names(), "total"))))
    if not names:
        raise UsageError("the posterior holds none of the gated scalars; nothing to rank")
    rhat = az.rhat(post[names])
    columns = min(4, len(names))
    rows = -(-len(names) // columns)
    figure = _figure(max(8.0, 2.6 * columns), 0.6 + 2.4 * rows)
    axes = _grid(figure, len(names), columns)
    az.plot_rank(post, var_names=names, ax=axes, ref_line=True, labels=True, show=False)
    for axis, name in zip(axes, names, strict=True):
        axis.set_title(f"{_symbol(name)} ({name}), R-hat {float(rhat[name]):.3f}", fontsize=8)
        axis.set_xlabel("rank among all draws (all chains)", fontsize=7)
        _count_axis(axis.xaxis)
        axis.set_ylabel("chain", fontsize=7)
        bases = list(axis.get_yticks())
        if len(bases) > 1:  # ArviZ puts each chain's number at the foot of its bars; centre it on them
            step = bases[1] - bases[0]
            axis.set_yticks([base + step / 4 for base in bases], [str(k) for k in range(len(bases))])
        axis.tick_params(labelsize=7)
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    title = "Rank plots: do the chains agree?"
    figure.suptitle(title)
    caption = (
        f"Each panel ranks the {chains * draws:,} draws of one quantity from all {chains} chains together, then "
        "stacks one histogram of ranks per chain (chain 0 at the foot); the dashed line is a chain's mean count per "
        "bin. If every chain samples the same distribution, each chain's ranks are uniform: its bars stay flat about "
        "the dashed line. A chain that sits high or low, or mixes slowly, shows as a slope or a hump. R-hat is "
        "ArviZ's rank-normalised split R-hat (gate: at most 1.01)."
    )
    return _save(figure, target, title, caption)


def hierarchical_parameter_axes(idata: Any, study: Study | None = None, covariate: str = "") -> dict[str, str]:
    """The hierarchical model's parameter axes (its registry's); ``beta`` is a difference of strata for a 0/1 covariate.

    Examples
    --------
    >>> import arviz as az, numpy as np
    >>> two = az.from_dict(posterior={"beta": np.zeros((1, 2))}, constant_data={"covariate": np.array([0.0, 1.0])})
    >>> hierarchical_parameter_axes(two)["beta"].startswith("difference in logit fraction")
    True
    """
    axes = parameter_axes(parameters.HIERARCHICAL, study, covariate)
    if (
        "constant_data" in idata
        and "covariate" in idata.constant_data
        and set(np.unique(idata.constant_data["covariate"].values)) <= {0.0, 1.0}
    ):
        axes["beta"] = "difference in logit fraction, high-Han stratum against the rest (logit scale)"
    return axes


def dated_parameter_axes(
    study: Study | None = None, covariate: str = "", *, covariate_term: bool = True
) -> dict[str, str]:
    """The dated model's parameter axes: its registry's, in the study's words (a model without a covariate: its own)."""
    return parameter_axes(parameters.DATED, study, covariate, covariate_term=covariate_term)


def parameter_plot(
    idata: Any, path: str | Path, *, axis_labels: Mapping[str, str] | None = None, prior_note: str = ""
) -> Path:
    r"""Each scalar parameter's posterior (:func:`arviz.plot_posterior`) over its prior, in grey.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit with a ``posterior`` group; each scalar parameter of the registries
        (:func:`dnamodel.spec.parameters.scalar_names`) it holds as a scalar per draw gets a
        panel. Where the ``prior`` group holds the same name, its draws are drawn behind, so
        the reader sees what the data taught.
    path : str or Path
        The PNG file to create or replace; its folder must exist.
    axis_labels : mapping of str to str, optional
        Each parameter's axis label, from its model family (:func:`hierarchical_parameter_axes`,
        :func:`dated_parameter_axes`); a parameter without one is labelled in model units.
    prior_note : str, optional
        What the prior draws leave out, as the caption says it after "as specified" (the hierarchical
        model's " (without the thesis bound)", where it has the bound).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    UsageError
        If the name does not end in ``.png``, its folder does not exist, or the
        posterior holds none of the parameters.

    Examples
    --------
    >>> import tempfile, arviz as az, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior={"alpha": rng.normal(-1, 0.3, (2, 200))},
    ...                      prior={"alpha": rng.normal(-1, 1.5, (1, 400))})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     parameter_plot(idata, Path(folder) / "parameters.png").read_bytes()[:4]
    b'\x89PNG'
    """
    target = _png_target(path)
    az = _arviz()
    known = parameters.scalar_names()
    names = _scalars(idata.posterior, known)
    if not names:
        raise UsageError(f"the posterior holds none of the parameters {', '.join(known)}; nothing to draw")
    prior = idata.prior if "prior" in idata else None
    with_prior = _scalars(prior, names) if prior is not None else []
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    figure = _figure(max(8.0, 3.3 * columns), 0.8 + 2.5 * rows)
    axes = _grid(figure, len(names), columns)
    # ArviZ draws the density; the median and HDI go in the panel's title, not over the curve
    with _arviz_on_new_matplotlib():
        az.plot_posterior(
            idata,
            var_names=names,
            ax=axes,
            hdi_prob="hide",
            point_estimate=None,
            textsize=7,
            color=LOW_COLOUR,
            fill_alpha=0.25,
            show=False,
        )
    for k, (axis, name) in enumerate(zip(axes, names, strict=True)):
        values = idata.posterior[name].values.ravel()
        if name in with_prior and prior is not None:
            grid, density = az.kde(prior[name].values.ravel())
            axis.fill_between(grid, density, color=PRIOR_COLOUR, alpha=0.3, linewidth=0, zorder=0)
            axis.plot(grid, density, color=PRIOR_COLOUR, linewidth=0.8, zorder=0)
        low, high = az.hdi(values, hdi_prob=0.9)
        median = float(np.median(values))
        axis.plot([low, high], [0, 0], color="black", linewidth=3, solid_capstyle="butt", clip_on=False, zorder=3)
        axis.axvline(median, color=LOW_COLOUR, linewidth=1, linestyle="-")
        axis.set_title(f"{_symbol(name)} ({name})\nmedian {median:.2f}, 90% HDI {low:.2f} to {high:.2f}", fontsize=8)
        axis.set_xlabel(textwrap.fill((axis_labels or {}).get(name, f"{name} (model units)"), 44), fontsize=7)
        axis.set_ylim(bottom=0)
        if k % columns == 0:
            axis.set_ylabel("density (per parameter unit)", fontsize=7)
    title = "What the data taught: each parameter's posterior over its prior"
    figure.suptitle(title)
    draws = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    caption = (
        f"Blue: the posterior density of each scalar parameter ({draws:,} draws, chains pooled); blue line: its "
        "median; black bar at the foot: its 90% highest-density interval (HDI), both printed over the panel. "
    )
    if with_prior:
        missing = [name for name in names if name not in with_prior]
        caption += (
            f"Grey: the prior, from forward draws of the priors as specified{prior_note}. Where blue is narrower than "
            "grey or sits elsewhere, the data moved the parameter; where the two match, the prior alone sets it."
        )
        if missing:
            caption += f" No prior draws were saved for {', '.join(missing)}."
    else:
        caption += "The fit holds no prior draws, so no prior is drawn."
    return _save(figure, target, title, caption)


@dataclass(frozen=True)
class GroupMarks:
    """Figures of a group's own to mark on the forest plot beside its total (an application's, such as a report's).

    Attributes
    ----------
    values : dict of str to float
        Group id → the figure, in the study's unit.
    caption : str
        What the marks are, for the figure's caption.
    label : str
        What each mark's figure is labelled with, before its value.
    """

    values: dict[str, float]
    caption: str
    label: str = "report"


def forest_plot(
    idata: az.InferenceData, summary: Summary, path: str | Path, *, marks: GroupMarks | None = None
) -> Path:
    """Each group's posterior total (:func:`arviz.plot_forest`), with figures of a group's own marked.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit whose posterior holds ``group_total`` over ``group`` (ids as
        in ``areas.csv``).
    summary : Summary
        From :func:`dnamodel.checks.summary.summarize_fit`; its ``groups`` name the rows.
    path : str or Path
        The PNG file to create or replace; its folder must exist.
    marks : GroupMarks, optional
        A figure for some groups (drawn as a diamond on their rows) and what they are, for the
        caption, from an application on top of the engine (the bundled case study's report figures,
        :func:`dnamodel.plots.report_by_prefecture`).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    UsageError
        If the name does not end in ``.png`` or its folder does not exist.

    Examples
    --------
    >>> import dnamodel
    >>> folder = dnamodel.example_path("quillmoor")
    >>> idata = dnamodel.fit(folder / "models" / "dated.toml", data=dnamodel.load_data(folder / "data"),
    ...                      draws=100, tune=100, chains=2, prior_draws=100)
    >>> forest_plot(idata, dnamodel.summarize(idata), "forest.png").name
    'forest.png'
    """
    target = _png_target(path)
    az = _arviz()
    names = {row.group: row.name for row in summary.groups}
    by_group = idata.posterior["group_total"]
    ids = [str(pid) for pid in by_group[dims.GROUP].values]
    labeller = az.labels.mix_labellers((az.labels.MapLabeller, az.labels.NoVarLabeller))(
        coord_map={dims.GROUP: {pid: names.get(pid, pid) for pid in ids}}
    )
    figure = _figure(8.5, 1.6 + 0.5 * len(ids))
    axes = figure.add_subplot()
    az.plot_forest(
        idata,
        var_names=["group_total"],
        combined=True,
        hdi_prob=0.9,
        quartiles=True,
        colors=LOW_COLOUR,
        labeller=labeller,
        textsize=8,
        linewidth=2,
        markersize=7,
        ax=axes,
        show=False,
    )
    axes.spines["top"].set_visible(False)
    # each row's label as ArviZ placed it, to put the report's figure and the share on the right row
    rows = {tick.get_text(): y for tick, y in zip(axes.get_yticklabels(), axes.get_yticks(), strict=True)}
    for row in summary.groups:
        y = rows.get(row.name)
        if y is not None:
            axes.annotate(
                f"{row.median:,.0f}  ({row.share_median:.0%})",
                (1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )
    axes.annotate(
        "median (% of the\npopulation)",
        (1.0, 1.0),
        xycoords="axes fraction",
        xytext=(6, 2),
        textcoords="offset points",
        va="bottom",
        fontsize=7,
        color="#555555",
    )
    marked = []
    label = marks.label if marks is not None else ""
    for pid, value in (marks.values if marks is not None else {}).items():
        y = rows.get(names.get(pid, pid))
        if y is None:
            continue
        axes.plot([value], [y], marker="D", markersize=5, color=HIGH_COLOUR, markeredgecolor="black", zorder=5)
        axes.annotate(
            f"{label} {value:,.0f}",
            (value, y),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
        marked.append(names.get(pid, pid).split(" (")[0])
    study = _words(summary)
    axes.set_xlabel(f"{study.title(idata.attrs.get('estimand_date'))} ({study.words.unit})", fontsize=9)
    axes.tick_params(axis="y", labelsize=8)
    axes.tick_params(axis="x", labelsize=8)
    _count_axis(axes.xaxis)
    axes.set_xlim(left=0)
    title = f"The total by {study.words.group}" + (f": posterior of {summary.model}" if summary.model else "")
    axes.set_title(title, fontsize=11)
    caption = (
        f"Each row: a {study.words.group}'s posterior total, chains pooled. Open circle: median; thick line: 50% "
        "equal-tailed interval (the quartiles); thin line: 90% highest-density interval (HDI). "
    )
    if marked and marks is not None:
        caption += marks.caption
    return _save(figure, target, title, caption)
