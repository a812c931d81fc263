# `make run` and `make test` each do the whole set-up on a fresh machine:
# create .venv if missing, install robustcore with its pinned torch, then run.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8501
# torch/torchvision releases that lie on the build machine's disk; a newer one is a multi-GB download.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1

.PHONY: run test setup browser-deps benchmarks clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PINS)
	$(PY) -m pip install --quiet -e '.[test]' $(TORCH_PINS)
	touch $(STAMP)

setup: $(STAMP)

browser-deps:
	bash scripts/ensure_chromium.sh

run: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.headless true

test: $(STAMP) browser-deps
	$(PY) -m pytest -n 2 --timeout=900 -p no:cacheprovider tests

benchmarks: $(STAMP)
	for f in benchmarks/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) test-artifacts
