#!/bin/bash
#
# http_read.sh - Prometheus remote read through promscale-ha-http: POST /read and
# /api/v1/read answered by promscale_ha.read().
#
# Starts its own PostgreSQL 15 (test/lib/pgserver.sh: temp directory, Unix socket only)
# and two front ends on 127.0.0.1:
#   - front end 1 (:PORT): --bearer-token-file, --max-read-body 4KiB, logs in as a role
#     with promscale_ha_writer and promscale_ha_reader;
#   - front end 2 (:PORT+1): no authentication, a role with promscale_ha_writer only;
#   - front end 3 (:PORT+2): no authentication, a reader role with 256-byte frames.
# Writes 20 series x 30 samples (1 s apart, 10 minutes ago) with promscale-ha-gen through
# POST /write, then reads them back (requests built by test/read_request.py, by hand):
#   1. SAMPLES: 200, Content-Type application/x-protobuf, Content-Encoding snappy; the
#      decoded series and samples match promscale_ha.samples (count and sum); the same on
#      /api/v1/read; a regex matcher selects what SQL selects; a time range selects only
#      the samples inside it;
#   2. STREAMED_XOR_CHUNKS: 200, Content-Type application/x-streamed-protobuf;
#      proto=prometheus.ChunkedReadResponse, no Content-Encoding; the frames' CRC32C
#      hold and their XOR chunks decode to the same series and samples as SAMPLES; one
#      frame goes whole (Content-Length), several (front end 3: a reader role whose
#      promscale_ha.read_frame_bytes is 256) stream with Transfer-Encoding chunked;
#   3. errors: 401 without the token, 400 for a body that is no ReadRequest, 413 over
#      --max-read-body, 405 for GET, 500 (configuration) for a role without
#      promscale_ha_reader, 503 + Retry-After with the database stopped;
#   4. /metrics shows the reads (read_requests_total, bytes, frames, duration);
#   5. large SAMPLES answers do not fault the front end's memory in again each time
#      (--malloc-mmap-threshold; a fourth front end with 0 shows glibc's own rule).
# Prints ok:/FAILED: lines and "http_read: N checks, M failed"; exit 1 on a failure.
# Needs: root, postgresql-15, curl, python3-snappy, promscale_ha installed (make install).
# Ports: PHA_READ_PG_PORT (PostgreSQL, default 55496), PHA_READ_PORT (front ends, 19821 and up).

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/checks.sh
. "$here/../lib/checks.sh"
# shellcheck source=../lib/pgserver.sh
. "$here/../lib/pgserver.sh"

http_port=${PHA_READ_PORT:-19821}
py=/usr/bin/python3
rr=$here/../read_request.py

command -v curl >/dev/null || DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq curl >/dev/null
pg_server_start "${PHA_READ_PG_PORT:-55496}" || fatal "PostgreSQL starts with promscale_ha"
q "CREATE ROLE pha_rw LOGIN; GRANT promscale_ha_writer, promscale_ha_reader TO pha_rw;
   CREATE ROLE pha_w LOGIN; GRANT promscale_ha_writer TO pha_w;
   CREATE ROLE pha_rf LOGIN; GRANT promscale_ha_reader TO pha_rf;
   ALTER ROLE pha_rf SET promscale_ha.read_frame_bytes = 256" || fatal "roles"
if [ "$(q "SELECT count(*) FROM pg_proc WHERE proname = 'read' AND pronamespace = 'promscale_ha'::regnamespace")" = 0 ]; then
	fatal "promscale_ha.read() exists (extension too old? make install)"
fi

umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/token"
printf 'Authorization: Bearer %s\n' "$(cat "$dir/token")" >"$dir/h_token"
umask 022

fe1=http://127.0.0.1:$http_port
fe2=http://127.0.0.1:$((http_port + 1))
fe3=http://127.0.0.1:$((http_port + 2))
"$pgbin/promscale-ha-http" --listen "127.0.0.1:$http_port" --max-read-body 4KiB \
	--bearer-token-file "$dir/token" \
	--db "host=$dir port=$port dbname=postgres user=pha_rw" >"$dir/fe1.log" 2>&1 &
bg_pids+=($!)
fe1_pid=$!
"$pgbin/promscale-ha-http" --listen "127.0.0.1:$((http_port + 1))" \
	--db "host=$dir port=$port dbname=postgres user=pha_w" >"$dir/fe2.log" 2>&1 &
bg_pids+=($!)
"$pgbin/promscale-ha-http" --listen "127.0.0.1:$((http_port + 2))" \
	--db "host=$dir port=$port dbname=postgres user=pha_rf" >"$dir/fe3.log" 2>&1 &
