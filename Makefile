# The two Quickstart commands, `make run` and `make test`, work on a fresh clone with only
# Python 3.11 and pip: both create .venv and install the package with its test extras first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What `make run` needs: installed, and the bytecode of what it imports written (below).
RUN_STAMP := $(VENV)/.installed-run
# The Monte Carlo benchmark compares with squigglepy, which is no dependency of dnamodel: it gets
# its own environment.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
# The documentation site's tools (the `docs` extra) go into the same .venv, only when `make docs` asks.
DOCS_STAMP := $(VENV)/.docs-installed
# Reduced settings for the notebooks, given as NOTEBOOK_DRAWS=N (CI: 1000); unset, the specs' own.
NOTEBOOK_ENV = $(if $(NOTEBOOK_DRAWS),DNAMODEL_DRAWS=$(NOTEBOOK_DRAWS) DNAMODEL_TUNE=$(NOTEBOOK_DRAWS) DNAMODEL_MC_DRAWS=100000 )
EXECUTED_NOTEBOOKS := $(patsubst notebooks/%.py,results/notebooks/%.ipynb,$(wildcard notebooks/[0-9][0-9]_*.py))

.PHONY: assumptions compare power run test test-slow test-all lint typecheck format bench bench-check bench-mc bench-fit bench-stan bench-scale bench-sweep bench-refits bench-sbc bench-assumptions bench-report sweeps sweeps-hierarchical report figures notebooks docs clean

# pip installs uv into .venv, and uv installs the rest: 11 s against pip's 41 s on this 2-core machine
# with empty caches (benchmarks/README.md). uv is below its next minor release (still 0.x), as tested.
# The venv is made without pip and the system's pip (22.3 or later: --python; Python 3.11 ships it)
# installs uv into it: ensurepip's own install of pip took about 3 s. Where the system has no such
# pip, ensurepip puts pip into .venv and that pip installs uv, as before. uv installs pip with the rest,
# for what runs `.venv/bin/python -m pip` (.ci/wheel).
UV_INSTALL = $(BIN)/uv pip install --quiet --python $(BIN)/python
# Bytecode, in two steps. Where PYTHONDONTWRITEBYTECODE is set (as in the project's workplace), no process
# writes the .pyc of what it imports: what the install leaves uncompiled, every run compiles again. uv's
# --compile-bytecode compiles all of .venv (about 9,700 modules, 9 s of `make run` on a quiet machine),
# of which `dnamodel estimate` imports about 2,100. So `make run`'s install (RUN_STAMP) compiles the
# packages estimate imports (about 2,900 modules), and every other target's (STAMP) the rest
# (compileall skips what is compiled). A package missing from this list costs speed,
# not correctness: its modules are compiled in memory at each import (benchmarks/README.md, "bytecode").
# No package's own test suite is compiled (nothing here imports them). compileall runs from
# site-packages, so that -x sees relative paths: a clone in a folder named tests compiles all the same.
RUN_PACKAGES := numpy scipy pandas xarray xarray_einstats arviz numba llvmlite nutpie matplotlib mpl_toolkits \
	PIL pydantic rich h5py h5netcdf pyarrow dask distributed tornado toolz zict jinja2 yaml dateutil \
	importlib_metadata packaging click pyparsing zipp platformdirs psutil
SITE_PACKAGES = $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
COMPILE = $(abspath $(BIN))/python -m compileall -q -j 0 -x '(^|/)tests?/'

$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet "uv>=0.13,<0.14" 2>/dev/null || \
		{ $(BIN)/python -m ensurepip --default-pip > /dev/null && $(BIN)/python -m pip install --quiet "uv>=0.13,<0.14"; }
	$(UV_INSTALL) -e ".[test]" pip
	@echo "compiling the bytecode of the packages dnamodel estimate imports (RUN_PACKAGES)"
	@cd $(SITE_PACKAGES) && $(COMPILE) $$(for package in $(RUN_PACKAGES); do [ -d $$package ] && echo $$package; done) > /dev/null
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	@echo "compiling the bytecode of the rest of .venv"
	@cd $(SITE_PACKAGES) && $(COMPILE) . > /dev/null
	touch $(STAMP)

## run: the main job: fit the default (dated) Bayesian model, print a citable interval and the assumptions that decide it, write results/
## (the refits finding those assumptions start from the fit, about 20 s on a quiet machine, and are cached in results/ for later runs)
run: $(RUN_STAMP)
	$(BIN)/dnamodel estimate

## assumptions: the same as `make run`, which computes the decisive assumptions and the total by κ since issue 22 (kept for scripts that call it)
assumptions: $(RUN_STAMP)
	$(BIN)/dnamodel estimate

## test: lint, format check, type check, then the test suite on every core (slow statistical tests excluded; PYTEST_ARGS adds options, PYTEST_ARGS="-n 0" runs it in one process)
# -n auto: one pytest-xdist worker per core (os.cpu_count(); 2 on the project's machine). Which tests
# share a worker, and in what order the groups start, is the root conftest.py's; a later -n in
# PYTEST_ARGS wins.
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

## test-slow: only the slow statistical tests (pytest's exit 5, "none selected", is not a failure)
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow || [ $$? -eq 5 ]

