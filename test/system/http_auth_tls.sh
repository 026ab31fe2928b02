#!/bin/bash
#
# http_auth_tls.sh - promscale-ha-http's authentication (bearer token, basic auth) and TLS.
#
#   sudo bash test/system/http_auth_tls.sh        (as root; after `make install`)
#
# Starts, all on 127.0.0.1 and in one temporary directory:
#   - a throw-away PostgreSQL 15 (initdb as the postgres user, Unix socket only) with
#     shared_preload_libraries = 'promscale_ha' and the extension created;
#   - a self-signed certificate (openssl; subjectAltName IP:127.0.0.1);
#   - front end 1 on :BASE+1: HTTPS, --bearer-token-file (set by flags);
#   - front end 2 on :BASE+2: plain HTTP, basic auth and the same bearer token (set by
#     PHA_HTTP_* environment variables);
#   - a Prometheus (Debian's) on :BASE+9 that scrapes front end 1's /metrics over HTTPS
#     with the token and remote-writes to front end 1 (authorization: credentials_file,
#     tls_config: ca_file) and to front end 2 (basic_auth: password_file).
# Then it checks, printing one line `ok: ...` or `FAILED: ...` per check:
#   1. front end 1: /healthz needs no token (200); /write without a token, with a wrong
#      one, or with basic credentials is 401 with WWW-Authenticate: Bearer (also for a
#      1 MB body sent at once: the client gets the 401, not a reset); the right
#      token stores (204), also on /api/v1/write; /read needs the token too and answers
#      the stored samples over HTTPS; /metrics needs the token; plain HTTP
#      to the TLS port fails, and the port still serves HTTPS after it; every rejected
#      request is one log line with its reason and no secret;
#   2. front end 2: a wrong password, an unknown user, malformed credentials are 401
#      with WWW-Authenticate: Basic (and Bearer); the right password (plain, and one
#      given as $sha256$ of sha256sum, 60 bytes: two SHA-256 blocks) and the token store;
#   3. the program refuses to start (exit 2, a clear message, no secret in it) with a
#      token, users or key file that group or others can read, an empty token file, a
#      malformed users file, or --tls-cert without --tls-key;
#   4. Prometheus' remote writes over both paths succeed: its samples are in the
#      database (front end 1's own metrics among them, scraped over HTTPS with the
#      token), the HA lease names it, and no sample failed (no 401).
# Every wait is bounded; every process started is stopped by its PID (trap); the
# temporary directory is removed at exit (PHA_AUTH_KEEP=1 keeps it).  Ports: the
# PostgreSQL one only on a Unix socket (PHA_AUTH_PGPORT, default 55482), TCP from
# PHA_AUTH_PORT_BASE (default 19300).  Needs: root, postgresql-15, promscale_ha,
# promscale-ha-http and promscale-ha-gen installed; curl, openssl and prometheus are
# installed with apt-get when missing.  Exit status: 0 when every check passed.

set -uo pipefail

pgbin=/usr/lib/postgresql/15/bin
pgport=${PHA_AUTH_PGPORT:-55482}
base=${PHA_AUTH_PORT_BASE:-19300}
fe1_port=$((base + 1))
fe2_port=$((base + 2))
spare_port=$((base + 3))
prom_port=$((base + 9))

dir=
pg_running=false

