#!/usr/bin/env bash
# One prepared run of crossgrad on a GPU machine that has no network and no
# Go (x86-64, root). It expects the bundle folder made by `make gpu-bundle`
# on a machine with Go (default: bench/gpu/bundle next to this script, or
# $CG_BUNDLE):
#
#   bundle/crossgrad                      the binary
#   bundle/debs/ocl-icd-libopencl1_*.deb  OpenCL ICD loader   (apt-get download)
#   bundle/debs/libvulkan1_*.deb          Vulkan loader       (apt-get download)
#   bundle/data/*-ubyte.gz                Fashion-MNIST
#
# Usage: bench/gpu/run.sh [RESULTS_DIR]   (default: $OUT, else ./gpu-results)
#
# It unpacks the loaders (dpkg -x PKG /; ldconfig), makes the NVIDIA drivers
# visible (Vulkan ICD under /usr/local/nvidia/share/vulkan/icd.d/; an OpenCL
# ICD file naming libnvidia-opencl.so.1 when /etc/OpenCL/vendors has none),
# then runs `crossgrad devices`, `crossgrad tune --budget 90s` on each GPU
# device (the tuned configurations go to the tuning cache, a copy into
# RESULTS_DIR/tune-cache), `crossgrad selftest` on each GPU device (which
# also checks every tuned configuration), `crossgrad bench --tune off
# --json` (untuned) and `crossgrad bench --tune cached --compare pytorch
# --json` (tuned) on every GPU, and a short real training run of the seed's
# default configuration (tuned). Every output goes into RESULTS_DIR; the
# whole script is bounded to 9.5 minutes. A missing GPU, driver or file is
# logged and the remaining steps still run.
#
# Environment: CG_BUNDLE (bundle folder), CG_DRY_RUN=1 (skip dpkg/ldconfig:
# for trying the script on a machine whose loaders are installed already),
# CG_BENCH_DEVICE (bench --device, default "gpu"), CG_BENCH_ARGS (more bench
# flags, e.g. "--runs 3"), CG_TRAIN_LIMIT (training images of the short run,
# default 6400), CG_TRAIN_ARGS (more train flags, e.g. "--input-size 65"),
# CG_SELFTEST_DEVICES (device IDs to self-test and tune instead of every
# GPU), CG_SELFTEST_ARGS (more selftest flags), CG_TUNE_BUDGET (crossgrad
# tune --budget per device, default 90s; "0" skips tuning), CG_TOTAL_SECONDS
# (the bound, default 570).

set -u

CG_TOTAL_SECONDS=${CG_TOTAL_SECONDS:-570}
if [ -z "${CG_RUN_INNER:-}" ]; then
	# Bound the whole script: re-run it under timeout.
	export CG_RUN_INNER=1
	exec timeout --kill-after=20 "$CG_TOTAL_SECONDS" bash "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
bundle=${CG_BUNDLE:-$here/bundle}
if [ -z "${CG_BUNDLE:-}" ] && [ -x "$here/crossgrad" ]; then
	bundle=$here # run.sh copied into the bundle itself
fi
res=${1:-${OUT:-$PWD/gpu-results}}
mkdir -p "$res" || exit 1
res=$(cd "$res" && pwd)
log=$res/run.log
start=$(date +%s)

say() { echo "[$(date -u +%H:%M:%S) +$(($(date +%s) - start))s] $*" | tee -a "$log" >&2; }

# step NAME SECONDS CMD...: run CMD with a time limit, output to NAME.txt
# (stdout) and NAME.err (stderr); the exit status goes to the log. The step
# runs in its own process group (timeout makes one), so that the overall
# limit can stop it and everything it started.
cur=""
step() {
	local name=$1 secs=$2
	shift 2
	say "$name: $* (limit ${secs}s)"
	timeout --kill-after=10 "$secs" "$@" >"$res/$name.txt" 2>"$res/$name.err" &
	cur=$!
	wait "$cur"
	local rc=$?
	cur=""
	say "$name: exit $rc"
	return $rc
}

