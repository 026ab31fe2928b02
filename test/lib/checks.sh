# checks.sh - the ok/FAILED bookkeeping shared by the system test scripts
# (test/e2e/run.sh, test/soak/lib.sh, test/system/http_auth_tls.sh).  Source it; it
# keeps two counters:
# checks (every check) and failures.

checks=0
failures=0

ok() {
	checks=$((checks + 1))
	echo "ok: $*"
}
failed() {
	checks=$((checks + 1))
	failures=$((failures + 1))
	echo "FAILED: $*"
}
# check DESCRIPTION COMMAND...: ok or FAILED by the command's status
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else failed "$desc"; fi
}
# fatal MESSAGE: a failed step after which the rest makes no sense
fatal() {
	failed "$*"
	exit 1
}
# check_eq DESCRIPTION EXPECTED ACTUAL: ok when the two strings are equal
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else failed "$1 (expected '$2', got '$3')"; fi
}
