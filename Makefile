# The two commands of the README: `make demo` and `make test`.
# Both set everything up on a fresh Debian machine (as root) and are fast when already set up.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.audiostyle-installed
# Sampled instruments: FluidR3 and freepats' GUS patches (turned into a SoundFont by
# `audiostyle data font`) for training, TimGM6mb for the test split.
SOUNDFONTS := /usr/share/sounds/sf2/FluidR3_GM.sf2 /usr/share/sounds/sf2/TimGM6mb.sf2 /etc/timidity/freepats.cfg
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
# The CPU torch wheel must be installed first and pinned, or pip pulls GBs of CUDA packages.
TORCH := torch==2.13.0

.PHONY: setup soundfonts chromium demo test clean

setup: soundfonts $(STAMP)

soundfonts:
	@missing=0; for f in $(SOUNDFONTS); do [ -f $$f ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  echo "installing General MIDI soundfonts (Debian: fluid-soundfont-gm, timgm6mb-soundfont, freepats)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends fluid-soundfont-gm timgm6mb-soundfont freepats >/dev/null; \
	fi

# Headless Chromium for the web page's browser tests (driven by Playwright; never a downloaded build).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium (for the web page tests)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi

$(STAMP): pyproject.toml requirements.txt requirements-nodeps.txt constraints.txt
	@command -v $(PY) >/dev/null || { echo "need $(PY)"; exit 1; }
	[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	$(PIP) $(TORCH)
	$(PIP) -c constraints.txt -r requirements.txt
	# these pull heavy or broken extras (tensorflow, pyaudio, a CUDA torchaudio) when installed with deps
	$(PIP) -c constraints.txt --no-deps -r requirements-nodeps.txt
	$(PIP) -c constraints.txt --no-deps --no-build-isolation -e .
	@touch $@

demo: setup
	$(BIN)/audiostyle demo --out demo_out

test: setup chromium
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
