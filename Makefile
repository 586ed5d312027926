# Quick start: `make demo` (serves the tiny models through Ray Serve and writes two MP4s)
# and `make test`. Both install what they need into .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out
# The CPU build pip finds on this kind of machine; any torch already in .venv is kept.
TORCH_SPEC ?= torch==2.13.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo demo-cli test test-fast gpu-bundle clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)" || $(PY) -m pip install -q torch
	$(PY) -m pip install -q -e ".[test]"
	@# The web page's browser test drives Debian's chromium through Playwright (no Playwright browser download).
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }
	@# The job store tests start a real PostgreSQL from Debian's packages (tests/pg_server.py: initdb, pg_ctl).
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		{ $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q postgresql; }
	@touch $@

demo: install
	$(PY) -m videogen.serve.demo --out $(OUT)

# The same two requests without Ray: the shared core through the CLI.
demo-cli: install
	$(VENV)/bin/videogen generate --family wan --model tiny --prompt "a red fox running through snow" -o $(OUT)/cli-wan-t2v.mp4
	$(PY) -c "from PIL import Image; Image.new('RGB', (64, 64), (200, 80, 40)).save('$(OUT)/first-frame.png')"
	$(VENV)/bin/videogen generate --family ltx-video --task image-to-video --image $(OUT)/first-frame.png --model tiny --prompt "the sun sets over the sea" -o $(OUT)/cli-ltx-i2v.mp4

test: install
	@# Lint and format are checked first: a red style is a red build (ruff's config is in pyproject.toml).
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The tests without Ray on two workers (pytest-xdist: the tiny models' work is Python-bound, one process leaves a
	@# core idle), then every test that starts a real local Ray (marked `serve`), one at a time: never two Ray at once.
	$(PY) -m pytest -q -p no:cacheprovider -m "not serve" -n 2
	$(PY) -m pytest -q -p no:cacheprovider -m serve

test-fast: install
	$(PY) -m pytest -q -p no:cacheprovider -m "not serve" -n 2

# The wheels the GPU machine lacks (it has torch, no network): carried to it as .gpu-bundle/ by the device tool's
# `carry`, for benchmarks/gpu_check.py (README "GPU check"). Prints the bundle's size and, with the working tree
# that travels beside it, the total against the 64 MiB a call may carry.
gpu-bundle:
	rm -rf .gpu-bundle && mkdir -p .gpu-bundle
	python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
		-d .gpu-bundle -r benchmarks/gpu_bundle.txt
	@bundle=$$(cat .gpu-bundle/*.whl | wc -c); \
	tree=$$(git ls-files -z --cached --others --exclude-standard | xargs -0 cat 2>/dev/null | wc -c); \
	awk -v b=$$bundle -v t=$$tree -v n=$$(ls .gpu-bundle/*.whl | wc -l) 'BEGIN { \
		printf "gpu bundle: %d wheels, %.1f MiB; with the working tree that travels: %.1f MiB of 64 MiB\n", \
		n, b / 1048576, (b + t) / 1048576 }'

clean:
	rm -rf $(OUT) .pytest_cache
