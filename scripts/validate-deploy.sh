#!/usr/bin/env bash
# Validates the deployment files with the real programs (no containers needed):
#   otel-collector.yaml and scripts/e2e/otelcol-test.yaml  -> `otelcol-assistant validate` (same components
#                                                             and release as the contrib image 0.161.0)
#   deploy/jaeger/jaeger.yaml, scripts/e2e/jaeger.yaml      -> `jaeger validate` (Jaeger v2.13.0)
#   deploy/prometheus/prometheus.yml, scripts/e2e/prometheus.yml -> `promtool check config` (Prometheus 3, the
#                                                             version docker-compose.yml ships)
#   deploy/helm/assistant-otel (the Helm chart)             -> helm lint --strict and helm template with each
#                                                             values file (default, ci/*-values.yaml), then
#                                                             go vet, staticcheck, go test in deploy/helmtest (strict
#                                                             decoding into the Kubernetes API types, policies)
#   deploy/systemd/assistant-otel.service                   -> go test in deploy/helmtest (hardening keys);
#                                                             systemd-analyze verify and security when
#                                                             installed (else SKIP)
#   deploy/alertmanager/alertmanager.yml                    -> `amtool check-config` (Alertmanager v0.31.0, the
#                                                             version docker-compose.yml ships)
#   docker-compose.yml, Dockerfile, Grafana provisioning,   -> go test in deploy/composetest (compose-go)
#   deploy/caddy/Caddyfile (its wiring; Caddy itself is not built here: docs/real-stack.md)
# Prints PASS/FAIL per file and "N passed, N failed"; exits non-zero if anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/tools.sh" >/dev/null
BIN=$(bash "$ROOT/scripts/tools.sh" --print-bin)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/assistant-otel-validate.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

PASS=0
FAIL=0
SKIP=0
skip() { # skip NAME REASON
	SKIP=$((SKIP + 1))
	echo "SKIP: $1 ($2)"
}
run() { # run NAME CMD...
	local name=$1
	shift
	if "$@" >"$TMP/out" 2>&1; then
		PASS=$((PASS + 1))
		echo "PASS: $name"
	else
		FAIL=$((FAIL + 1))
		echo "FAIL: $name"
		tail -n 20 "$TMP/out" | sed 's/^/    /'
	fi
}

cd "$ROOT"
# file_storage creates its directory (create_directory: true), so validation needs no directory or env var
# for otel-collector.yaml; the test config reads its storage directory from OTELCOL_STORAGE_DIR.
run "otelcol validate otel-collector.yaml" "$BIN/otelcol-assistant" validate --config otel-collector.yaml
# The end-to-end configs take the ports scripts/e2e.sh picks at run time; any free-looking ones do here.
e2e_ports=(E2E_OTLP_GRPC_PORT=20001 E2E_OTLP_HTTP_PORT=20002 E2E_COLLECTOR_HEALTH_PORT=20003
	E2E_COLLECTOR_METRICS_PORT=20004 E2E_COLLECTOR_PROM_PORT=20005 E2E_JAEGER_OTLP_GRPC_PORT=20006
	E2E_JAEGER_OTLP_HTTP_PORT=20007 E2E_JAEGER_HEALTH_PORT=20008 E2E_JAEGER_QUERY_HTTP_PORT=20009
	E2E_JAEGER_QUERY_GRPC_PORT=20010 E2E_JAEGER_METRICS_PORT=20011 E2E_VLOGS_PORT=20012)
run "otelcol validate scripts/e2e/otelcol-test.yaml" env OTELCOL_STORAGE_DIR="$TMP/storage" "${e2e_ports[@]}" \
	"$BIN/otelcol-assistant" validate --config scripts/e2e/otelcol-test.yaml