# ok, failed, check (by a command's status), check_eq, fatal; counters checks, failures
# shellcheck source=../lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"
# pids, start, stop, wait_until, note, elapsed, fle, port_free, as_pg
# shellcheck source=../lib/procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/procs.sh"

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$? name f
	trap - EXIT INT TERM
	stop prometheus
	for name in "${!pids[@]}"; do stop "$name"; done
	if $pg_running; then
		as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -m immediate -w -t 30 stop >/dev/null 2>&1
	fi
	if [ -n "$dir" ] && [ -d "$dir" ]; then
		if [ "$failures" -gt 0 ]; then
			for f in "$dir"/fe1.log "$dir"/fe2.log "$dir"/prometheus.log "$dir"/pg/log; do
				[ -f "$f" ] || continue
				echo "   --- last lines of $f"
				tail -n 15 "$f" | sed 's/^/   | /'
			done
		fi
		if [ "${PHA_AUTH_KEEP:-0}" = 1 ]; then
			echo "   temporary directory kept: $dir"
		else
			rm -rf "$dir"
		fi
	fi
	echo "http_auth_tls: $checks checks, $failures failed"
	[ "$failures" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# prerequisites

if [ "$(id -u)" -ne 0 ]; then
	echo "$0: run as root (it installs packages and runs PostgreSQL as the postgres user)" >&2
	exit 1
fi

# install_missing: curl, openssl, prometheus from Debian; a temporary policy-rc.d keeps
# the prometheus service from starting when the package is installed.
install_missing() {
	local need=() rc policy=/usr/sbin/policy-rc.d made_policy=false
	command -v curl >/dev/null || need+=(curl)
	command -v openssl >/dev/null || need+=(openssl)
	command -v prometheus >/dev/null || need+=(prometheus)
	[ ${#need[@]} -eq 0 ] && return 0
	echo "   installing ${need[*]} (apt-get)"
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# written by promscale_ha test/system/http_auth_tls.sh during apt-get install\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=true
	fi
	export DEBIAN_FRONTEND=noninteractive
	timeout 600 apt-get update -q >/dev/null &&
		timeout 900 apt-get install -y -q --no-install-recommends \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}" >/dev/null
	rc=$?
	$made_policy && rm -f "$policy"
	return $rc
}
install_missing || fatal "cannot install curl, openssl and prometheus"

pha_http=$(command -v promscale-ha-http || echo "$pgbin/promscale-ha-http")
pha_gen=$(command -v promscale-ha-gen || echo "$pgbin/promscale-ha-gen")
if [ ! -x "$pha_http" ] || [ ! -x "$pha_gen" ]; then
	fatal "promscale-ha-http and promscale-ha-gen are installed (make install)"
fi

for p in "$fe1_port" "$fe2_port" "$spare_port" "$prom_port"; do
	port_free "$p" || fatal "port $p on 127.0.0.1 is in use (set PHA_AUTH_PORT_BASE)"
done

dir=$(mktemp -d /tmp/pha-auth.XXXXXX)
chmod 755 "$dir"
mkdir "$dir/pg"
chown postgres: "$dir/pg"

# ---------------------------------------------------------------------------
# PostgreSQL

as_pg "$pgbin/initdb" -D "$dir/pg/data" -A trust -U postgres --no-locale -E UTF8 >/dev/null ||
	fatal "initdb"
cat >>"$dir/pg/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/pg'
port = $pgport
shared_preload_libraries = 'promscale_ha'
promscale_ha.database = 'postgres'
CONF
as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w -t 60 start >/dev/null ||
	fatal "PostgreSQL starts"
pg_running=true
sql() {
	as_pg "$pgbin/psql" -X -At -q -h "$dir/pg" -p "$pgport" -d postgres -v ON_ERROR_STOP=1 -c "$1"
}
sql "CREATE EXTENSION promscale_ha" || fatal "CREATE EXTENSION promscale_ha"
conninfo="host=$dir/pg port=$pgport dbname=postgres user=postgres"

# ---------------------------------------------------------------------------
# secrets and certificate (all mode 600, owned by root)

umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=promscale-ha-http test" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || fatal "openssl makes a certificate"
chmod 600 "$dir/key.pem"
chmod 644 "$dir/cert.pem"
token=$(openssl rand -hex 32)
wrong_token=$(openssl rand -hex 32)
printf '%s\n' "$token" >"$dir/token"
alice_pw=$(openssl rand -hex 12)
bob_pw=$(openssl rand -hex 30)              # 60 bytes: SHA-256 pads it into two blocks
bob_hash=$(printf '%s' "$bob_pw" | sha256sum | cut -d' ' -f1)
printf '%s' "$alice_pw" >"$dir/alice.pw"
{
	echo "# users of the test"
	echo "alice:$alice_pw"
	echo
	echo "bob:\$sha256\$$bob_hash"
} >"$dir/users"
# request headers in files, so that no secret is on a command line
printf 'Authorization: Bearer %s\n' "$token" >"$dir/h_token"
printf 'Authorization: Bearer %s\n' "$wrong_token" >"$dir/h_wrong_token"
basic() { printf 'Authorization: Basic %s\n' "$(printf '%s' "$1" | base64 -w0)"; }
basic "alice:$alice_pw" >"$dir/h_alice"
basic "bob:$bob_pw" >"$dir/h_bob"
basic "alice:x$alice_pw" >"$dir/h_alice_wrong"
basic "mallory:$alice_pw" >"$dir/h_unknown"
printf 'Authorization: Basic %s\n' 'not*base64' >"$dir/h_malformed"
printf 'Authorization: Digest username="alice"\n' >"$dir/h_digest"
umask 022

# payload N: a remote-write request with 3 series at its own time, as a file
now_ms=$(date +%s%3N)
payload() {
	"$pha_gen" --series 3 --start-ms $((now_ms - 600000 + $1 * 1000)) --label test=auth \
		-o "$dir/p$1.bin" && echo "$dir/p$1.bin"
}

# post URL PAYLOAD [CURL OPTION...]: status code of a remote write (000: no answer);
# the response headers land in $dir/headers
post() {
	local url=$1 file=$2
	shift 2
	curl -s -m 10 --cacert "$dir/cert.pem" -o "$dir/body" -D "$dir/headers" -w '%{http_code}' \
		-H 'Content-Encoding: snappy' -H 'Content-Type: application/x-protobuf' \
		-H 'X-Prometheus-Remote-Write-Version: 0.1.0' --data-binary @"$file" "$@" "$url"
}
# get URL [CURL OPTION...]: status code of a GET (000: no answer)
get() {
	local url=$1
	shift
	curl -s -m 10 --cacert "$dir/cert.pem" -o "$dir/body" -D "$dir/headers" -w '%{http_code}' \
		"$@" "$url"
}
# challenge: the WWW-Authenticate headers of the last response, on one line
challenge() {
	tr -d '\r' <"$dir/headers" | awk 'tolower($1) == "www-authenticate:" { sub(/^[^:]*: */, ""); printf "%s%s", sep, $0; sep = " | " }'
}

# ---------------------------------------------------------------------------
# 1. front end 1: HTTPS and a bearer token

fe1="https://127.0.0.1:$fe1_port"
start fe1 "$dir/fe1.log" "$pha_http" --listen "127.0.0.1:$fe1_port" --db "$conninfo" \
	--tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" --bearer-token-file "$dir/token"
fe1_up() { [ "$(get "$fe1/healthz")" = 200 ]; }
if wait_until 20 fe1_up; then
	ok "front end 1 (HTTPS, bearer token): /healthz without a token is 200"
else
	fatal "front end 1 answers /healthz over HTTPS"
fi
check "front end 1 logs HTTPS and the bearer token at start" \
	grep -q "listening on 127.0.0.1:$fe1_port (HTTPS,.*authentication: bearer token)" "$dir/fe1.log"

rejected=0
check_eq "/write without a token: 401" 401 "$(post "$fe1/write" "$(payload 1)")"
rejected=$((rejected + 1))
check_eq "... with WWW-Authenticate: Bearer" 'Bearer realm="promscale_ha"' "$(challenge)"
check_eq "/write with a wrong token: 401" 401 "$(post "$fe1/write" "$(payload 1)" -H @"$dir/h_wrong_token")"
rejected=$((rejected + 1))
check_eq "... with WWW-Authenticate: Bearer, error=invalid_token" \
	'Bearer realm="promscale_ha", error="invalid_token"' "$(challenge)"
"$pha_gen" --series 50000 --start-ms "$now_ms" -o "$dir/big.bin" || failed "promscale-ha-gen makes a big payload"
big_codes=$(for _ in 1 2 3 4 5; do post "$fe1/write" "$dir/big.bin" -H 'Expect:'; echo; done | sort | uniq -c | awk '{ printf "%s%sx%s", sep, $1, $2; sep = " " }')
rejected=$((rejected + 5))
check_eq "5 bodies of $(($(stat -c %s "$dir/big.bin") / 1024)) KiB without a token, sent without waiting for 100 Continue: each gets its 401 over TLS, not a reset" "5x401" "$big_codes"
check_eq "/write with basic credentials (bearer only configured): 401" 401 \
	"$(post "$fe1/write" "$(payload 1)" -H @"$dir/h_alice")"
rejected=$((rejected + 1))
check_eq "/write with the right token: 204" 204 "$(post "$fe1/write" "$(payload 1)" -H @"$dir/h_token")"
check_eq "/api/v1/write with the right token: 204" 204 \
	"$(post "$fe1/api/v1/write" "$(payload 2)" -H @"$dir/h_token")"
check_eq "the right token stored the 6 samples" 6 \
	"$(sql "SELECT count(*) FROM promscale_ha.samples m JOIN promscale_ha.series s ON s.id = m.series_id WHERE s.labels @> '{\"test\": \"auth\"}'")"
# remote read goes through the same TLS and token as remote write
rr=$(dirname "${BASH_SOURCE[0]}")/../read_request.py
/usr/bin/python3 "$rr" build "$dir/read.req" $((now_ms - 700000)) "$now_ms" samples test=auth ||
	failed "read_request.py builds a remote-read request"
read_post() { # read_post URL [CURL OPTION...]: status code of a remote read over HTTPS
	local url=$1
	shift
	curl -s -m 10 --cacert "$dir/cert.pem" -o "$dir/read.body" -w '%{http_code}' \
		-H 'Content-Encoding: snappy' -H 'Content-Type: application/x-protobuf' \
		-H 'X-Prometheus-Remote-Read-Version: 0.1.0' --data-binary @"$dir/read.req" "$@" "$url"
}
check_eq "/read without a token: 401" 401 "$(read_post "$fe1/read")"
rejected=$((rejected + 1))
check_eq "/read with the right token over HTTPS: 200" 200 "$(read_post "$fe1/read" -H @"$dir/h_token")"
check_eq "... answering the 6 samples stored above" "total series 3 samples 6" \
	"$(/usr/bin/python3 "$rr" decode "$dir/read.body" samples 2>&1 | tail -n 1)"
check_eq "/metrics without a token: 401" 401 "$(get "$fe1/metrics")"
rejected=$((rejected + 1))
check_eq "/metrics with the token: 200" 200 "$(get "$fe1/metrics" -H @"$dir/h_token")"
n401=$(awk '/^promscale_ha_http_requests_total\{.*code="401"/ { s += $2 } END { printf "%d", s }' "$dir/body")
check_eq "/metrics counts the $rejected rejected requests (code=\"401\")" "$rejected" "$n401"

plain=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fe1_port/healthz")
plain_rc=$?
if [ "$plain_rc" -ne 0 ] && [ "$plain" = 000 ]; then
	ok "plain HTTP to the TLS port fails (curl exit $plain_rc, no HTTP answer)"
else
	failed "plain HTTP to the TLS port got HTTP $plain (curl exit $plain_rc)"
fi
plain=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H @"$dir/h_token" \
	-H 'Content-Encoding: snappy' -H 'Content-Type: application/x-protobuf' \
	--data-binary @"$(payload 3)" "http://127.0.0.1:$fe1_port/write")
check_eq "a plain HTTP write with the token to the TLS port gets no answer" 000 "$plain"
check_eq "... and the port still serves HTTPS" 200 "$(get "$fe1/healthz")"
check_eq "a client that does not trust the certificate is refused" 000 \
	"$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$fe1/healthz")"

