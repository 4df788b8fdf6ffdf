# MailTicket: `make demo` and `make test` work on a fresh Debian 12 machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR := .demo
DEMO_DB := sqlite:///$(CURDIR)/$(DEMO_DIR)/mailticket.db

.PHONY: demo test bench eval dovecot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Dovecot (the IMAP/POP3 tests) and tmux (the TUI walk in a real terminal) are installed from Debian's packages
# when missing (as root); otherwise say what to install.
dovecot:
	@if ! command -v dovecot >/dev/null 2>&1 || ! dpkg -s dovecot-imapd dovecot-pop3d >/dev/null 2>&1 \
	    || ! command -v tmux >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing dovecot-imapd dovecot-pop3d tmux from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dovecot-pop3d tmux >/dev/null; \
	  else \
	    echo "make test: Dovecot or tmux is missing; run: sudo apt-get install dovecot-imapd dovecot-pop3d tmux"; exit 2; \
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

# The parser's own evaluation set (tests/data/eval): exact and token F1 of the new part per client, language,
# format and posting style, at the shipped defaults. Its bars are asserted by tests/test_parse_eval.py.
eval: $(STAMP)
	$(PY) tests/eval_replies.py

# bytecode first, as an installed package has it (this environment may set PYTHONDONTWRITEBYTECODE, and
# compiling the modules a `run --once` imports would be counted in every measured run)
bench: $(STAMP) dovecot
	$(PY) -m compileall -q mailticket_tui bench tests
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
