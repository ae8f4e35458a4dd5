#!/usr/bin/env bash
# Checks and unit-tests the Prometheus rules shipped in deploy/prometheus/rules with promtool:
#   promtool check rules  deploy/prometheus/rules/*.yml     (syntax, PromQL, templates)
#   promtool test rules   deploy/prometheus/rules/*.test.yml (every alert fires / must not fire)
# Uses the promtool of Prometheus 3 (the version docker-compose.yml ships) from the tools cache, building it
# there when missing (scripts/tools.sh: no sudo, no system package). CI calls it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RULES=$ROOT/deploy/prometheus/rules

bash "$ROOT/scripts/tools.sh" >/dev/null
promtool() { "$(bash "$ROOT/scripts/tools.sh" --print-bin)/promtool" "$@"; }
promtool --version 2>&1 | head -1

shopt -s nullglob
rules=() tests=()
for f in "$RULES"/*.yml; do
	case $f in
	*.test.yml) tests+=("$f") ;;
	*) rules+=("$f") ;;
	esac
done
if ((${#rules[@]} == 0 || ${#tests[@]} == 0)); then
	echo "FAIL: no rule files or no test files in $RULES" >&2
	exit 1
fi

echo "== promtool check rules"
promtool check rules "${rules[@]}"
echo "== promtool test rules"
# test files name their rule files relative to themselves
cd "$RULES"
promtool test rules "${tests[@]##*/}"
echo "PASS: promtool check rules and test rules"
