#!/usr/bin/env bash
# Load benchmark (not part of CI), side by side in ONE run on this machine:
#
#   1. the real Collector (scripts/tools.sh builds it; or $ASSISTANT_OTEL_OTELCOL) with a bench config:
#      OTLP gRPC + HTTP in -> batch -> debug exporter (verbosity basic: one line per batch);
#   2. its own OTLP/HTTP receiver driven with the corpus bodies, each wrapped as the string body of one
#      OTLP/JSON log record ("just post the JSON to the Collector"), at the highest rate, then at half of it;
#   3. `assistant-otel serve` exporting to that Collector over OTLP/gRPC, without a spool (in-memory queue)
#      and then with a durable spool (--spool-dir), each driven with signed webhook calls at the highest rate
#      (a concurrency sweep) and then at half of the peak.
#
# The load tool is cmd/loadgen: fresh log_id per event, a freshly signed JWT per call (as Watson does),
# bodies compacted. It runs on the same 2 cores as the service and the Collector: every figure below is
# shared with it (its own CPU is printed too). Compare only figures of one run.
#
#   scripts/bench.sh                                  # defaults: 20 s per step after a 5 s warm-up
#   BENCH_DURATION=30 BENCH_SWEEP="8 32 64" scripts/bench.sh
#   BENCH_PHASES="collector off" scripts/bench.sh     # only some phases: collector, off, on
#   BENCH_BASELINE_BIN=/tmp/base/assistant-otel BENCH_PHASES="collector base-off off base-on on" scripts/bench.sh
#                                                     # also an older build (before/after in one run)
#   BENCH_SVC_GOMAXPROCS=1 BENCH_SVC_ARGS="--pump-workers 1" BENCH_PHASES=off scripts/bench.sh
#                                                     # the service on one core / with other serve flags
#   BENCH_PPROF=1 scripts/bench.sh                    # also take CPU and alloc profiles of the service at
#                                                     # peak (needs a build with --pprof-listen; see docs)
#
# Output: the loadgen lines, then a table (also in $BENCH_OUT, default /tmp/assistant-otel-bench.txt):
# events/s, ack latency p50/p90/p99, errors (refused + failed), CPU seconds per 1,000 events of the
# service and of the Collector (utime+stime deltas of /proc/PID/stat over the measured part), the
# service's peak RSS (VmHWM over the measured part) and the ratio of each throughput to the Collector's
# own peak. Everything listens on 127.0.0.1; every process is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-20}
WARMUP=${BENCH_WARMUP:-5}
SWEEP=${BENCH_SWEEP:-"8 32"}
PHASES=${BENCH_PHASES:-"collector off on"}
OUT=${BENCH_OUT:-/tmp/assistant-otel-bench.txt}
((DURATION > 0 && DURATION <= 600)) || { echo "BENCH_DURATION must be in 1..600" >&2; exit 2; }

echo "building assistant-otel and loadgen"
source scripts/lib/harness.sh
wait_http() { for _ in $(seq 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "bench: $1 did not come up" >&2; return 1; }


GRPC_PORT=$(free_port)
HTTP_PORT=$(free_port)
HEALTH_PORT=$(free_port)
METRICS_PORT=$(free_port)
cat >"$WORK/otelcol.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$GRPC_PORT
      http:
        endpoint: 127.0.0.1:$HTTP_PORT
processors:
  batch:
    timeout: 200ms
exporters:
  debug:
    verbosity: basic
extensions:
  health_check:
    endpoint: 127.0.0.1:$HEALTH_PORT
service:
  extensions: [health_check]
  telemetry:
    logs:
      level: warn
    metrics:
      level: basic
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: $METRICS_PORT
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [debug]}
    logs: {receivers: [otlp], processors: [batch], exporters: [debug]}
    metrics: {receivers: [otlp], processors: [batch], exporters: [debug]}
YAML
"$OTELCOL" --config "$WORK/otelcol.yaml" >"$WORK/otelcol.log" 2>&1 &
COL_PID=$!
PIDS+=("$COL_PID")
wait_http "http://127.0.0.1:$HEALTH_PORT/"

export ASSISTANT_OTEL_SECRET=bench-secret-0123456789abcdef
EXPORTED=
: >"$WORK/results"

# load LABEL TARGET URL RATE CONCURRENCY WATCH...
load() {
	local label=$1 target=$2 url=$3 rate=$4 conc=$5
	shift 5
	local watch=()
	for w in "$@"; do watch+=(--watch "$w"); done
	echo "== $label: target=$target rate=$rate concurrency=$conc"
	"$WORK/loadgen" --target "$target" --url "$url" --rate "$rate" --concurrency "$conc" \
		--warmup "${WARMUP}s" --duration "${DURATION}s" --report "${DURATION}s" --label "$label" \
		"${watch[@]}" ${EXPORTED:+--exported-url "$EXPORTED"} >"$WORK/load.out" 2>&1 || true
	cat "$WORK/load.out"
	grep '^RESULT ' "$WORK/load.out" >>"$WORK/results" || true
}

# peak LABEL-PREFIX: highest events/s among the RESULT lines whose label starts with it
peak() { awk -v p="$1" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } r = ("exported_per_s" in v) ? v["exported_per_s"] : v["events_per_s"]; if (index(v["label"], p) == 1 && r + 0 > m + 0) m = r + 0; delete v } END { printf "%d", m }' "$WORK/results"; }