# The overall limit (timeout above) sends TERM: stop the running step's
# process group, then give up.
on_term() {
	say "overall time limit of ${CG_TOTAL_SECONDS}s reached: stopping"
	if [ -n "$cur" ]; then
		kill -TERM -- "-$cur" 2>/dev/null
		sleep 3
		kill -KILL -- "-$cur" 2>/dev/null
	fi
	exit 124
}
trap on_term TERM INT

say "crossgrad GPU run; results in $res; bundle $bundle"
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(hostname 2>/dev/null)"
	echo "kernel: $(uname -srm)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
	echo "cores: $(nproc 2>/dev/null)"
	echo "load: $(cat /proc/loadavg 2>/dev/null)"
} >"$res/machine.txt"
if command -v nvidia-smi >/dev/null 2>&1; then
	timeout 30 nvidia-smi >"$res/nvidia-smi.txt" 2>&1
	timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv >>"$res/machine.txt" 2>&1
else
	say "nvidia-smi not found"
fi

cg=$bundle/crossgrad
if [ ! -x "$cg" ]; then
	say "FATAL: no crossgrad binary at $cg (run make gpu-bundle on a machine with Go)"
	exit 2
fi
# 1. The loaders from the bundle.
if [ "${CG_DRY_RUN:-0}" = 1 ]; then
	say "dry run: not unpacking loaders"