check_eq "front end 1 logged one line per rejected request" "$rejected" \
	"$(grep -c '401 unauthorized' "$dir/fe1.log")"
check "... with the reason (wrong bearer token)" \
	grep -q 'POST /write from 127.0.0.1:[0-9]*: 401 unauthorized: wrong bearer token' "$dir/fe1.log"
check "... with the reason (no Authorization header)" \
	grep -q '401 unauthorized: no Authorization header' "$dir/fe1.log"
if grep -qF -e "$token" -e "$wrong_token" -e "$alice_pw" "$dir/fe1.log"; then
	failed "front end 1's log contains a secret"
else
	ok "front end 1's log contains neither token nor password"
fi

# ---------------------------------------------------------------------------
# 2. front end 2: plain HTTP, basic auth and the token, set by environment variables

fe2="http://127.0.0.1:$fe2_port"
start fe2 "$dir/fe2.log" env PHA_HTTP_LISTEN="127.0.0.1:$fe2_port" PHA_HTTP_DB="$conninfo" \
	PHA_HTTP_BASIC_AUTH_FILE="$dir/users" PHA_HTTP_BEARER_TOKEN_FILE="$dir/token" "$pha_http"
fe2_up() { [ "$(get "$fe2/healthz")" = 200 ]; }
if wait_until 20 fe2_up; then
	ok "front end 2 (plain HTTP, basic auth + token by PHA_HTTP_*): /healthz is 200"
