# MailTicket: `make demo` and `make test` work on a fresh Debian 12 machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR := .demo
DEMO_DB := sqlite:///$(CURDIR)/$(DEMO_DIR)/mailticket.db

.PHONY: demo test bench dovecot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Dovecot is installed from Debian's packages when missing (as root); otherwise say what to install.
dovecot:
	@if ! command -v dovecot >/dev/null 2>&1 || ! dpkg -s dovecot-imapd dovecot-pop3d >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing dovecot-imapd dovecot-pop3d from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dovecot-pop3d >/dev/null; \
	  else \
	    echo "make test: Dovecot is missing; run: sudo apt-get install dovecot-imapd dovecot-pop3d"; exit 2; \
	  fi; \
	fi

test: $(STAMP) dovecot
	$(PY) -m pytest -q

demo: $(STAMP)
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	cp -r data/demo-maildir $(DEMO_DIR)/maildir
	sed 's#@DEMO_MAILDIR@#$(CURDIR)/$(DEMO_DIR)/maildir#' data/demo.toml > $(DEMO_DIR)/mailticket.toml
	$(PY) -m mailticket_tui --config $(DEMO_DIR)/mailticket.toml --db $(DEMO_DB) run --once
	$(PY) -m mailticket_tui --config $(DEMO_DIR)/mailticket.toml --db $(DEMO_DB)

bench: $(STAMP) dovecot
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
