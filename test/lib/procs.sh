# shellcheck shell=bash
# procs.sh - the background processes of a system test, by name, and waiting for
# conditions.  Source it (bash) after setting start_time=$EPOCHREALTIME if the
# script wants note's clock to start earlier than the sourcing.  Provides:
#   pids            name -> pid of every process start() launched
#   elapsed         seconds since start_time, one decimal
#   note TEXT...    a progress line with the elapsed time
#   fle A B         is A <= B (decimal numbers)?
#   wait_until SECONDS COMMAND...
#                   poll COMMAND every 0.25 s until it succeeds; false when it did
#                   not within SECONDS
#   start NAME LOGFILE COMMAND...
#                   COMMAND in the background, stdout and stderr to LOGFILE
#   stop NAME [SECONDS]
#                   SIGTERM, then SIGKILL after SECONDS (default 10), said on
#                   stdout; by pid only, never by name; no-op if not running
#   port_free PORT  nothing listens on 127.0.0.1:PORT
#   as_pg COMMAND...  COMMAND as the postgres user
# Everything is bounded: no wait without a deadline.  Servers that listen on TCP use
# ports below 32768, outside Linux's ephemeral range (32768-60999): an outgoing
# connection elsewhere on the machine cannot hold one when a test binds it.

declare -A pids=()
: "${start_time:=$EPOCHREALTIME}"

elapsed() { awk -v a="$start_time" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
note() { printf '   [%6.1fs] %s\n' "$(elapsed)" "$*"; }
fle() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

wait_until() {
	local limit=$1 deadline
	shift
	deadline=$(awk -v a="$EPOCHREALTIME" -v t="$limit" 'BEGIN { printf "%.3f", a + t }')
	while :; do
		"$@" && return 0
		fle "$deadline" "$EPOCHREALTIME" && return 1
		sleep 0.25
	done
}

start() {
	local name=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	pids[$name]=$!
}

stop() {
	local name=$1 limit=${2:-10} pid=${pids[$1]:-} i
	[ -n "$pid" ] || return 0
	unset "pids[$name]"
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < limit * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "   note: $name (pid $pid) ignored SIGTERM for $limit s, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	return 0
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_pg() { runuser -u postgres -- "$@"; }