else
	fatal "front end 2 answers /healthz"
fi
check "front end 2 read 2 users from its file" \
	grep -q 'authentication: bearer token or basic auth (2 users)' "$dir/fe2.log"

check_eq "basic auth, wrong password: 401" 401 "$(post "$fe2/write" "$(payload 4)" -H @"$dir/h_alice_wrong")"
check_eq "... with both challenges" 'Bearer realm="promscale_ha" | Basic realm="promscale_ha"' "$(challenge)"
check_eq "basic auth, unknown user: 401" 401 "$(post "$fe2/write" "$(payload 4)" -H @"$dir/h_unknown")"
check_eq "basic auth, malformed credentials: 401 (not 400)" 401 \
	"$(post "$fe2/write" "$(payload 4)" -H @"$dir/h_malformed")"
check_eq "an unsupported scheme (Digest): 401" 401 "$(post "$fe2/write" "$(payload 4)" -H @"$dir/h_digest")"
check_eq "no credentials: 401" 401 "$(post "$fe2/api/v1/write" "$(payload 4)")"
check_eq "basic auth, right password: 204" 204 "$(post "$fe2/write" "$(payload 4)" -H @"$dir/h_alice")"
check_eq "basic auth, user given as \$sha256\$ (60-byte password): 204" 204 \
	"$(post "$fe2/write" "$(payload 5)" -H @"$dir/h_bob")"
