#!/usr/bin/env bash
# Runs every go-fuzz target of the module for a bounded time each.
#
#   scripts/fuzz.sh                 # 20s per target (CI)
#   FUZZTIME=10m scripts/fuzz.sh    # a longer local run
#   FUZZTIME=2m scripts/fuzz.sh FuzzJWT FuzzHandler   # only some targets
#
# A crash is written by go test to <package>/testdata/fuzz/<Target>/ and
# replayed by every later plain `go test`: commit it with the fix, so it
# stays a regression test. The exec counts are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-20s}"
# Minimising each new interesting input (default 60s) would eat a short
# run: large webhook bodies are slow to minimise.
FUZZMINIMIZETIME="${FUZZMINIMIZETIME:-100x}"
# target package
targets=(
	"FuzzHandler ./receiver"
	"FuzzJWT ./auth"
	"FuzzDecode ./watson"
	"FuzzDecodeFast ./watson"
	"FuzzValidJSON ./watson"
	"FuzzDecodeAndMap ./mapping"
	"FuzzRedact ./redact"
	"FuzzEncode ./exporter/internal/otlpwire"
)
only=("$@")
logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT
summary=()
status=0
for t in "${targets[@]}"; do
	read -r name pkg <<<"$t"
	if ((${#only[@]})) && [[ ! " ${only[*]} " == *" $name "* ]]; then
		continue
	fi
	echo "== $name ($pkg) for $FUZZTIME"
	log="$logdir/$name.log"
	if go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" 2>&1 | tee "$log"; then
		result=ok
	else
		result=FAILED
		status=1
	fi
	execs="$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)"
	summary+=("$(printf '%-18s %-10s %-7s execs %s' "$name" "$pkg" "$result" "${execs:-?}")")
done
echo
echo "== fuzz summary (FUZZTIME=$FUZZTIME)"
printf '%s\n' "${summary[@]}"
exit "$status"
