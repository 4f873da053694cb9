#!/usr/bin/env bash
# Records one benchmark run as a results file:
# bench/results/<date>-<machine>-<label>.md with the machine, drivers, date,
# load, the command, the Markdown report and the JSON report.
#
# Usage: bench/record.sh LABEL [crossgrad bench flags...]
#        FROM_JSON=report.json bench/record.sh LABEL   (a report saved earlier)
#
# Environment: CROSSGRAD (the binary; default: build ./cmd/crossgrad into a
# temporary folder), NOTE (a paragraph added under the title), MACHINE (the
# machine's name in the file name; default: the host name), INFO (a file
# quoted as the machine description, e.g. run.sh's machine.txt). This
# machine's CPU, Vulkan drivers and `crossgrad devices` are described only
# when the report was made here: without FROM_JSON, or with HERE=1.
set -eu

[ $# -ge 1 ] || {
	echo "usage: $0 LABEL [crossgrad bench flags...]" >&2
	exit 2
}
label=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cg=${CROSSGRAD:-}
if [ -z "$cg" ]; then
	cg=$tmp/crossgrad
	(cd "$root" && go build -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o "$cg" ./cmd/crossgrad)
fi

json=$tmp/report.json
if [ -n "${FROM_JSON:-}" ]; then
	cp "$FROM_JSON" "$json"
else
	"$cg" bench "$@" --json >"$json"
fi

machine=${MACHINE:-$(hostname 2>/dev/null || echo unknown)}
day=$(date -u +%Y-%m-%d)
out=$root/bench/results/$day-$machine-$label.md
{
	echo "# crossgrad bench: $label ($day, $machine)"
	echo
	if [ -n "${NOTE:-}" ]; then
		echo "$NOTE"
		echo
	fi
	if [ -n "${INFO:-}" ]; then
		echo '```'
		cat "$INFO"
		echo '```'
		echo
	fi
	if [ -z "${FROM_JSON:-}" ] || [ "${HERE:-0}" = 1 ]; then
		echo "Machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, $(uname -sr)."
		if command -v nvidia-smi >/dev/null 2>&1; then
			echo "GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | tr '\n' ';')"
		fi
		if command -v vulkaninfo >/dev/null 2>&1; then
			echo "Vulkan drivers: $(vulkaninfo --summary 2>/dev/null | grep driverInfo | sed 's/.*= *//' | paste -sd ';' -)."
		fi
		echo
		echo '```'
		"$cg" devices 2>&1
		echo '```'
	fi
	echo
	"$cg" bench --from "$json" --md | sed "s/^#/##/" # the report's headings one level under this file's title
	echo
	echo "## JSON"
	echo
	echo '```json'
	cat "$json"
	echo '```'
} >"$out"
echo "$out"
