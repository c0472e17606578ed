# check_lib.sh: TAP-like checks for the integration scripts (sourced, not run).
#   check DESCRIPTION COMMAND...   runs COMMAND: "ok - ..." or "not ok - ..."
#   eq GOT WANT                    equal, else prints both (for check)
#   contains TEXT PART             TEXT holds PART, else prints them (for check)
#   checks_done                    prints "# N checks, M failed"; its status is 0 iff none failed
fails=0
n=0
ok() { n=$((n + 1)); echo "ok - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
eq() { [ "$1" = "$2" ] || { echo "    expected: $2"; echo "    got:      $1"; return 1; }; }
contains() { [[ "$1" == *"$2"* ]] || { echo "    expected to contain: $2"; echo "    got: ${1:0:600}"; return 1; }; }
checks_done() { echo "# $n checks, $fails failed"; [ "$fails" -eq 0 ]; }
