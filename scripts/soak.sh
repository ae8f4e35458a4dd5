#!/usr/bin/env bash
# Soak test (not part of CI): assistant-otel with a durable spool, exporting to the real Collector, under a
# constant load for a bounded time; samples the resident memory (RSS) of both every few seconds and prints a
# table, then a summary comparing the first and the last part of the run ("flat memory").
#
#   scripts/soak.sh                      # 10 minutes at 200 events/s
#   SOAK_DURATION=120 SOAK_RATE=500 scripts/soak.sh
#   SOAK_SVC_ARGS="--pprof-listen 127.0.0.1:6060 --memory-limit 0" scripts/soak.sh   # more serve flags
#
# Everything listens on 127.0.0.1; every process is stopped at the end. The Collector is the one
# scripts/tools.sh builds (or $ASSISTANT_OTEL_OTELCOL); it receives OTLP and writes one summary line per
# batch (debug exporter), so it is a real OTLP endpoint without a backend.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${SOAK_DURATION:-600}    # seconds, at most 3600
RATE=${SOAK_RATE:-200}            # events per second
SAMPLE=${SOAK_SAMPLE:-5}          # seconds between samples
((DURATION > 0 && DURATION <= 3600)) || { echo "SOAK_DURATION must be in 1..3600" >&2; exit 2; }

echo "building assistant-otel and loadgen"
source scripts/lib/harness.sh
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2/1024 }' "/proc/$1/status" 2>/dev/null || echo "-"; }


OTLP_PORT=$(free_port)
HTTP_PORT=$(free_port)
cat >"$WORK/otelcol.yaml" <<EOF
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$OTLP_PORT
processors:
  batch:
    timeout: 200ms
exporters:
  debug:
    verbosity: basic
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [debug]}
    logs: {receivers: [otlp], processors: [batch], exporters: [debug]}
    metrics: {receivers: [otlp], processors: [batch], exporters: [debug]}
EOF
"$OTELCOL" --config "$WORK/otelcol.yaml" >"$WORK/otelcol.log" 2>&1 &
COL_PID=$!
PIDS+=("$COL_PID")

export ASSISTANT_OTEL_SECRET=soak-secret
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$OTLP_PORT OTEL_SERVICE_NAME=assistant-otel-soak \
	"$WORK/assistant-otel" serve --listen "127.0.0.1:$HTTP_PORT" --spool-dir "$WORK/spool" --log-level warn \
	${SOAK_SVC_ARGS:-} >"$WORK/service.out" 2>"$WORK/service.log" &
SVC_PID=$!
PIDS+=("$SVC_PID")
for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done

echo "soak: ${DURATION}s at ${RATE} events/s; assistant-otel pid $SVC_PID, Collector pid $COL_PID; sampling every ${SAMPLE}s"
"$WORK/loadgen" --url "http://127.0.0.1:$HTTP_PORT/webhook" --rate "$RATE" --duration "${DURATION}s" \
	--report 30s --corpus 'testdata/corpus/*.json' >"$WORK/loadgen.out" 2>&1 &
LOAD_PID=$!
PIDS+=("$LOAD_PID")

printf '%6s %14s %14s %12s %10s\n' t_s service_rss_MiB collector_MiB spool_KiB readyz
start=$(date +%s)
: >"$WORK/samples"
while kill -0 "$LOAD_PID" 2>/dev/null; do
	t=$(($(date +%s) - start))
	svc=$(rss_mib "$SVC_PID")
	col=$(rss_mib "$COL_PID")
	spool=$(du -k "$WORK/spool" 2>/dev/null | awk '{print $1}')
	ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/readyz" || true)
	printf '%6d %14s %14s %12s %10s\n' "$t" "$svc" "$col" "$spool" "$ready"
	echo "$t $svc $col" >>"$WORK/samples"
	sleep "$SAMPLE"
done
wait "$LOAD_PID" || echo "soak: the load generator reported refused or failed events"
echo
cat "$WORK/loadgen.out" | tail -n 1
kill -TERM "$SVC_PID"
wait "$SVC_PID" || echo "soak: assistant-otel exited with $?"
grep -E 'level=(ERROR|WARN)' "$WORK/service.log" | tail -n 5 || true
# Flat memory: the service's mean RSS over the second and the last quarter of the run (the first quarter is
# warm-up: heap, page cache of the spool file and the dedupe window grow into their working size).
awk -v n="$(wc -l <"$WORK/samples")" '
	{ t[NR]=$1; r[NR]=$2; c[NR]=$3 }
	END {
		k = int(n/4); if (k < 1) k = 1
		for (i = k+1; i <= 2*k && i <= n; i++) { a += r[i]; ac += c[i]; na++ }
		for (i = n-k+1; i <= n; i++) { b += r[i]; bc += c[i]; nb++ }
		max = 0; for (i = 1; i <= n; i++) if (r[i] > max) max = r[i]
		if (na == 0) { print "too few samples"; exit }
		printf "service RSS: second quarter %.1f MiB, last quarter %.1f MiB (change %+.1f%%), peak %.1f MiB\n", a/na, b/nb, 100*(b/nb-a/na)/(a/na), max
		printf "collector RSS: second quarter %.1f MiB, last quarter %.1f MiB\n", ac/na, bc/nb
	}' "$WORK/samples"
