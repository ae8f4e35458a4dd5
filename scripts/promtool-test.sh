#!/usr/bin/env bash
# Checks and unit-tests the Prometheus rules shipped in deploy/prometheus/rules with promtool:
#   promtool check rules  deploy/prometheus/rules/*.yml     (syntax, PromQL, templates)
#   promtool test rules   deploy/prometheus/rules/*.test.yml (every alert fires / must not fire)
# Installs Debian's prometheus package (which ships promtool) when promtool is missing. CI calls it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RULES=$ROOT/deploy/prometheus/rules

if ! command -v promtool >/dev/null; then
	echo "== promtool not found: installing Debian's prometheus package"
	SUDO=
	[[ $(id -u) -eq 0 ]] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
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
