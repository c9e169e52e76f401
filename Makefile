# The two commands of the README:
#   make lab   - set up everything, build the demo archive, start JupyterLab on notebooks/
#   make test  - set up everything and run the whole test suite (what .ci/run calls)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export TERRA_LAB_HOME ?= $(CURDIR)/.terra_lab
LAB_PORT ?= 8888
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test lint env system demo bench clean

$(VENV)/.installed: pyproject.toml scripts/install-bfast.sh widgets/package.json widgets/package-lock.json $(wildcard widgets/src/*.ts) widgets/style/index.css binder/overrides.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[all]"
	# pyTSEB, the reference of the energy-balance tests, without its GDAL/Jupyter/6S requirements (its
	# TSEB module needs none of them; pip has no per-package --no-deps in pyproject.toml)
	$(PY) -m pip install -q --no-deps "pytseb>=2.5" "radiative-transfer-models>=1.0" "Py6S>=1.9" "salib>=1.4"
	# bfast 0.7, the reference of the BFAST Monitor test: its sdist patched for numpy 2 (PyPI's cannot install)
	bash scripts/install-bfast.sh $(PY)
	# the JupyterLab extension (launcher entries, map layers for ipyleaflet), built against the JupyterLab just installed
	cd widgets && npm ci --no-audit --no-fund --silent && PYTHON=$(abspath $(PY)) npm run --silent build:labextension
	mkdir -p $(VENV)/share/jupyter/labextensions  # what `jupyter labextension develop` does: link it in
	rm -rf $(VENV)/share/jupyter/labextensions/terra-lab-widgets  # pip's copy of the shared-data; the link follows rebuilds
	ln -sfn $(CURDIR)/terra_lab/labextension $(VENV)/share/jupyter/labextensions/terra-lab-widgets
	# no "Would you like to get notified about Jupyter news?" toast over the workshop maps (settings overrides)
	mkdir -p $(VENV)/share/jupyter/lab/settings && cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/
	touch $@

# JupyterHub's proxy for tests/test_jupyterhub.py, from npm
CHP := tests/jupyterhub/node_modules/.bin/configurable-http-proxy
$(CHP): tests/jupyterhub/package.json tests/jupyterhub/package-lock.json
	cd tests/jupyterhub && npm ci --no-audit --no-fund --silent
	touch $@

env: $(VENV)/.installed $(CHP)

system:
	bash scripts/setup-system.sh

demo: env
	$(PY) -m terra_lab.cli demo build

lab: system env demo
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --ip=127.0.0.1 --port=$(LAB_PORT) --no-browser $(ROOT_FLAG)

test: system env demo lint
	TERRA_LAB_REQUIRE_SYSTEM=1 $(PY) -m pytest

# ruff (style, likely bugs) and mypy (types), configured in pyproject.toml [tool.ruff] / [tool.mypy];
# run first by `make test` (so by CI)
lint: env
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: env demo
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .terra_lab .pytest_cache
