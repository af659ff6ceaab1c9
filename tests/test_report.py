"""The HTML report: drawn from a saved fit, self-contained, and complete in a real browser.

The browser test opens the report in headless Chromium (Debian's ``chromium``, which
``.ci/run`` installs) through Playwright, checks that every figure loaded and that no
request left the page, and saves a screenshot to ``results/report_screenshot.png``.
Without Chromium it is skipped with the reason, except under ``DNAMODEL_REQUIRE_BROWSER=1``
(set by ``.ci/run``), where it fails.
"""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from dnamodel.checks.summary import summarize_fit
from dnamodel.cli import main
from dnamodel.outputs.html import SECTIONS, render_report
from dnamodel.outputs.io import read_netcdf, write_netcdf
from dnamodel.spec import MODELS_DIR, load_model
from dnamodel.spec.sweep import load_sweep
from dnamodel.workflows.estimate import run_estimate
from dnamodel.workflows.sweep import sweep

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
EXPECTED_FIGURES = {"total", "rank", "parameters", "predictive", "prior", "forest", "fraction", "tornado"}
SETTINGS = {"draws": 1000, "tune": 1000, "chains": 4, "seed": 20220913}
"""Reduced draws: enough to pass every gate (400 draws gave an R-hat of 1.014 on one unit's z), and 40% of the
default's sampling."""


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, data):
    """A fit as `dnamodel report` makes it (with leave-one-out and power-scaling), and one shipped sweep."""
    folder = tmp_path_factory.mktemp("report")
    result = run_estimate(load_model("hierarchical_han"), data, out=folder, sensitivity=True, **SETTINGS)
    job = load_sweep("sigma_scale")
    sweeps = folder / "sweeps"
    sweeps.mkdir()
    sweep(job.model, job.grid, data=data, out=sweeps / "sigma_scale.nc", **SETTINGS)
    return result.paths[0], sweeps


@pytest.fixture(scope="module")
def report(fitted, tmp_path_factory):
    fit, sweeps = fitted
    target = tmp_path_factory.mktemp("html") / "report.html"
    return render_report(fit, target, sweeps_dir=sweeps)


def test_every_section_and_figure_is_in_the_file(report):
    text = report.path.read_text(encoding="utf-8")
    for section_id, heading in SECTIONS:
        assert f'<section id="{section_id}"><h2>{heading}</h2>' in text
    assert set(report.figures) == EXPECTED_FIGURES
    assert len(re.findall(r'<img src="data:image/png;base64,', text)) == len(EXPECTED_FIGURES)
    assert report.missing == []
    assert report.sweeps == ["sigma_scale"]
    # nothing the page could fetch: no scripts, no external sources or stylesheets
    assert "<script" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "Content-Security-Policy" in text


def test_headline_figures_are_the_fits_own(report, fitted):
    summary = summarize_fit(read_netcdf(fitted[0]))
    text = report.path.read_text(encoding="utf-8")
    i90 = summary.total.interval(0.9)
    assert f"<b>{summary.total.median:,.0f}</b>" in text
    assert f"<b>{i90.low:,.0f} to {i90.high:,.0f}</b>" in text
    assert summary.diagnostics.passed
    assert summary.sentence in text
    # the report's own figures, beside
    assert "919,282" in text
    assert "1,206,962" in text
    assert summary.provenance["spec_hash"] in text


def test_drawn_twice_from_one_fit_the_report_is_the_same(report, fitted):
    first = report.path.read_bytes()
    render_report(fitted[0], report.path, sweeps_dir=fitted[1])
    assert report.path.read_bytes() == first


def test_a_fit_without_loo_or_sensitivity_says_so(fitted, tmp_path):
    idata = read_netcdf(fitted[0])
    del idata.attrs["leave_one_out_json"]
    for group in ("log_prior", "log_likelihood"):
        del idata[group]
    bare = write_netcdf(idata, tmp_path / "bare.nc")
    result = render_report(bare, tmp_path / "bare.html", sweeps_dir=tmp_path / "no-sweeps")
    assert len(result.missing) == 3
    text = result.path.read_text(encoding="utf-8")
    assert "No leave-one-out check" in text
    assert "Not computed: the fit was made without <code>--sensitivity</code>" in text
    assert "run <code>make sweeps</code>" in text
    assert "tornado" not in result.figures


def test_a_sweep_of_another_model_or_data_is_marked_stale(fitted, tmp_path):
    import xarray as xr

    result = xr.load_dataset(fitted[1] / "sigma_scale.nc", engine="h5netcdf")
    result.attrs["model"] = "hierarchical_pooled"
    (tmp_path / "sweeps").mkdir()
    write_netcdf(result, tmp_path / "sweeps" / "sigma_scale.nc")
    report = render_report(fitted[0], tmp_path / "stale.html", sweeps_dir=tmp_path / "sweeps")
    text = report.path.read_text(encoding="utf-8")
    assert "Stale: a sweep of hierarchical_pooled, not of the fit&#x27;s hierarchical_han." in text