for phase in $PHASES; do
	case $phase in
	collector)
		for c in $SWEEP; do load "collector-max-c$c" otlp "http://127.0.0.1:$HTTP_PORT/v1/logs" 0 "$c" "col=$COL_PID"; done
		half=$(($(peak collector-max) / 2))
		((half > 0)) && load "collector-half" otlp "http://127.0.0.1:$HTTP_PORT/v1/logs" "$half" 32 "col=$COL_PID"
		;;
	off | on | base-off | base-on)
		bin=$WORK/assistant-otel
		if [[ $phase == base-* ]]; then
			bin=${BENCH_BASELINE_BIN:?set BENCH_BASELINE_BIN to the binary to compare with}
		fi
		SVC_PORT=$(free_port)
		args=(serve --listen "127.0.0.1:$SVC_PORT" --log-level warn)
		rm -rf "$WORK/spool"
		[[ $phase == *on ]] && args+=(--spool-dir "$WORK/spool")
		# BENCH_SVC_ARGS: more serve flags, e.g. "--memory-limit 67108864".
		[[ -n ${BENCH_SVC_ARGS:-} ]] && read -ra extra <<<"$BENCH_SVC_ARGS" && args+=("${extra[@]}")
		[[ -n ${BENCH_PPROF:-} ]] && args+=(--pprof-listen "127.0.0.1:$(free_port)") && PPROF_ADDR=${args[-1]}
		# BENCH_SVC_GOMEMLIMIT (e.g. 80MiB) and BENCH_SVC_GOGC (e.g. 200) set the service's Go GC knobs
		# without touching the others.
		# BENCH_SVC_GOMAXPROCS (e.g. 1) bounds the service's Go scheduler to that many cores.
		env ${BENCH_SVC_GOMEMLIMIT:+GOMEMLIMIT=$BENCH_SVC_GOMEMLIMIT} ${BENCH_SVC_GOGC:+GOGC=$BENCH_SVC_GOGC} \
			${BENCH_SVC_GOMAXPROCS:+GOMAXPROCS=$BENCH_SVC_GOMAXPROCS} \
			OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$GRPC_PORT OTEL_SERVICE_NAME=assistant-otel-bench \
			"$bin" "${args[@]}" >"$WORK/service-$phase.out" 2>"$WORK/service-$phase.log" &
		SVC_PID=$!
		PIDS+=("$SVC_PID")
		EXPORTED=http://127.0.0.1:$METRICS_PORT/metrics
		wait_http "http://127.0.0.1:$SVC_PORT/readyz"
		for c in $SWEEP; do
			prof=
			if [[ -n ${BENCH_PPROF:-} && $c == "${SWEEP##* }" ]]; then
				(sleep $((WARMUP + 2)); curl -fsS -o "$OUT.$phase.cpu.pprof" "http://$PPROF_ADDR/debug/pprof/profile?seconds=$((DURATION - 4))";
				 curl -fsS -o "$OUT.$phase.allocs.pprof" "http://$PPROF_ADDR/debug/pprof/allocs") &
				prof=$!
			fi
			load "spool-$phase-max-c$c" webhook "http://127.0.0.1:$SVC_PORT/webhook" 0 "$c" "svc=$SVC_PID" "col=$COL_PID"
			[[ -n $prof ]] && wait "$prof"
		done
		half=$(($(peak "spool-$phase-max") / 2))
		((half > 0)) && load "spool-$phase-half" webhook "http://127.0.0.1:$SVC_PORT/webhook" "$half" 32 "svc=$SVC_PID" "col=$COL_PID"
		kill -TERM "$SVC_PID"
		wait "$SVC_PID" || echo "bench: assistant-otel exited with $?"
		EXPORTED=
		grep -E 'level=(ERROR|WARN)' "$WORK/service-$phase.log" | grep -v 'no --spool-dir' | tail -n 5 || true
		;;
	*) echo "bench: unknown phase $phase" >&2; exit 2 ;;
	esac
done

colpeak=$(peak collector-max)
{
	echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3); load tool on the same cores"
	echo "collector: $($OTELCOL --version 2>/dev/null | head -n1); step ${DURATION}s after ${WARMUP}s warm-up"
	printf '%-22s %5s %7s %9s %9s %7s %7s %7s %6s %10s %10s %8s %8s\n' step conc rate acked/s e2e/s p50_ms p90_ms p99_ms errors svc_cpu/1k col_cpu/1k svc_MiB x_coll
	awk -v cp="$colpeak" '{
		delete v; for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		e2e = ("exported_per_s" in v) ? v["exported_per_s"] : v["events_per_s"]
		ratio = cp > 0 ? e2e / cp : 0
		printf "%-22s %5s %7s %9.0f %9.0f %7.2f %7.2f %7.2f %6d %10s %10s %8s %8.2f\n", v["label"], v["concurrency"], v["rate"] == 0 ? "max" : v["rate"],
			v["events_per_s"], e2e, v["p50_ms"], v["p90_ms"], v["p99_ms"], v["refused"] + v["failed"],
			("svc_cpu_s_per_1k" in v) ? v["svc_cpu_s_per_1k"] : "-", ("col_cpu_s_per_1k" in v) ? v["col_cpu_s_per_1k"] : "-",
			("svc_hwm_mib" in v) ? v["svc_hwm_mib"] : "-", ratio
	}' "$WORK/results"
	echo "acked/s: webhook calls answered 2xx per second during the step. e2e/s: for assistant-otel, events exported and"
	echo "acknowledged by the Collector (its otelcol_receiver_accepted_log_records over gRPC) per second, from the start of"
	echo "the step until the export backlog drained: the sustainable rate; for the Collector, acked/s."
	echo "x_coll: e2e/s divided by the Collector's own peak OTLP/HTTP ingest in this run ($colpeak/s)."
	echo "svc_cpu/1k, col_cpu/1k: CPU seconds per 1,000 acknowledged events; for assistant-otel steps col_cpu is the"
	echo "Collector receiving the exported spans, logs and metrics. svc_MiB: peak RSS (VmHWM) during the step."
} | tee "$OUT"
