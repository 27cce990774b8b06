# Two commands on a fresh machine: `make book` and `make test`.
# Both create .venv from the pinned requirements.txt when it is missing.
# `make book` builds the cpu profile from the runs stored in results/cpu (it never
# trains: the cpu runs come from `ctlib campaign`); `make book PROFILE=quick`
# regenerates the quick book, training whatever results/quick lacks.
# `make check-book` checks the built HTML and that every committed run record is
# still found by the current code (both run by .ci/run after the tests).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# pip warns once per package about absent local index folders; keep its real errors.
QUIET := 2>&1 | { grep -v "is ignored: it is neither" || true; }
PY    := .venv/bin/python
# ctlib itself, as an editable install of this checkout
INSTALL_CTLIB = $(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . $(QUIET)
PROFILE ?= cpu
# Datasets: ../shared/data (the project's data mirror) when it is there.
ifneq ($(wildcard ../shared/data),)
export CTLIB_DATA ?= $(abspath ../shared/data)
endif

.PHONY: venv test test-slow book check-book bench clean
# The editable install must be this checkout's: a .venv copied from another clone
# would import that clone's ctlib, and `ctlib book` would build that clone's book.
# pip runs as `python -m pip`: a copied .venv/bin/pip keeps the other clone's python in its
# first line, so it installed into the other clone's .venv.
venv: .venv/.stamp
	@here=$$($(PY) -I -c "import ctlib, pathlib; print(pathlib.Path(ctlib.__file__).resolve().parents[1])" 2>/dev/null || true); \
	if [ "$$here" != "$$(pwd -P)" ]; then \
	  echo "ctlib in .venv comes from $${here:-nowhere}, not this checkout ($$(pwd -P)): installing it from here"; \
	  $(INSTALL_CTLIB); \
	fi

.venv/.stamp: requirements.txt pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt $(QUIET)
	$(INSTALL_CTLIB)
	touch $@

# `make test`: the fast inner loop (every test not marked slow). `make test-slow`: the
# end-to-end tests (notebooks on smoke, the book build, the campaign, documented commands).
# .ci/run runs both, so CI drops nothing.
test: venv
	$(PY) -m pytest -q -m "not slow" --durations=20

test-slow: venv
	$(PY) -m pytest -q -m slow --durations=20

book: venv
	.venv/bin/ctlib book --profile $(PROFILE)

check-book: venv
	$(PY) tools/check_html.py _build/html
	$(PY) tools/check_results.py

bench: venv
	$(PY) benchmarks/throughput.py

clean:
	rm -rf _build book/generated