def test_a_failed_render_leaves_the_old_report_untouched(fitted, tmp_path, monkeypatch):
    from dnamodel.outputs import plots

    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(plots, "forest_plot", broken)
    with pytest.raises(RuntimeError):
        render_report(fitted[0], target, sweeps_dir=None)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_cli_draws_from_a_saved_fit(fitted, tmp_path, capsys):
    target = tmp_path / "cli.html"
    assert main(["report", "--from", str(fitted[0]), "--out", str(target), "--sweeps", str(fitted[1])]) == 0
    out = capsys.readouterr().out
    assert "To cite: Police in the Tibet Autonomous Region" in out
    assert f"Wrote {target}: 8 figures" in out

    assert main(["report", "--from", str(fitted[0]), "--out", str(target), "--no-sweeps", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["report"] == str(target)
    assert payload["passed"] is True
    assert payload["sweeps"] == []
    assert set(payload["figures"]) == EXPECTED_FIGURES - {"tornado"}
    assert payload["sentence"].startswith("Police in the Tibet Autonomous Region collected an estimated")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "{missing}"], "no such fit; make one with `dnamodel estimate`"),
        (["--from", "{fit}", "--out", "{tmp}/report.txt"], "a report is an HTML file"),
        (["--from", "{fit}", "--draws", "100"], "--from draws a saved fit as it is; --draws would need a new fit"),
        (["hierarchical_pooled", "--from", "{fit}"], "hierarchical_pooled would need a new fit"),
        (["--from", "{fit}", "--sampler", "pymc"], "--sampler would need a new fit"),
        (["--from", "{spec}"], "not a readable NetCDF fit"),
    ],
)
def test_cli_usage_errors_exit_2_with_one_message(argv, message, fitted, tmp_path, capsys):
    paths = {"missing": tmp_path / "none.nc", "fit": fitted[0], "tmp": tmp_path, "spec": MODELS_DIR / "report_mc.toml"}
    argv = [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "r.html")]
    assert main(["report", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_a_fit_that_failed_its_gates_is_reported_but_not_cited(fitted, tmp_path, capsys):
    idata = read_netcdf(fitted[0])
    diverging = idata.sample_stats["diverging"].values.copy()
    diverging[0, :3] = True
    idata.sample_stats["diverging"] = (idata.sample_stats["diverging"].dims, diverging)
    bad = write_netcdf(idata, tmp_path / "bad.nc")
    target = tmp_path / "bad.html"
    assert main(["report", "--from", str(bad), "--out", str(target), "--no-sweeps"]) == 3
    captured = capsys.readouterr()
    assert "No sentence to cite: The fit failed its convergence gates (3 divergent transitions" in captured.out
    assert "the fit failed its convergence gates" in captured.err
    text = target.read_text(encoding="utf-8")
    assert "<b>Nothing to cite.</b>" in text
    assert "<b>The fit failed its gates</b> (3 divergent transitions (gate: 0))" in text
    assert 'class="cite"' not in text
    assert main(["report", "--from", str(bad), "--out", str(target), "--no-sweeps", "--allow-bad-fit"]) == 0


def test_a_fit_of_other_data_is_refused(fitted, tmp_path, capsys):
    idata = read_netcdf(fitted[0])
    idata.attrs["data_version"] = "sha256:0000000000000000"
    other = write_netcdf(idata, tmp_path / "other.nc")
    assert main(["report", "--from", str(other), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "the fit was made from data sha256:0000000000000000" in err


def test_a_fit_whose_spec_was_edited_is_refused(fitted, tmp_path, capsys):
    idata = read_netcdf(fitted[0])
    idata.attrs["spec"] = idata.attrs["spec"].replace("error = 0.05", "error = 0.06", 1)
    edited = write_netcdf(idata, tmp_path / "edited.nc")
    assert main(["report", "--from", str(edited), "--out", str(tmp_path / "r.html")]) == 2
    assert "not the recorded sha256:" in capsys.readouterr().err


# --- in the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("DNAMODEL_REQUIRE_BROWSER") == "1":
            pytest.fail("DNAMODEL_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH: install Debian's chromium to open the report in a browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def test_the_report_in_chromium_shows_every_figure_and_fetches_nothing(browser, report):
    url = report.path.resolve().as_uri()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requests, blocked, errors = [], [], []

    def route(route_):
        # anything but the page itself is a request that leaves it: record it and refuse it
        if route_.request.url != url:
            blocked.append(route_.request.url)
            return route_.abort()
        return route_.continue_()

    context.route("**/*", route)
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="load")

    figures = page.evaluate(
        """() => [...document.querySelectorAll('figure')].map(f => {
            const img = f.querySelector('img');
            return {id: f.dataset.figure, complete: img.complete, width: img.naturalWidth,
                    height: img.naturalHeight, caption: f.querySelector('figcaption').innerText.trim(),
                    alt: img.alt};
        })"""
    )
    listed = page.locator('meta[name="dnamodel-figures"]').get_attribute("content").split()
    assert sorted(f["id"] for f in figures) == sorted(listed) == sorted(EXPECTED_FIGURES)
    for f in figures:
        assert f["complete"], f
        assert f["width"] > 400, f
        assert f["height"] > 200, f
        assert len(f["caption"]) > len(f["alt"]) > 10, f
    for section_id, heading in SECTIONS:
        assert page.locator(f"section#{section_id} h2").inner_text() == heading
    assert [r for r in requests if not r.startswith("data:")] == [url]
    assert blocked == []
    assert errors == []

    screenshot = ROOT / "results" / "report_screenshot.png"
    screenshot.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:4] == b"\x89PNG"
    shutil.copyfile(report.path, ROOT / "results" / "report_test.html")
    context.close()