bg_pids+=($!)
for _ in $(seq 1 50); do
	curl -s -o /dev/null "$fe1/healthz" && curl -s -o /dev/null "$fe2/healthz" &&
		curl -s -o /dev/null "$fe3/healthz" && break
	sleep 0.1
done

# read URL FILE [CURL OPTION...]: the status code; body in $dir/body, headers in $dir/headers
read_req() {
	local url=$1 file=$2
	shift 2
	curl -s -m 20 -o "$dir/body" -D "$dir/headers" -w '%{http_code}' -X POST \
		-H 'Content-Encoding: snappy' -H 'Content-Type: application/x-protobuf' \
		-H 'X-Prometheus-Remote-Read-Version: 0.1.0' --data-binary @"$file" "$@" "$url"
}
header() { tr -d '\r' <"$dir/headers" | awk -v h="$1" 'tolower($1) == tolower(h) ":" { sub(/^[^:]*: */, ""); print }'; }
# decode KIND: "total series N samples M ..." of the last body
decode() { "$py" "$rr" decode "$dir/body" "$1" | tail -n 1; }
build() { "$py" "$rr" build "$@"; }

# --- data: 20 series x 30 samples, 1 s apart, starting 10 minutes ago
t0=$((($(date +%s) - 600) * 1000))
t1=$((t0 + 29000))
"$gen" --series 20 --samples 30 --step-ms 1000 --start-ms "$t0" --label test=read \
	-o "$dir/data.bin" || fatal "promscale-ha-gen"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Encoding: snappy' \
	-H 'Content-Type: application/x-protobuf' -H @"$dir/h_token" --data-binary @"$dir/data.bin" "$fe1/write")
check_eq "POST /write stores the data" 204 "$code"
metric=$(q "SELECT metric_name FROM promscale_ha.series WHERE labels->>'test' = 'read' LIMIT 1")
# sql_total WHERE: "total series N samples M" as SQL sees the test's samples
sql_total() {
	q "SELECT 'total series ' || count(DISTINCT s.series_id) || ' samples ' || count(*)
	   FROM promscale_ha.samples s JOIN promscale_ha.series r ON r.id = s.series_id
	   WHERE r.labels->>'test' = 'read' AND $1"
}
sql_sum() {
	q "SELECT sum(s.value) FROM promscale_ha.samples s
	   JOIN promscale_ha.series r ON r.id = s.series_id WHERE r.labels->>'test' = 'read'"
}
all="s.time BETWEEN to_timestamp($t0 / 1000.0) AND to_timestamp($t1 / 1000.0)"
check_eq "SQL sees the 20 series x 30 samples" "total series 20 samples 600" "$(sql_total "$all")"

# --- 1. SAMPLES
build "$dir/samples.req" "$t0" "$t1" samples "__name__=$metric" "test=read"
check_eq "POST /read (SAMPLES): 200" 200 "$(read_req "$fe1/read" "$dir/samples.req" -H @"$dir/h_token")"
check_eq "... Content-Type application/x-protobuf" "application/x-protobuf" "$(header Content-Type)"
check_eq "... Content-Encoding snappy" snappy "$(header Content-Encoding)"
check_eq "... the series and samples SQL holds" "$(sql_total "$all")" "$(decode samples)"
sum=$("$py" "$rr" decode "$dir/body" samples | awk -F'\t' 'NF == 5 { s += $5 } END { printf "%.17g", s }')
sqlsum=$(sql_sum)
check "... with the values SQL holds (sum $sum, SQL $sqlsum)" \
	awk -v a="$sum" -v b="$sqlsum" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b != 0 && d <= 1e-9 * (b < 0 ? -b : b)) }'
cp "$dir/body" "$dir/samples.body"
check_eq "POST /api/v1/read: 200" 200 "$(read_req "$fe1/api/v1/read" "$dir/samples.req" -H @"$dir/h_token")"
check "... the same body as /read" cmp -s "$dir/body" "$dir/samples.body"
build "$dir/regex.req" "$t0" "$t1" samples "__name__=$metric" "test=~re.d" "env!~dev|qa"
read_req "$fe1/read" "$dir/regex.req" -H @"$dir/h_token" >/dev/null
check_eq "a regex matcher (=~, !~) selects what SQL selects" \
	"$(sql_total "$all AND r.labels->>'env' NOT IN ('dev', 'qa')")" "$(decode samples)"
build "$dir/range.req" "$((t0 + 10000))" "$((t0 + 19000))" samples "__name__=$metric" "test=read"
read_req "$fe1/read" "$dir/range.req" -H @"$dir/h_token" >/dev/null
check_eq "a time range selects only the samples inside it (10 per series)" \
	"total series 20 samples 200" "$(decode samples)"

