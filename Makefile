# contractflow developer entry points. `make help` lists the documented targets:
# every target with a "## " comment is listed, so keep those comments truthful.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed
KAFKA_PORT ?= 9092
export KAFKA_BOOTSTRAP_SERVERS ?= 127.0.0.1:$(KAFKA_PORT)

.PHONY: help venv lock asyncapi mail kafka-jars admin-assets chromium up down demo test lint bench clean k8s-validate

help: ## Show this list of targets
	@echo "Usage: make <target>"
	@echo
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

venv: $(VENV_STAMP) ## Create .venv and install the project with its dev dependencies

# Re-installs whenever pyproject.toml or constraints.txt changes (the stamp is older).
# constraints.txt pins every installed distribution, so a fresh machine gets what was tested;
# after changing dependencies run `make lock` and commit both files.
$(VENV_STAMP): pyproject.toml constraints.txt
	@if [[ ! -x $(VENV)/bin/python ]]; then \
		echo "[venv] creating $(VENV) with $$(command -v $(PYTHON))"; \
		$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
			|| { echo "[venv] Python >= 3.11 needed (set PYTHON=...)"; exit 1; }; \
		if ! $(PYTHON) -m venv $(VENV); then \
			echo "[venv] venv/ensurepip missing: installing python3-venv"; \
			rm -rf $(VENV); \
			if [[ $$(id -u) -eq 0 ]]; then SUDO=; else SUDO=sudo; fi; \
			$$SUDO apt-get update -q && \
			$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
			$(PYTHON) -m venv $(VENV); \
		fi; \
	fi
	@echo "[venv] installing the project and its dev dependencies"
	@$(VENV)/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(VENV)/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

lock: venv ## Rewrite constraints.txt from what .venv has installed (after a dependency change)
	@{ echo '# Pinned versions of every distribution `make venv` installs (pip -c): written by `make lock`.'; \
		$(VENV)/bin/python -m pip freeze --exclude-editable --disable-pip-version-check; } > constraints.txt
	@echo "[lock] constraints.txt: $$(wc -l < constraints.txt) pinned distributions"

asyncapi: venv ## Regenerate docs/asyncapi.yaml and the event schema lock from the catalogue
	@$(VENV)/bin/python -m contractflow.events.asyncapi --write docs/asyncapi.yaml \
		--lock docs/event-schemas.lock.json
	@echo "[asyncapi] docs/asyncapi.yaml and docs/event-schemas.lock.json are up to date"

mail: venv ## List the mail the `make up` mail catcher received, with the links in each
	@$(VENV)/bin/python -m contractflow.mail.catcher --dir $${CONTRACTFLOW_RUN_DIR:-.run}/mail --list

kafka-jars: ## Resolve the Kafka broker jars with Maven into .cache/kafka/libs
	@scripts/kafka.sh fetch

# The admin editor's browser bundle (bpmn-js, dmn-js, bpmnlint; served by the admin web
# itself, no CDN): rebuilt when missing or older than the lock file or its sources.
ADMIN_FRONTEND := services/admin/frontend
ADMIN_BUNDLE := services/admin/static/dist/editor.js
admin-assets: $(ADMIN_BUNDLE) ## Build the admin editor's browser bundle (npm ci + esbuild) when missing or stale

$(ADMIN_BUNDLE): $(ADMIN_FRONTEND)/package-lock.json $(ADMIN_FRONTEND)/build.mjs $(wildcard $(ADMIN_FRONTEND)/src/*.js $(ADMIN_FRONTEND)/src/*.css)
	@$(ADMIN_FRONTEND)/build.sh

chromium: ## Install Debian's chromium (the browser tests drive it) when missing
	@if ! command -v chromium >/dev/null; then \
		echo "[chromium] installing Debian's chromium"; \
		if [[ $$(id -u) -eq 0 ]]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi

up: venv kafka-jars admin-assets ## Start Kafka (9092), a mail catcher (SMTP 1025, page 8025) and all services; prints URLs
	@scripts/kafka.sh start
	@MAIL_CATCHER=1 scripts/services.sh start

down: ## Stop the services, the mail catcher and Kafka started by `make up`
	@MAIL_CATCHER=1 scripts/services.sh stop
	@scripts/kafka.sh stop

demo: venv kafka-jars ## Two contracts from requirement to their end on an accelerated clock, by the real processes (scripts/demo.sh); leaves nothing running
	@scripts/demo.sh

test: admin-assets chromium ## Run the whole suite: own Kafka (19092) and PostgreSQL (15432), pytest, then lint
	@scripts/test.sh

# All three run even when one fails, so one pass shows every problem.
lint: venv ## ruff check, ruff format --check and mypy
	@rc=0; \
	echo "+ ruff check ."; $(VENV)/bin/ruff check . || rc=1; \
	echo "+ ruff format --check ."; $(VENV)/bin/ruff format --check . || rc=1; \
	echo "+ mypy contractflow"; $(VENV)/bin/mypy contractflow || rc=1; \
	exit $$rc

bench: venv ## Run the benchmarks (scripts/bench.sh); QUICK=1 for a short run
	@$(if $(QUICK),QUICK="$(QUICK)" )bash scripts/bench.sh

k8s-validate: venv ## Render every Kubernetes overlay and check each object against the Kubernetes schemas
	@bash deploy/k8s/validate.sh

clean: down ## Stop everything and delete .run (logs, data, pid files)
	rm -rf .run
