# oci.registry developer entry points. `make demo` and `make test` set up what they need.
SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
export PATH := $(VENV)/bin:$(PATH)
BUILD := $(ROOT)/.build
# ansible-test resolves symlinks, so it gets a real copy of the tracked (and new) files.
TEST_TREE := $(BUILD)/ansible-test/ansible_collections/oci/registry
# Evaluated when used: on a fresh machine the venv only exists once `venv` has run.
ANSIBLE_TEST_PYTHON = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)
export PYTHONPATH := $(BUILD)

.PHONY: docs-examples ee-check galaxy-importer test-matrix help venv tree ansible-test-tree registries-start registries-stop demo test sanity units \
	integration molecule lint changelog-lint docs-lint build bench pytest clean

help:
	@echo "make demo   - run the main job against local registries"
	@echo "make test   - the whole test suite (sanity, units, integration, molecule, lint)"
	@echo "make bench  - copy throughput / memory benchmarks (not part of make test)"
	@echo "make docs-examples - run the examples of README.md and the guides (part of make units)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt requirements.txt hacking/bootstrap.sh
	bash hacking/bootstrap.sh

tree: venv
	@mkdir -p $(BUILD)/ansible_collections/oci && ln -sfn $(ROOT) $(BUILD)/ansible_collections/oci/registry

ansible-test-tree: venv
	@rm -rf $(TEST_TREE) && mkdir -p $(TEST_TREE)
	@cd $(ROOT) && git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- ./ $(TEST_TREE)/
	@cd $(TEST_TREE) && git init -q && git add -A >/dev/null 2>&1

registries-start: tree
	$(PY) tests/registries start

registries-stop:
	-$(PY) tests/registries stop

demo: tree
	bash hacking/demo.sh

sanity: ansible-test-tree
	bash hacking/sanity.sh $(TEST_TREE) $(ARGS)

units: ansible-test-tree registries-start
	cd $(TEST_TREE) && ansible-test units --local --python $(ANSIBLE_TEST_PYTHON) --color=no $(ARGS)

integration: ansible-test-tree registries-start
	cd $(TEST_TREE) && ansible-test integration --local --python $(ANSIBLE_TEST_PYTHON) --color=no $(ARGS)

molecule: tree registries-start
	bash hacking/molecule.sh

lint: tree
	cd $(ROOT) && ansible-lint --profile production

changelog-lint: venv
	cd $(ROOT) && antsibull-changelog lint

# antsibull-docs' own rstcheck pass names targets with a random nonce and fails now and then
# ("Unknown target name: antsibull-docs-..."), so the guides get a plain rstcheck instead.
docs-lint: tree
	cd $(BUILD)/ansible_collections/oci/registry && antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck .
	rstcheck --report-level warning docs/docsite/rst/*.rst

# The examples of README.md and the guides, run against local registries (also part of `make units`).
docs-examples: tree
	cd $(ROOT) && $(PY) -m pytest tests/unit/docs -q $(ARGS)

build: venv
	@mkdir -p $(BUILD)/dist
	cd $(ROOT) && ansible-galaxy collection build --force --output-path $(BUILD)/dist

ee-check: venv
	bash hacking/ee-check.sh

galaxy-importer: venv
	bash hacking/galaxy-importer.sh

# sanity + units on ansible-core 2.17 (oldest), 2.19 (newest on Python 3.11) and 2.21, as the machine's Pythons allow.
test-matrix: venv
	bash hacking/test-matrix.sh

pytest: tree
	cd $(ROOT) && $(PY) -m pytest $(ARGS)

test: venv
	bash hacking/test.sh

bench: tree
	bash benchmarks/run.sh

# Event-Driven Ansible: the registry_events source, its end to end with a notifying registry, and the
# rulebook end to end. OCI_REGISTRY_EDA=1 makes bootstrap install ansible-rulebook (requirements-eda.txt)
# and, when no Java 17+ is found, Debian's openjdk-17-jre-headless. Without them the rulebook test skips.
.PHONY: eda
eda: tree registries-start
	OCI_REGISTRY_EDA=1 bash hacking/bootstrap.sh
	cd $(ROOT) && $(PY) -m pytest tests/unit/extensions/eda tests/unit/plugins/filter/test_event_to_reference.py -q -p no:cacheprovider $(ARGS)

clean: registries-stop
	rm -rf $(BUILD) tests/output
