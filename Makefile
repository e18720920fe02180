# Two commands on a fresh Debian 12 machine, as root:
#   make run   - set everything up and start the registry on 127.0.0.1:5000
#   make test  - set everything up and run the whole suite
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# What the tests need (and the peers the benchmarks compare against).
SYSTEM_PACKAGES := skopeo umoci runc busybox-static docker.io debootstrap podman \
	docker-registry iproute2 ca-certificates chromium strace gcc libc6-dev dpkg-dev \
	util-linux wrk apache2-utils hyperfine \
	postgresql nginx ceph-mon ceph-osd radosgw ceph-common uuid-runtime curl \
	slirp4netns tini buildah qemu-user-static binfmt-support golang-go openssh-client git
export LAMINA_TEST_CACHE ?= /var/cache/lamina-tests

.PHONY: run test venv system lint typecheck bench fuzz wheelhouse image

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV) || { apt-get update -q && apt-get install -y -q python3-venv \
		&& python3 -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

system:
	bash scripts/install-system.sh $(SYSTEM_PACKAGES)

run: venv
	$(VENV)/bin/lamina registry serve

# The suite runs first so its result is always seen; lint and types must pass too.
test: system venv
	bash scripts/start-services.sh
	status=0; \
	$(PY) -m pytest -q || status=$$?; \
	$(VENV)/bin/ruff check src tests bench || status=1; \
	$(VENV)/bin/mypy || status=1; \
	exit $$status

# The registry's container image (Dockerfile): wheels made here from the checkout, then a
# build that needs no network. BASE must be a Debian 12 image with python3.11.
IMAGE ?= lamina-registry:$(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
BASE ?= python:3.11-slim-bookworm
wheelhouse: venv
	PYTHON=$(PY) bash scripts/wheelhouse.sh build/wheelhouse

image: wheelhouse
	DOCKER_BUILDKIT=0 docker build --build-arg BASE=$(BASE) -t $(IMAGE) .

lint: venv
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

# The registry fuzz suite, long: rounds with fresh seeds until FUZZ_SECONDS have passed
# (a round started in time finishes), loopback only, stopping at the first failure.
# `pytest tests/registry/fuzz` runs the short profile as part of the normal suite.
FUZZ_SECONDS ?= 1800
fuzz: venv
	end=$$(( $$(date +%s) + $(FUZZ_SECONDS) )); \
	while [ $$(date +%s) -lt $$end ]; do \
		LAMINA_FUZZ_PROFILE=long $(PY) -m pytest -q -p no:cacheprovider tests/registry/fuzz \
			--hypothesis-seed=$$RANDOM || exit 1; \
	done