# --- 2. STREAMED_XOR_CHUNKS
build "$dir/chunks.req" "$t0" "$t1" chunks "__name__=$metric" "test=read"
check_eq "POST /read (STREAMED_XOR_CHUNKS): 200" 200 "$(read_req "$fe1/read" "$dir/chunks.req" -H @"$dir/h_token")"
check_eq "... Content-Type application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse" \
	"application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse" "$(header Content-Type)"
check_eq "... and no Content-Encoding" "" "$(header Content-Encoding)"
streamed=$(decode chunks)
check_eq "... frames with good CRC32C whose XOR chunks hold the same series and samples" \
	"$(sql_total "$all")" "${streamed% frames *}"
# one frame (64 kB frames by default), whose result had ended when it came: sent whole
check_eq "... one frame" "frames 1" "frames ${streamed##* frames }"
check_eq "... sent whole: Content-Length is the body's size, no chunked encoding" \
	"$(stat -c %s "$dir/body") -" "$(header Content-Length) $(header Transfer-Encoding)-"
cp "$dir/body" "$dir/chunks.body"
# the same through a role whose frames are at most 256 bytes: several frames, streamed
check_eq "frames of 256 bytes (promscale_ha.read_frame_bytes of the role): 200" 200 \
	"$(read_req "$fe3/read" "$dir/chunks.req")"
check_eq "... streamed with Transfer-Encoding: chunked, no Content-Length" "chunked -" \
	"$(header Transfer-Encoding) $(header Content-Length)-"
many=$(decode chunks)
check "... in several frames (${many##* frames })" test "${many##* frames }" -gt 1
check_eq "... holding the same series and samples" "$(sql_total "$all")" "${many% frames *}"
cp "$dir/chunks.body" "$dir/body"
"$py" "$rr" decode "$dir/body" chunks | sort >"$dir/chunks.txt"
"$py" "$rr" decode "$dir/samples.body" samples | sort >"$dir/samples.txt"
check "... series by series the same as SAMPLES (count, first, last, sum)" \
	cmp -s <(grep -v '^total' "$dir/chunks.txt") <(grep -v '^total' "$dir/samples.txt")
# rows FILE KIND: the body as read_decoder.py's input, one "KIND HEX" line per row of
# promscale_ha.read() (per frame for chunks)
rows() {
	"$py" - "$1" "$2" <<'PY'
import sys
raw, kind = open(sys.argv[1], "rb").read(), sys.argv[2]
if kind == "samples":
    print("samples", raw.hex())
i = 0
while kind == "chunks" and i < len(raw):
    n = shift = 0
    j = i
    while True:
        b = raw[j]; j += 1
        n |= (b & 0x7F) << shift; shift += 7
        if not b & 0x80:
            break
    print("chunks", raw[i:j + 4 + n].hex())
    i = j + 4 + n
PY
}
if [ -f "$here/../read_decoder.py" ]; then
	rows "$dir/body" chunks >"$dir/chunks.rows"
	rows "$dir/samples.body" samples >"$dir/samples.rows"
	# its first line names the response type; the series part that follows is comparable
	"$py" "$here/../read_decoder.py" decode "$dir/chunks.rows" --summary >"$dir/chunks.sum" 2>&1
	"$py" "$here/../read_decoder.py" decode "$dir/samples.rows" --summary >"$dir/samples.sum" 2>&1
	check "test/read_decoder.py: the frames pass its checks and hold what SAMPLES holds" \
		eval '[ -s "$dir/chunks.sum" ] && ! grep -q ERROR "$dir/chunks.sum" &&
			cmp -s <(tail -n +2 "$dir/chunks.sum") <(tail -n +2 "$dir/samples.sum")'
fi
check_eq "/api/v1/read streams too" 200 "$(read_req "$fe1/api/v1/read" "$dir/chunks.req" -H @"$dir/h_token")"

# --- 3. errors
check_eq "no token: 401" 401 "$(read_req "$fe1/read" "$dir/samples.req")"
printf 'this is not snappy' >"$dir/garbage.req"
check_eq "a body that is no ReadRequest: 400" 400 "$(read_req "$fe1/read" "$dir/garbage.req" -H @"$dir/h_token")"
head -c 5000 /dev/urandom >"$dir/big.req"
check_eq "a body over --max-read-body (4 KiB): 413" 413 "$(read_req "$fe1/read" "$dir/big.req" -H @"$dir/h_token")"
check_eq "GET /read: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -H @"$dir/h_token" "$fe1/read")"
check_eq "a role without promscale_ha_reader: 500 (configuration error)" 500 \
	"$(read_req "$fe2/read" "$dir/samples.req")"
check "... logged as a configuration error naming the grant" \
	grep -q "configuration error.*GRANT promscale_ha_reader" "$dir/fe2.log"