else
	found=0
	for deb in "$bundle"/debs/*.deb; do
		[ -e "$deb" ] || continue
		found=1
		if dpkg -x "$deb" / 2>>"$log"; then say "unpacked $(basename "$deb")"; else say "dpkg -x $deb failed"; fi
	done
	[ $found = 1 ] || say "no .deb in $bundle/debs: relying on the loaders already installed"
	ldconfig 2>>"$log" || say "ldconfig failed"
fi

"$cg" bench --help >/dev/null 2>&1 || say "warning: $cg does not start here (missing libOpenCL.so.1?)"

# 2. NVIDIA libraries, the Vulkan ICD and an OpenCL ICD.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
	if [ -d "$d" ]; then
		export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	fi
done
vk_icds=""
for j in /usr/local/nvidia/share/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json; do
	[ -e "$j" ] && vk_icds="${vk_icds:+$vk_icds:}$j"
done
if [ -n "$vk_icds" ]; then
	export VK_ICD_FILENAMES="$vk_icds" VK_DRIVER_FILES="$vk_icds"
	say "Vulkan ICD: $vk_icds"
else
	say "no NVIDIA Vulkan ICD file found (looked in /usr/local/nvidia/share/vulkan/icd.d, /usr/share/vulkan/icd.d, /etc/vulkan/icd.d)"
fi
if ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
	say "OpenCL ICDs: $(echo /etc/OpenCL/vendors/*.icd)"
else
	lib=""
	for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /lib/x86_64-linux-gnu; do
		if [ -e "$d/libnvidia-opencl.so.1" ]; then
			lib="$d/libnvidia-opencl.so.1"
			break
		fi
	done
	if [ -z "$lib" ]; then
		lib=$(timeout 60 find / -xdev -name 'libnvidia-opencl.so.1' -print -quit 2>/dev/null)
	fi
	if [ -n "$lib" ]; then
		icd_dir=$res/opencl-vendors
		mkdir -p "$icd_dir"
		echo "$lib" >"$icd_dir/nvidia.icd"
		export OCL_ICD_VENDORS="$icd_dir"
		say "OpenCL ICD: $icd_dir/nvidia.icd -> $lib"
	else
		say "no /etc/OpenCL/vendors/*.icd and no libnvidia-opencl.so.1 found: OpenCL will see no NVIDIA device"
	fi
fi
env | grep -E '^(LD_LIBRARY_PATH|VK_ICD_FILENAMES|VK_DRIVER_FILES|OCL_ICD_VENDORS)=' >>"$res/machine.txt"

# 3. Devices, tuning on each GPU device (bounded by the budget; the step
# allows a minute more for opening the device and planning), then the
# self-test on each GPU device, tuned configurations included.
step devices 60 "$cg" devices
gpus=${CG_SELFTEST_DEVICES:-$(awk 'NR > 1 && $2 ~ /gpu$/ { print $1 }' "$res/devices.txt")}
if [ -z "$gpus" ]; then
	say "no GPU device listed by crossgrad devices"
fi
budget=${CG_TUNE_BUDGET:-90s}
if [[ $budget =~ ^([0-9]+)s$ ]]; then
	budget_s=${BASH_REMATCH[1]}
elif [[ $budget =~ ^([0-9]+)m$ ]]; then
	budget_s=$((BASH_REMATCH[1] * 60))
else
	budget_s=300 # another spelling of a duration: crossgrad tune checks it
fi
for id in $gpus; do
	[ "$budget" = 0 ] && break
	name=tune-${id/:/-}
	if step "$name" $((budget_s + 60)) "$cg" tune --device "$id" --budget "$budget" --json; then
		mv "$res/$name.txt" "$res/$name.json"
	fi
done
tune_dir=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/crossgrad/tune
if [ -d "$tune_dir" ]; then
	mkdir -p "$res/tune-cache"
	cp "$tune_dir"/*.json "$res/tune-cache/" 2>>"$log" || say "no tuning cache file in $tune_dir"
fi
for id in $gpus; do
	# shellcheck disable=SC2086 # CG_SELFTEST_ARGS is a list of flags
	step "selftest-${id/:/-}" 90 "$cg" selftest --device "$id" ${CG_SELFTEST_ARGS:-}
done

# 4. The benchmark untuned (--tune off: the backends' default tilings),
# then tuned (--tune cached: what step 3 tuned) with PyTorch side by side
# when python3 imports torch; each report as JSON, Markdown and a table.
data=$bundle/data
if [ ! -e "$data/train-images-idx3-ubyte.gz" ]; then
	say "no Fashion-MNIST in $data; trying /usr/share/datasets/fashion-mnist"
	data=/usr/share/datasets/fashion-mnist
fi
# bench_run NAME SECONDS FLAGS...: bench every GPU with FLAGS into NAME.json,
# NAME.md and NAME-table.txt.
bench_run() {
	local name=$1 secs=$2
	shift 2
	# shellcheck disable=SC2086 # CG_BENCH_ARGS is a list of flags
	if step "$name" "$secs" "$cg" bench --device "${CG_BENCH_DEVICE:-gpu}" "$@" --json ${CG_BENCH_ARGS:-}; then
		mv "$res/$name.txt" "$res/$name.json"
		"$cg" bench --from "$res/$name.json" --md >"$res/$name.md" 2>>"$log"
		"$cg" bench --from "$res/$name.json" >"$res/$name-table.txt" 2>>"$log"
	fi
}
bench_run bench-untuned 150 --tune off
bench_run bench 240 --tune cached --compare pytorch
if [ -e "$res/bench-untuned.json" ] && [ -e "$res/bench.json" ]; then
	"$cg" bench --from "$res/bench-untuned.json" --from "$res/bench.json" >"$res/bench-untuned-vs-tuned.txt" 2>>"$log"
fi

# 5. A short real training run on the seed's default configuration. The
# checkpoints (about 560 MB) stay outside the results; the metrics are copied.
left=$((CG_TOTAL_SECONDS - 20 - ($(date +%s) - start)))
if [ "$left" -gt 30 ]; then
	run_dir=$(mktemp -d /tmp/crossgrad-train-XXXXXX)
	# shellcheck disable=SC2086 # CG_TRAIN_ARGS is a list of flags
	step train "$left" "$cg" train --epochs 1 --train-limit "${CG_TRAIN_LIMIT:-6400}" --test-limit 2000 \
		--data-dir "$data" --checkpoint-dir "$run_dir" --checkpoint-every-minutes 0 ${CG_TRAIN_ARGS:-}
	mkdir -p "$res/train-run"
	find "$run_dir" -maxdepth 1 -type f \( -name '*.csv' -o -name '*.jsonl' -o -name '*.png' -o -name '*.json' -o -name '*.txt' \) \
		-exec cp {} "$res/train-run/" \; 2>>"$log"
	rm -rf "$run_dir"
else
	say "no time left for the training run"
fi

say "done; files: $(cd "$res" && echo *)"
