# The corpus oracle (tests/corpus/README.md), included by tests/tests.mk.
# `make corpus-oracle` rewrites $(TFC_CORPUS)/expected.json from the pcaps
# with tshark (CORPUS_ORACLE_OUT= to write elsewhere). `make
# corpus-oracle-check` recomputes it into $(CORPUS_CHECK_OUT) and fails,
# showing the difference, unless it equals the committed file (compared as
# JSON, key order aside). tests/e2e/corpus_oracle.bats runs the check.
CORPUS_ORACLE     := tests/corpus/tshark_oracle.py
CORPUS_ORACLE_OUT ?= $(TFC_CORPUS)/expected.json
CORPUS_CHECK_OUT  ?= $(BUILD)/corpus/expected.json

corpus-oracle:
	$(Q)python3 $(CORPUS_ORACLE) --corpus $(TFC_CORPUS) --out $(CORPUS_ORACLE_OUT)

corpus-oracle-check:
	$(Q)mkdir -p $(dir $(CORPUS_CHECK_OUT))
	$(Q)start=$$(date +%s); \
	python3 $(CORPUS_ORACLE) --corpus $(TFC_CORPUS) --out $(CORPUS_CHECK_OUT) || exit 1; \
	echo "corpus-oracle-check: tshark took $$(( $$(date +%s) - start )) s"
	$(Q)if diff -u --label "$(TFC_CORPUS)/expected.json (committed)" \
		--label "$(CORPUS_CHECK_OUT) (tshark now)" \
		<(jq -S . $(TFC_CORPUS)/expected.json) <(jq -S . $(CORPUS_CHECK_OUT)); then \
		echo "corpus-oracle-check: $$(jq length $(CORPUS_CHECK_OUT)) files agree with the committed oracle"; \
	else echo "corpus-oracle-check: tshark disagrees with $(TFC_CORPUS)/expected.json" \
		"(diff above); if the change is intended, run 'make corpus-oracle' and commit" >&2; \
		exit 1; fi

.PHONY: corpus-oracle corpus-oracle-check
