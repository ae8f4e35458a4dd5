#!/usr/bin/env bash
# Go micro- and end-to-end benchmarks (not part of CI) in one command, and a table with each result's ratio
# to the floor benchmark (decode the body into a generic value + verify one HMAC-SHA256).
#
#   scripts/bench-go.sh                      # -count 3, median of the three
#   BENCH_COUNT=5 scripts/bench-go.sh
#   BENCH_COUNT=1 BENCH_TIME=1x scripts/bench-go.sh   # each benchmark once (the CI smoke run)
#   BENCH_BASE=/tmp/base scripts/bench-go.sh # also run the same benchmark files in an older checkout
#                                            # (e.g. git archive HEAD | tar -x -C /tmp/base) for before/after
#
# The command it runs is
#   go test -run '^$' -bench . -benchmem -count N ./watson ./mapping ./receiver ./internal/bench
# Raw output goes to $BENCH_OUT (default /tmp/assistant-otel-bench-go.txt); benchstat reads it too.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${BENCH_COUNT:-3}
BENCHTIME=${BENCH_TIME:-1s}
OUT=${BENCH_OUT:-/tmp/assistant-otel-bench-go.txt}
PKGS=(./watson ./mapping ./receiver ./internal/bench)

run() { (cd "$1" && go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" -count "$COUNT" "${PKGS[@]}"); }

table() {
	# median per benchmark of ns/op, cpu-ns/op, B/op, allocs/op; ratio = cpu-ns/op (else ns/op) / Floor/all cpu-ns/op
	awk '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i++) {
			if ($(i+1) == "ns/op") ns[name] = ns[name] " " $i
			if ($(i+1) == "cpu-ns/op") cpu[name] = cpu[name] " " $i
			if ($(i+1) == "B/op") by[name] = by[name] " " $i
			if ($(i+1) == "allocs/op") al[name] = al[name] " " $i
		}
		if (!(name in seen)) { seen[name] = 1; order[++n] = name }
	}
	function med(s,   a, k, i, j, t) { k = split(s, a, " "); if (k == 0) return ""; for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((k + 1) / 2)] }
	END {
		f = med(cpu["BenchmarkFloor/all"]); if (f == "") f = med(ns["BenchmarkFloor/all"])
		printf "%-62s %10s %10s %9s %9s %8s\n", "benchmark", "ns/op", "cpu-ns/op", "B/op", "allocs/op", "x_floor"
		for (i = 1; i <= n; i++) {
			k = order[i]; c = med(cpu[k]); v = (c != "") ? c : med(ns[k])
			printf "%-62s %10.0f %10s %9.0f %9.0f %8.2f\n", k, med(ns[k]), (c != "") ? sprintf("%.0f", c) : "-", med(by[k]), med(al[k]), (f > 0 ? v / f : 0)
		}
		print "x_floor: cpu-ns/op (or ns/op where the work is on one goroutine) divided by BenchmarkFloor/all cpu-ns/op."
	}'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)"
if [[ -n ${BENCH_BASE:-} ]]; then
	# The benchmark files are new: copy them into the old checkout.
	for f in watson/bench_test.go mapping/bench_test.go receiver/bench_test.go; do cp "$f" "$BENCH_BASE/$f"; done
	mkdir -p "$BENCH_BASE/internal"
	cp -r internal/bench internal/benchdata "$BENCH_BASE/internal/"
	run "$BENCH_BASE" >"$OUT.base"
	echo "== before ($BENCH_BASE)"
	table <"$OUT.base"
fi
run . >"$OUT"
echo "== now"
table <"$OUT"
