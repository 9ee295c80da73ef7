# qshift: the two README commands are `make test` and `make demo`; both start from a bare machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
PYX    := $(shell find qkd -name '*.pyx' -o -name '*.pxd' -o -name '*.h' 2>/dev/null)
STAMP  := $(VENV)/.qshift-installed

.PHONY: test demo bench soak lint install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

# Reinstall (and so recompile the Cython extensions) whenever packaging or a .pyx / .pxd / C header changes.
$(STAMP): $(PY) pyproject.toml setup.py $(PYX)
	$(PIP) install --quiet -e '.[test,bench,lint]'
	# byte-compile the packages once: every qshift, KME, gateway and link-end process then loads them from
	# __pycache__ instead of compiling ~150 modules (0.2-0.3 s a process), also where PYTHONDONTWRITEBYTECODE is set
	$(PY) -m compileall -q -j 0 qshift qkd gateway pqc inventory >/dev/null
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

demo: $(STAMP)
	$(VENV)/bin/qshift demo

bench: $(STAMP)
	@set -e; for script in bench/*.py; do \
		case $$script in */_*) continue;; esac; \
		echo "== $$script"; $(PY) $$script; \
	done

soak: $(STAMP)
	QSHIFT_SLOW=1 $(PY) -m pytest -q -m slow -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check qshift pqc qkd gateway inventory tests bench
	$(VENV)/bin/mypy qshift pqc qkd gateway inventory

clean:
	rm -rf $(VENV) build dist *.egg-info
	find qkd -name '*.so' -delete -o -name '*.c' -delete
