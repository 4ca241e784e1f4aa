# shellcheck shell=bash
# shellcheck disable=SC2034 # SERVE_PID, SERVE_URL, SERVE_PORT are for the .bats files
# Starting `serve` for the end-to-end tests that scrape it: in the receiver
# namespace ($NS_B), with the test's pins, in the background (in BG_PIDS,
# so teardown's bg_stop_all ends it), and waited for until it logs where it
# serves. Load after helpers: `load helpers` then `load serve_helpers`.

in_b() { timeout 60 nsenter --net="/run/netns/$NS_B" "$@"; }

# curl_b ARGS...: curl inside the receiver namespace, bounded in time.
curl_b() { in_b curl -sS --max-time 20 "$@"; }

# http_code ARGS...: the status code of one request (000: no response).
http_code() { curl_b -o /dev/null -w '%{http_code}' "$@" 2>/dev/null || true; }

# serve_bg LOG ARGS...: serve ARGS in the receiver namespace with this
# test's pins, logging to LOG; SERVE_PID is its pid. Then serve_wait LOG.
serve_bg() {
	local log=$1
	shift
	nsenter --net="/run/netns/$NS_B" "$TFC_BIN" serve --pin-dir "$PIN" "$@" >"$log" 2>&1 3>&- &
	SERVE_PID=$!
	BG_PIDS+=("$SERVE_PID")
	serve_wait "$log"
}

# serve_wait LOG: until the serve of SERVE_PID logs where it serves (10 s
# at most); sets SERVE_URL (scheme, address and port: no path) and
# SERVE_PORT. Fails at once when serve exits instead.
serve_wait() {
	local log=$1 i
	SERVE_URL=
	SERVE_PORT=
	for ((i = 0; i < 100; i++)); do
		SERVE_URL=$(sed -n 's|^serving \(https\?://.*\)/metrics$|\1|p' "$log")
		if [ -n "$SERVE_URL" ]; then
			SERVE_PORT=${SERVE_URL##*:}
			return 0
		fi
		if ! kill -0 "$SERVE_PID" 2>/dev/null; then
			echo "FAIL: serve exited: $(cat "$log")" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "FAIL: serve did not start in 10 s: $(cat "$log")" >&2
	return 1
}
