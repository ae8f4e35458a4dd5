#!/usr/bin/env bash
# Checks what the test command needs from the system, and names the command that installs what is missing.
# Everything else (the Collector, Jaeger, VictoriaLogs, Prometheus, promtool) comes into the project's tools
# cache as binaries (scripts/tools.sh), without sudo and without starting any system service.
#
#   scripts/prereqs.sh             check; exit 1 with the install command when something is missing
#   scripts/prereqs.sh --install   install what is missing with apt-get (as root; .ci/run uses it)
#
# Needed: Go (1.26, at /usr/local/go or on PATH), a C compiler (go test -race uses cgo), git, curl, jq,
# openssl. Optional (the browser check in the test suite): chromium.
set -euo pipefail

# command -> Debian/Ubuntu package
declare -A PKG=([gcc]=gcc [git]=git [curl]=curl [jq]=jq [openssl]=openssl [flock]=util-linux)
missing=()
for c in gcc git curl jq openssl flock; do
	command -v "$c" >/dev/null 2>&1 || missing+=("${PKG[$c]}")
done
if ! command -v go >/dev/null 2>&1 && [[ ! -x /usr/local/go/bin/go ]]; then
	echo "prereqs: Go 1.26 is missing: install it from the Go project's release archive into /usr/local/go" >&2
	exit 1
fi

if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ ${1:-} == --install ]]; then
	echo "prereqs: installing ${missing[*]} with apt-get"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	exit 0
fi
echo "prereqs: missing from this system: ${missing[*]}" >&2
echo "prereqs: on Debian or Ubuntu: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
exit 1