run "jaeger validate deploy/jaeger/jaeger.yaml" "$BIN/jaeger" validate --config deploy/jaeger/jaeger.yaml
run "jaeger validate scripts/e2e/jaeger.yaml" env "${e2e_ports[@]}" "$BIN/jaeger" validate --config scripts/e2e/jaeger.yaml
run "promtool check config deploy/prometheus/prometheus.yml" "$BIN/promtool" check config deploy/prometheus/prometheus.yml
sed -e 's/E2E_COLLECTOR_PROM_PORT/20005/' -e 's/E2E_ALERTMANAGER_PORT/20013/' scripts/e2e/prometheus.yml >"$TMP/e2e-prometheus.yml"
run "promtool check config scripts/e2e/prometheus.yml" "$BIN/promtool" check config "$TMP/e2e-prometheus.yml"
run "amtool check-config deploy/alertmanager/alertmanager.yml" "$BIN/amtool" check-config deploy/alertmanager/alertmanager.yml
run "go test deploy/composetest (docker-compose.yml, Dockerfile, Grafana provisioning)" \
	bash -c 'cd deploy/composetest && go test -count=1 ./...'


# ---- Helm chart ------------------------------------------------------------------------------------
CHART=deploy/helm/assistant-otel
# helm lint renders in lint mode, where the chart's own refusals (`fail`: no TLS, memory limit, grace period,
# unpinned image, ...) only log at INFO: helm template is what enforces them.
run "helm lint --strict $CHART (default values)" "$BIN/helm" lint --strict "$CHART"
run "helm template $CHART (default values)" "$BIN/helm" template wa "$CHART" --namespace assistant-otel
for values in "$CHART"/ci/*-values.yaml; do
	run "helm lint --strict $CHART -f $values" "$BIN/helm" lint --strict "$CHART" -f "$values"
	run "helm template $CHART -f $values" "$BIN/helm" template wa "$CHART" --namespace assistant-otel -f "$values"
done
run "go vet deploy/helmtest" bash -c 'cd deploy/helmtest && GOWORK=off go vet ./...'
if command -v staticcheck >/dev/null 2>&1; then # scripts/test.sh installs it before calling this script
	run "staticcheck deploy/helmtest" bash -c 'cd deploy/helmtest && GOWORK=off staticcheck ./...'
else
	skip "staticcheck deploy/helmtest" "staticcheck is not on PATH; scripts/test.sh installs it"
fi
run "go test deploy/helmtest (chart: strict API types, policies, refusals, breakage; systemd unit)" \
	env ASSISTANT_OTEL_HELM="$BIN/helm" bash -c 'cd deploy/helmtest && GOWORK=off go test -count=1 ./...'

# ---- systemd unit ----------------------------------------------------------------------------------
SYSTEMD_ANALYZE=${SYSTEMD_ANALYZE:-systemd-analyze} # another path, or a missing one to see the SKIP
if command -v "$SYSTEMD_ANALYZE" >/dev/null 2>&1; then
	# verify also checks that ExecStart's binary exists: point it at a real executable for the check.
	unit_dir=$TMP/systemd
	mkdir -p "$unit_dir"
	sed "s|^ExecStart=[^ ]*|ExecStart=$(command -v true)|" deploy/systemd/assistant-otel.service >"$unit_dir/assistant-otel.service"
	# verify exits 0 on an unknown key or a value it cannot parse, and only logs it: any output fails.
	verify_quietly() {
		local out rc=0
		out=$("$SYSTEMD_ANALYZE" verify "$1" 2>&1) || rc=$?
		[[ -z $out ]] || echo "$out"
		[[ $rc == 0 && -z $out ]]
	}
	run "systemd-analyze verify deploy/systemd/assistant-otel.service" verify_quietly "$unit_dir/assistant-otel.service"
	# The hardening as systemd scores it: 0 (locked down) to 10 (exposed), in tenths for --threshold: above
	# 2.0 fails (the unit scores 1.4 with systemd 252).
	run "systemd-analyze security --threshold=20 deploy/systemd/assistant-otel.service" \
		"$SYSTEMD_ANALYZE" security --offline=true --threshold=20 --no-pager "$unit_dir/assistant-otel.service"
else
	skip "systemd-analyze verify deploy/systemd/assistant-otel.service" "systemd-analyze is not installed here; go test deploy/helmtest checks the unit's keys"
fi

if ((SKIP > 0)); then
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
else
	echo "$PASS passed, $FAIL failed"
fi
((FAIL == 0))
