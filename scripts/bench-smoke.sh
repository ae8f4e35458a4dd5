#!/usr/bin/env bash
# The benchmarks' smoke run (part of the test command), so that they never rot: every Go benchmark once,
# then scripts/bench.sh for a few seconds per step (the Collector's own ingest, the service without and with
# a spool), and checks that every step produced a row with events exported and acknowledged and no errors.
# The figures of so short a run mean nothing; docs/performance.md has the real ones.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

BENCH_COUNT=1 BENCH_TIME=1x BENCH_OUT="$out/go.txt" bash scripts/bench-go.sh >"$out/go.table"
for b in BenchmarkDecode BenchmarkMap BenchmarkJWTVerify BenchmarkHandler BenchmarkFloor/all BenchmarkMapExport BenchmarkPipeline; do
	if ! grep -q "^$b" "$out/go.table"; then
		cat "$out/go.table" >&2
		echo "bench-smoke: $b produced no result" >&2
		exit 1
	fi
done
echo "bench-smoke: Go benchmarks ran ($(grep -c '^Benchmark' "$out/go.table") results)"

BENCH_DURATION=${BENCH_SMOKE_DURATION:-3} BENCH_WARMUP=1 BENCH_SWEEP=8 BENCH_PHASES="collector off on" \
	BENCH_OUT="$out/load.txt" bash scripts/bench.sh >"$out/load.log" 2>&1 || { tail -n 40 "$out/load.log" >&2; exit 1; }
# Every step row: a positive e2e/s (column 5) and 0 errors (column 9).
want="collector-max-c8 collector-half spool-off-max-c8 spool-off-half spool-on-max-c8 spool-on-half"
for step in $want; do
	row=$(awk -v s="$step" '$1 == s' "$out/load.txt")
	if [[ -z $row ]] || ! awk '{ exit !($5 > 0 && $9 == 0) }' <<<"$row"; then
		cat "$out/load.txt" >&2
		echo "bench-smoke: step $step has no row, no exported events or errors: ${row:-none}" >&2
		exit 1
	fi
done
cat "$out/load.txt"
echo "bench-smoke: load steps ran ($want)"