## test-all: `make test` with the slow tests too, in one session on every core (CI runs this)
test-all: $(STAMP)
	$(MAKE) test PYTEST_ARGS='-m "slow or not slow"'


lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## typecheck: mypy on the package ([tool.mypy] in pyproject.toml: the public API's modules strict)
typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info .pytest_cache .ruff_cache docs/_build docs/api docs/notebooks/*.ipynb

## bench: the benchmarks, printed as Markdown (copy the table into benchmarks/README.md)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_startup.py

## bench-check: `data check` on generated 1, 4 and 50 MB observations.csv files against csv.reader alone (about a minute)
bench-check: $(STAMP)
	$(BIN)/python benchmarks/bench_check.py 1 4 50

$(BENCH_STAMP): pyproject.toml benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . -r benchmarks/requirements.txt
	touch $(BENCH_STAMP)

## bench-mc: the Monte Carlo engine against the RNG, a Python loop and squigglepy (about 2 minutes)
bench-mc: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/bench_montecarlo.py

## bench-fit: `dnamodel estimate` warm and cold, a profile of it, and nutpie against PyMC on the dated model (about 45 minutes)
bench-fit: $(STAMP)
	$(BIN)/python benchmarks/bench_fit.py

## bench-stan: the dated model in Stan (pystan, in .venv-bench) against nutpie on our kernel: same posterior, ESS/s (about 15 minutes)
bench-stan: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/bench_stan.py

## bench-scale: synthetic programmes of 77, 300, 1,000 and 3,000 units fitted: wall time, gradient per unit, gates, truth covered (about 10 minutes)
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_scale.py

## bench-assumptions: the decisive assumptions' refits with and without importance sampling, side by side (about 6 minutes)
bench-assumptions: $(STAMP)
	$(BIN)/python benchmarks/bench_assumptions_importance.py importance exact importance

## bench-refits: the default model's 13 refits cold and ungated, warm-started and gated, cold and gated (about 5 minutes)
bench-refits: $(STAMP)
	$(BIN)/python benchmarks/bench_refits.py

## bench-sbc: the SBC test's first 16 data sets refitted at four draws/tuning settings, interleaved, in CPU seconds (about 20 minutes)
bench-sbc: $(STAMP)
	$(BIN)/python benchmarks/bench_sbc.py

## bench-sweep: a 20-point sweep against 20 independent fits of the same specs (about 10 minutes)
bench-sweep: $(STAMP)
	$(BIN)/python benchmarks/bench_sweep.py

## report: fit the default model with every check and write results/dated_report.html (about 3 minutes)
report: $(STAMP)
	$(BIN)/dnamodel report

## figures: redraw the README's two key figures (docs/figures/) from a fit at the default settings
figures: $(STAMP)
	$(BIN)/dnamodel estimate --no-loo --out results/figures > /dev/null
	mkdir -p docs/figures
	cp results/figures/dated_total.png docs/figures/total_posterior.png
	cp results/figures/dated_campaign.png docs/figures/campaign.png

## notebooks: run the teaching notebooks top to bottom into results/notebooks/*.ipynb; NOTEBOOK_DRAWS=N for fewer draws (CI)
notebooks: $(STAMP)
	$(NOTEBOOK_ENV)$(BIN)/python notebooks/run.py

# One executed notebook, when it is missing or older than its source (what `make docs` needs).
results/notebooks/%.ipynb: notebooks/%.py | $(STAMP)
	$(NOTEBOOK_ENV)$(BIN)/python notebooks/run.py $*

$(DOCS_STAMP): $(STAMP)
	$(UV_INSTALL) --compile-bytecode -e ".[test,docs]"
	touch $(DOCS_STAMP)

## docs: the documentation site, docs/_build/html/index.html (Sphinx, warnings as errors; runs the notebooks not yet executed, NOTEBOOK_DRAWS=N for fewer draws)
docs: $(DOCS_STAMP) $(EXECUTED_NOTEBOOKS)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "The site: docs/_build/html/index.html"

## bench-report: the report drawn from a saved fit against the report with its fit (about 3 minutes)
bench-report: $(STAMP)
	$(BIN)/python benchmarks/bench_report.py

## power: what the checks can see on the default model: contraction beside SBC's ranks (200 refits) and coverage at fixed campaigns (80 refits); model card 5.10 (about 20 minutes on a loaded 2-core machine)
power: $(STAMP)
	$(BIN)/python -m dnamodel.workflows.power results

## compare: fit every shipped dated and hierarchical model, score them by leave-one-out, stack those that share their data (results/compare.*; estimate then adds its sentence)
compare: $(STAMP)
	$(BIN)/dnamodel compare --out results

## sweeps: the default (dated) model's shipped sweeps (dnamodel/models/sweeps/dated_*) into results/sweeps/, with one tornado chart (about 5 minutes)
sweeps: $(STAMP)
	$(BIN)/dnamodel sweep --shipped --out results/sweeps

## sweeps-hierarchical: the comparison model's (hierarchical_han) shipped sweeps into the same folder (about 10 minutes: each structure compiles)
sweeps-hierarchical: $(STAMP)
	$(BIN)/dnamodel sweep --shipped hierarchical_han --out results/sweeps
