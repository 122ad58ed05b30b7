# Two entry points for a fresh machine: `make run` opens the app, `make test` runs the tests.
# Both create .venv and install the project; `make test` also installs the Debian packages for Xvfb/Mesa/xcb.
# `make docs` serves the documentation site (docs/, mkdocs.yml) at http://127.0.0.1:8000 while you edit it.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Installed first: an unpinned torch in a fresh venv pulls a multi-GB CUDA build. 2.13.0 is the CPU wheel
# these machines keep on local disk; elsewhere, choose your own build (pyproject accepts torch>=2.2).
TORCH  ?= torch==2.13.0

# What Qt's xcb platform (the packages landscape_app/gui/qt_platform.py names when one is missing), Mesa's
# software OpenGL and Xvfb need on Debian/Ubuntu; librsvg2-bin (rsvg-convert) draws the SVG stills in the tests
# as LaTeX and Inkscape pipelines do. Chromium (~350 MB with its libraries) is left out: the tests draw SVGs
# with it too where it is installed (`apt-get install chromium`).
DEBIAN_PACKAGES = xvfb xauth libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libxkbcommon-x11-0 libxcb-cursor0 \
	libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xkb1 \
	libxcb-util1 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb-render0 libxcb1 libx11-xcb1 libx11-6 \
	libxkbcommon0 libfontconfig1 libdbus-1-3 fonts-dejavu-core librsvg2-bin

.PHONY: run test docs system-deps bench tables clean

run: $(VENV)/.installed
	$(BIN)/landscape-app

test: system-deps $(VENV)/.installed
	$(BIN)/python -m pytest -q

# The site's tools come with the test install (the tests build the site and run its examples).
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# Every benchmark under Xvfb (the 3-D views need OpenGL), quiet, then again with a core busy where the script
# has --busy; each writes benchmarks/results/<script>[-busy].json, and `tables` makes docs/performance.md of them.
# A benchmark that fails does not stop the others: the tables are made, its own says what it could not measure
# (or keeps its previous run's date), and the target fails at the end naming it.
XVFB = xvfb-run -a -s "-screen 0 1920x1080x24"

bench: system-deps $(VENV)/.installed
	$(BIN)/pip install -q -e ".[bench]"
	@failed=; \
	for b in benchmarks/bench_*.py; do \
		echo "== $$b"; $(XVFB) $(BIN)/python $$b || failed="$$failed $$b"; done; \
	for b in $$(grep -l -e '"--busy"' benchmarks/bench_*.py); do \
		echo "== $$b --busy"; $(XVFB) $(BIN)/python $$b --busy || failed="$$failed $$b--busy"; done; \
	$(MAKE) --no-print-directory tables; \
	if [ -n "$$failed" ]; then echo "benchmarks that failed:$$failed"; exit 1; fi

# The tables alone, from the results already in benchmarks/results (standard library only: no venv needed).
tables:
	$(PYTHON) benchmarks/make_tables.py

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test,docs,distributed]"
	touch $@

# Installs only what is missing; uses sudo when not root. Skipped where there is no apt-get.
system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if ! command -v apt-get >/dev/null; then echo "install Xvfb, Mesa and the Qt xcb libraries: $$missing"; exit 1; fi; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing Debian packages: $$missing"; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache .hypothesis .import_linter_cache