check_eq "curl -u (its own encoding) works too: 204" 204 \
	"$(post "$fe2/write" "$(payload 6)" --netrc-file /dev/null -u "alice:$alice_pw")"
check_eq "the bearer token is accepted as well: 204" 204 "$(post "$fe2/write" "$(payload 7)" -H @"$dir/h_token")"
check_eq "/healthz needs no credentials here either: 200" 200 "$(get "$fe2/healthz")"
check "the log names the user whose password was wrong" \
	grep -q '401 unauthorized: wrong password for user "alice"' "$dir/fe2.log"
check "the log says 'wrong user name or password' for an unknown user" \
	grep -q '401 unauthorized: wrong user name or password' "$dir/fe2.log"
check_eq "front end 2 logged one line per rejected request" 5 "$(grep -c '401 unauthorized' "$dir/fe2.log")"
if grep -qF -e "$token" -e "$alice_pw" -e "$bob_pw" -e "$bob_hash" -e "mallory" "$dir/fe2.log"; then
	failed "front end 2's log contains a secret or an unknown user name"
else
	ok "front end 2's log contains no password, hash or token"
fi

# ---------------------------------------------------------------------------
# 3. files that are too open, or wrong: the program refuses to start

# refuses DESCRIPTION PATTERN ARG...: exit 2, a message matching PATTERN, no secret in it
refuses() {
	local desc=$1 pattern=$2 rc
	shift 2
	timeout 10 "$pha_http" --listen "127.0.0.1:$spare_port" --db "$conninfo" "$@" >"$dir/refused.log" 2>&1
	rc=$?
	if [ "$rc" -ne 2 ]; then
		failed "$desc: exit $rc, expected 2 ($(head -c 300 "$dir/refused.log"))"
	elif ! grep -q -- "$pattern" "$dir/refused.log"; then
		failed "$desc: the message does not say \"$pattern\": $(head -c 300 "$dir/refused.log")"
	elif grep -qF -e "$token" -e "$alice_pw" -e "$bob_hash" "$dir/refused.log"; then
		failed "$desc: the message shows a secret"
	else
		ok "$desc: exit 2, \"$(head -n 1 "$dir/refused.log" | cut -c 1-150)\""
	fi
}
cp -p "$dir/token" "$dir/token.open"
chmod 644 "$dir/token.open"
refuses "a world-readable token file (644)" "permissions 0644 are too open" \
	--bearer-token-file "$dir/token.open"
chmod 640 "$dir/token.open"
refuses "a group-readable token file (640)" "permissions 0640 are too open" \
	--bearer-token-file "$dir/token.open"
PHA_HTTP_BEARER_TOKEN_FILE="$dir/token.open" refuses "the same file named by PHA_HTTP_BEARER_TOKEN_FILE" \
	"too open"
cp -p "$dir/users" "$dir/users.open"
chmod 604 "$dir/users.open"
refuses "a world-readable users file (604)" "permissions 0604 are too open" --basic-auth-file "$dir/users.open"
cp -p "$dir/key.pem" "$dir/key.open"
chmod 644 "$dir/key.open"
refuses "a world-readable TLS key (644)" "--tls-key .*too open" \
	--tls-cert "$dir/cert.pem" --tls-key "$dir/key.open"
refuses "--tls-cert without --tls-key" "go together" --tls-cert "$dir/cert.pem"
(umask 077 && : >"$dir/token.empty")
refuses "an empty token file" "the file is empty" --bearer-token-file "$dir/token.empty"
(umask 077 && printf 'carol %s\n' "$alice_pw" >"$dir/users.bad")
refuses "a users file with a line without a colon" "line 1: expected user:password" \
	--basic-auth-file "$dir/users.bad"