# --- 4. metrics
curl -s -H @"$dir/h_token" "$fe1/metrics" >"$dir/metrics"
check "/metrics: promscale_ha_http_read_requests_total{code=\"200\"} counts the reads" \
	grep -q '^promscale_ha_http_read_requests_total{code="200"} [1-9]' "$dir/metrics"
check "... read bytes in and out" eval 'grep -q "^promscale_ha_http_read_request_body_bytes_total [1-9]" "$dir/metrics" &&
	grep -q "^promscale_ha_http_read_response_bytes_total [1-9]" "$dir/metrics"'
check "... streamed frames" grep -q '^promscale_ha_http_read_frames_total [1-9]' "$dir/metrics"
check "... the duration histogram of handler=read" \
	grep -q '^promscale_ha_http_request_duration_seconds_count{handler="read"} [1-9]' "$dir/metrics"

# --- 5. large SAMPLES answers reuse the front end's memory: with glibc's own rule each
# worker thread's heap was trimmed after such an answer and the next one faulted its
# pages in again (--malloc-mmap-threshold). Two fresh front ends, the same history:
# fe5 with the default (32MiB), fe4 with 0 (glibc's rule), for contrast
fe4=http://127.0.0.1:$((http_port + 3))
fe5=http://127.0.0.1:$((http_port + 4))
"$pgbin/promscale-ha-http" --listen "127.0.0.1:$((http_port + 3))" --malloc-mmap-threshold 0 \
	--db "host=$dir port=$port dbname=postgres user=pha_rw" >"$dir/fe4.log" 2>&1 &
bg_pids+=($!)
fe4_pid=$!
"$pgbin/promscale-ha-http" --listen "127.0.0.1:$((http_port + 4))" \
	--db "host=$dir port=$port dbname=postgres user=pha_rw" >"$dir/fe5.log" 2>&1 &
bg_pids+=($!)
fe5_pid=$!
check_eq "--malloc-mmap-threshold over 32MiB is refused (exit 2)" 2 \
	"$(timeout 10 "$pgbin/promscale-ha-http" --malloc-mmap-threshold 64MiB >/dev/null 2>&1; echo $?)"
tb0=$((t0 + 60000))
"$gen" --series 200 --samples 500 --step-ms 20 --start-ms "$tb0" --label test=big --values gauge \
	-o "$dir/big.bin" || fatal "promscale-ha-gen (big)"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Encoding: snappy' \
	-H 'Content-Type: application/x-protobuf' -H @"$dir/h_token" --data-binary @"$dir/big.bin" "$fe1/write")
check_eq "POST /write stores 200 series x 500 samples" 204 "$code"
build "$dir/big.req" "$tb0" "$((tb0 + 10000))" samples "test=big"
for _ in $(seq 1 50); do
	curl -s -o /dev/null "$fe4/healthz" && curl -s -o /dev/null "$fe5/healthz" && break
	sleep 0.1
done
# faults PORT PID: "status bytes faults" -- two warm-ups (the thread's heap grows), then
# the page faults of 5 reads on the same kept-alive connection (a thread's heap is its own)
faults() {
	"$py" - "$1" "$2" "$dir/big.req" "$(cat "$dir/token")" <<'PY'
import http.client, sys
port, pid, req, token = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read(), sys.argv[4]
def minflt():
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
hdr = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
       "X-Prometheus-Remote-Read-Version": "0.1.0", "Authorization": "Bearer " + token}
for i in range(7):
    if i == 2:
        f0 = minflt()
    c.request("POST", "/read", req, hdr)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        break
print(r.status, len(body), minflt() - f0)
PY
}
read -r st1 len1 f1 <<<"$(faults "$((http_port + 4))" "$fe5_pid")"
read -r st4 len4 f4 <<<"$(faults "$((http_port + 3))" "$fe4_pid")"
check_eq "a SAMPLES answer of 100,000 samples: 200" 200 "$st1"
check "... of ${len1} bytes (over 512 KiB)" test "${len1:-0}" -gt 524288
check "... 5 more on one connection fault in fewer pages than one answer holds: $f1 (with glibc's own rule: $f4)" \
	test "${f1:-999999}" -lt $((len1 / 4096))

# --- the database stopped
as_pg "$pgbin/pg_ctl" -D "$dir/data" stop -m fast -w -t 60 >/dev/null
check_eq "database down: POST /read is 503" 503 "$(read_req "$fe1/read" "$dir/samples.req" -H @"$dir/h_token")"
check "... with a Retry-After header" test -n "$(header Retry-After)"
check "the front end is still running" kill -0 "$fe1_pid"

echo "http_read: $checks checks, $failures failed"
[ "$failures" -eq 0 ] || { echo "--- front end 1 log ---"; tail -n 20 "$dir/fe1.log"; }
exit $((failures > 0))
