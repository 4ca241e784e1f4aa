#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2154 # bats: each @test is a subshell; run sets $stderr
# serve --web-config: TLS and basic authentication as Prometheus exporters
# configure them, clear errors for a file that cannot be used, and a
# warning when serving beyond loopback without them.
#
# serve runs in the test's receiver namespace; the certificate is
# self-signed for 127.0.0.1 and made here; bcrypt hashes by htpasswd.

load helpers
load serve_helpers

setup() {
	tfc_e2e_setup
	need_tools curl openssl htpasswd
	BG_PIDS=()
	WEB=$BATS_TEST_TMPDIR/web
	mkdir -p "$WEB"
}

teardown() {
	bg_stop_all
	tfc_e2e_teardown
}

# make_cert: a self-signed certificate for 127.0.0.1, in $WEB.
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$WEB/server.key" \
		-out "$WEB/server.crt" 2>/dev/null
}

# bcrypt USER PASSWORD -> the hash (cost 5: fast enough for a test).
bcrypt() { htpasswd -nbBC 5 "$1" "$2" | cut -d: -f2; }

# code ARGS...: the status code of one curl request (000: none).
code() { in_b curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$@" || true; }

@test "serve_web: TLS with basic auth: right user 200, wrong or none 401, plain HTTP refused" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	make_cert
	cat >"$WEB/web.yml" <<YAML
# TLS and two users
tls_server_config:
  cert_file: server.crt         # relative to this file
  key_file: "$WEB/server.key"
basic_auth_users:
  prometheus: '$(bcrypt prometheus s3cret)'
  other: $(bcrypt other pw2)
YAML
	serve_bg "$BATS_TEST_TMPDIR/serve.log" --listen 127.0.0.1:0 --web-config "$WEB/web.yml"
	[[ $SERVE_URL == https://127.0.0.1:* ]]
	local ca=(--cacert "$WEB/server.crt")
	assert_eq "$(code "${ca[@]}" -u prometheus:s3cret "$SERVE_URL/metrics")" 200 "right user"
	assert_eq "$(code "${ca[@]}" -u other:pw2 "$SERVE_URL/healthz")" 200 "second user"
	in_b curl -sS "${ca[@]}" -u prometheus:s3cret "$SERVE_URL/metrics" |
		grep -q '^traffic_counter_build_info{'
	assert_eq "$(code "${ca[@]}" -u prometheus:wrong "$SERVE_URL/metrics")" 401 "wrong password"
	assert_eq "$(code "${ca[@]}" -u nobody:s3cret "$SERVE_URL/metrics")" 401 "unknown user"
	assert_eq "$(code "${ca[@]}" "$SERVE_URL/healthz")" 401 "no credentials"
	in_b curl -sSi "${ca[@]}" "$SERVE_URL/metrics" | tr -d '\r' |
		grep -qx 'WWW-Authenticate: Basic realm="traffic-counter"'
	# The certificate is checked: without the CA curl refuses it.
	assert_eq "$(code -u prometheus:s3cret "$SERVE_URL/metrics")" 000 "unknown CA"
	# Plain HTTP on the TLS port gets no reply.
	assert_eq "$(code -u prometheus:s3cret "http://${SERVE_URL#https://}/metrics")" 000 \
		"plain HTTP"
	kill -0 "$SERVE_PID"
}

@test "serve_web: basic auth alone over HTTP" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	printf 'basic_auth_users:\n  u: %s\n' "$(bcrypt u p)" >"$WEB/web.yml"
	serve_bg "$BATS_TEST_TMPDIR/serve.log" --listen 127.0.0.1:0 --web-config "$WEB/web.yml"
	[[ $SERVE_URL == http://127.0.0.1:* ]]
	assert_eq "$(code -u u:p "$SERVE_URL/metrics")" 200 "right user"
	assert_eq "$(code -u u:P "$SERVE_URL/metrics")" 401 "wrong password"
}

# check_bad EXPECTED-STDERR-GLOB FILE-CONTENT: serve refuses that file, exit 2.
check_bad() {
	printf '%s' "$2" >"$WEB/bad.yml"
	run --separate-stderr tfc_in "$NS_B" serve --listen 127.0.0.1:0 --web-config "$WEB/bad.yml"
	echo "[$2] -> $status: $stderr"
	assert_error_status 2
	# shellcheck disable=SC2053 # a glob on purpose
	[[ $stderr == $1 ]]
}

@test "serve_web: a web config that cannot be used is one clear line, exit 2" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	local h
	h=$(bcrypt u p)
	check_bad "*bad.yml:2: user 'u': the password must be a bcrypt hash*" \
		$'basic_auth_users:\n  u: plain\n'
	check_bad "*bad.yml:1: 'http_server_config' is not supported*" \
		$'http_server_config:\n  http2: false\n'
	check_bad "*bad.yml:3: tls_server_config: 'client_ca_file' is not supported*" \
		$'tls_server_config:\n  cert_file: a\n  client_ca_file: c\n'
	check_bad "*tls_server_config needs both cert_file and key_file*" \
		$'tls_server_config:\n  cert_file: a\n'
	check_bad "*bad.yml:2: a tab in the indentation*" $'basic_auth_users:\n\tu: '"$h"$'\n'
	check_bad "*bad.yml:1: not 'key: value'*" $'just text\n'
	check_bad "*cannot read cert_file $WEB/none.crt: No such file or directory*" \
		$'tls_server_config:\n  cert_file: none.crt\n  key_file: none.key\n'
	check_bad "*sets neither tls_server_config nor basic_auth_users*" $'# empty\n'
	run --separate-stderr tfc_in "$NS_B" serve --web-config "$WEB/missing.yml"
	assert_error_status 2
	[[ $stderr == *"--web-config $WEB/missing.yml: cannot read it: No such file or directory"* ]]
	# A key that is not one: the HTTPS server cannot start, exit 1.
	make_cert
	echo "not a key" >"$WEB/server.key"
	printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n' \
		>"$WEB/web.yml"
	run --separate-stderr tfc_in "$NS_B" serve --listen 127.0.0.1:0 --web-config "$WEB/web.yml"
	echo "bad key -> $status: $stderr"
	assert_error_status 1
	[[ $stderr == *"cannot start the HTTPS server on 127.0.0.1:0: check cert_file and key_file"* ]]
}

@test "serve_web: a non-loopback --listen without --web-config warns once" {
	make_pair nov6
	tfc_attach "$NS_B" --iface "$DEV_B"
	local log=$BATS_TEST_TMPDIR/serve.log
	serve_bg "$log" --listen "$B4:0"
	cat "$log"
	assert_eq "$(grep -c 'warning:' "$log")" 1 "warnings"
	grep -q "^traffic-counter: warning: $B4:0 is not a loopback address and serve has no --web-config: anyone" \
		"$log"
	bg_stop_all
	BG_PIDS=()
	# Loopback: no warning.
	serve_bg "$log" --listen 127.0.0.1:0
	assert_eq "$(grep -c 'warning:' "$log")" 0 "warnings on loopback"
	bg_stop_all
	# shellcheck disable=SC2034 # read by bg_stop_all (helpers.bash)
	BG_PIDS=()
	# Every address, with users but no TLS: the passwords would be in clear.
	printf 'basic_auth_users:\n  u: %s\n' "$(bcrypt u p)" >"$WEB/web.yml"
	serve_bg "$log" --listen '[::]:0' --web-config "$WEB/web.yml"
	cat "$log"
	grep -q '^traffic-counter: warning: \[::\]:0 is not a loopback address and --web-config has no TLS' "$log"
}