refuses "a missing token file" "cannot open" --bearer-token-file "$dir/no-such-file"
chown nobody "$dir/token.open" && chmod 600 "$dir/token.open"
refuses "a token file owned by another user" "owned by uid" --bearer-token-file "$dir/token.open"

# ---------------------------------------------------------------------------
# 4. a real Prometheus writes over HTTPS with the token and over HTTP with basic auth

cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1m
  external_labels:
    cluster: auth
    __replica__: p1
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:$prom_port']
  - job_name: front_end
    scheme: https
    authorization:
      credentials_file: $dir/token
    tls_config:
      ca_file: $dir/cert.pem
    static_configs:
      - targets: ['127.0.0.1:$fe1_port']
remote_write:
  - name: fe1_bearer_tls
    url: https://127.0.0.1:$fe1_port/api/v1/write
    remote_timeout: 5s
    authorization:
      type: Bearer
      credentials_file: $dir/token
    tls_config:
      ca_file: $dir/cert.pem
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
  - name: fe2_basic
    url: http://127.0.0.1:$fe2_port/write
    remote_timeout: 5s
    basic_auth:
      username: alice
      password_file: $dir/alice.pw
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
EOF
if command -v promtool >/dev/null; then
	if promtool check config "$dir/prometheus.yml" >"$dir/promtool.log" 2>&1; then
		ok "promtool accepts the configuration (authorization, basic_auth, tls_config)"
	else
		failed "promtool check config: $(tail -n 3 "$dir/promtool.log")"
	fi
fi
start prometheus "$dir/prometheus.log" prometheus --config.file="$dir/prometheus.yml" \
	--storage.tsdb.path="$dir/prom" --web.listen-address="127.0.0.1:$prom_port" \
	--storage.remote.flush-deadline=2s --log.level=warn
prom_ready() { [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$prom_port/-/ready")" = 200 ]; }
wait_until 60 prom_ready || fatal "Prometheus is ready"
ok "Prometheus is ready"

# prom_metric NAME REMOTE_NAME: sum of a remote-storage counter of one queue, or
# "absent" when Prometheus shows no such series
prom_metric() {
	curl -s -m 5 "http://127.0.0.1:$prom_port/metrics" |
		awk -v m="$1" -v q="remote_name=\"$2\"" '
			index($1, m "{") == 1 && index($1, q) > 0 { s += $2; n++ }
			END { if (n) printf "%d", s; else printf "absent" }'
}
fe1_samples() {
	[ "$(sql "SELECT count(*) > 0 FROM promscale_ha.samples m JOIN promscale_ha.series s ON s.id = m.series_id
	          WHERE s.labels @> '{\"cluster\": \"auth\", \"job\": \"front_end\"}'
	            AND s.metric_name = 'promscale_ha_http_requests_total'")" = t ]
}
if wait_until 60 fe1_samples; then
	ok "Prometheus' samples are stored, with front end 1's metrics scraped over HTTPS with the token"
else
	failed "no sample of job front_end stored within 60 s"
fi
check_eq "the HA lease of cluster auth names Prometheus' replica p1" p1 \
	"$(sql "SELECT leader FROM promscale_ha.leaders WHERE cluster = 'auth'")"
sent() {
	local v
	v=$(prom_metric prometheus_remote_storage_samples_total "$1")
	[ "$v" != absent ] && [ "$v" -gt 0 ]
}
for q in fe1_bearer_tls fe2_basic; do
	if wait_until 30 sent "$q"; then
		ok "Prometheus sent samples through $q"
	else
		failed "Prometheus sent no samples through $q within 30 s"
	fi
	check_eq "... none of them failed (no 401)" 0 "$(prom_metric prometheus_remote_storage_samples_failed_total "$q")"
done
check_eq "no 401 for Prometheus from front end 1 (only the $rejected of part 1)" "$rejected" \
	"$(grep -c '401 unauthorized' "$dir/fe1.log")"
check_eq "... nor from front end 2 (only the 5 of part 2)" 5 "$(grep -c '401 unauthorized' "$dir/fe2.log")"

stop prometheus
stop fe1
stop fe2
check "front end 1 stopped cleanly on SIGTERM" grep -q 'info: stopped' "$dir/fe1.log"
exit 0
