#!/usr/bin/env bash
# End-to-end check of the shipped alert rules against a real Prometheus (used by scripts/e2e.sh).
#
# Two steps, usable as subcommands or, when this file is sourced, as functions:
#
# 1. Before starting Prometheus, make its config:
#      alerts.sh config BASE_PROMETHEUS_YML OUT_DIR          (function: alerts_make_config BASE OUT_DIR)
#    writes OUT_DIR/rules/assistant-otel.yml, a test-only copy of deploy/prometheus/rules/assistant-otel.yml
#    with every `for:` set to 0s (so an alert fires on its first true evaluation instead of after 10 minutes),
#    and OUT_DIR/prometheus.yml = BASE + `rule_files: [rules/assistant-otel.yml]`, and prints the config's
#    path. BASE should scrape the Collector's prometheus exporter with scrape and evaluation intervals of 1s
#    (scripts/e2e/prometheus.yml does). Start Prometheus with --config.file=<that path>.
#
# 2. After the other assertions, replay low-confidence traffic and wait for the alert:
#      alerts.sh wait PROM_URL [--alert NAME] [--timeout SECONDS] [--feed COMMAND]
#      (function: alerts_wait_firing PROM_URL [NAME [TIMEOUT [COMMAND]]])
#    polls GET PROM_URL/api/v1/alerts once a second until the alert (default
#    WatsonAssistantLowConfidenceRateHigh) is firing, running COMMAND (bash -c; ALERTS_FEED_N holds the
#    iteration number) before each poll to keep low-confidence turns flowing: a rate needs the counter to move
#    between scrapes, and the rule wants at least 10 user turns in its window. Prints one PASS or FAIL line;
#    returns 0 or 1. Default timeout 120 s.
#
# Needs curl and jq. Sourcing changes no shell option of the caller.

ALERTS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ALERTS_RULES=$ALERTS_ROOT/deploy/prometheus/rules/assistant-otel.yml

alerts_make_config() {
	local base=${1:?base prometheus.yml} out=${2:?output directory}
	[[ -f $base ]] || {
		echo "alerts.sh: no such file: $base" >&2
		return 1
	}
	mkdir -p "$out/rules" || return 1
	sed -E 's/^([[:space:]]+)for:[[:space:]]*[0-9smhdwy]+[[:space:]]*$/\1for: 0s/' "$ALERTS_RULES" >"$out/rules/assistant-otel.yml" || return 1
	if grep -Eq '^[[:space:]]+for:[[:space:]]*[1-9]' "$out/rules/assistant-otel.yml"; then
		echo "alerts.sh: could not shorten every for: in $out/rules/assistant-otel.yml" >&2
		return 1
	fi
	if grep -q '^rule_files:' "$base"; then
		echo "alerts.sh: $base already has rule_files; remove them" >&2
		return 1
	fi
	{
		cat "$base"
		printf '\n# added by scripts/e2e/alerts.sh: the shipped rules, every for: shortened to 0s\nrule_files:\n  - rules/assistant-otel.yml\n'
	} >"$out/prometheus.yml" || return 1
	echo "$out/prometheus.yml"
}

alerts_wait_firing() {
	local prom=${1:?Prometheus URL} alert=${2:-WatsonAssistantLowConfidenceRateHigh} timeout=${3:-120} feed=${4:-}
	local start=$SECONDS state="" n=0 rules
	# The rule must be loaded, healthy, and visible to Prometheus' API.
	rules=$(curl -fsS --max-time 5 "$prom/api/v1/rules?type=alert" 2>/dev/null)
	if [[ -z $rules ]] || ! jq -e --arg a "$alert" '[.data.groups[].rules[] | select(.name == $a)] | length > 0' <<<"$rules" >/dev/null 2>&1; then
		echo "FAIL: alert $alert is not loaded in Prometheus at $prom (rule_files? see scripts/e2e/alerts.sh config)"
		return 1
	fi
	while ((SECONDS - start < timeout)); do
		n=$((n + 1))
		if [[ -n $feed ]]; then
			ALERTS_FEED_N=$n bash -c "$feed" >/dev/null 2>&1 || echo "[alerts] feed command failed (iteration $n)" >&2
		fi
		state=$(curl -fsS --max-time 5 "$prom/api/v1/alerts" 2>/dev/null |
			jq -r --arg a "$alert" '[.data.alerts[] | select(.labels.alertname == $a) | .state] | if index("firing") != null then "firing" elif length > 0 then .[0] else "inactive" end' 2>/dev/null)
		if [[ $state == firing ]]; then
			echo "PASS: Prometheus reports $alert firing (after $((SECONDS - start))s, $n polls)"
			return 0
		fi
		sleep 1
	done
	local health
	health=$(curl -fsS --max-time 5 "$prom/api/v1/rules?type=alert" 2>/dev/null |
		jq -r --arg a "$alert" '.data.groups[].rules[] | select(.name == $a) | "health=\(.health) lastError=\(.lastError // "")"' 2>/dev/null)
	echo "FAIL: $alert not firing after ${timeout}s (state: ${state:-unknown}; $health)"
	return 1
}

# Run as a script: dispatch the subcommand. Sourced: only define the functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -uo pipefail
	case ${1:-} in
	config)
		shift
		alerts_make_config "$@"
		exit
		;;
	wait)
		shift
		prom=${1:?usage: alerts.sh wait PROM_URL [--alert NAME] [--timeout S] [--feed CMD]}
		shift
		alert=WatsonAssistantLowConfidenceRateHigh timeout=120 feed=
		while (($#)); do
			case $1 in
			--alert) alert=$2 ;;
			--timeout) timeout=$2 ;;
			--feed) feed=$2 ;;
			*)
				echo "alerts.sh: unknown option $1" >&2
				exit 2
				;;
			esac
			shift 2
		done
		alerts_wait_firing "$prom" "$alert" "$timeout" "$feed"
		exit
		;;
	*)
		sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'
		exit 2
		;;
	esac
fi
