#!/usr/bin/env bash
# From a fresh Debian 12 machine to a trained model: installs what is
# missing (scripts/setup.sh), builds ./crossgrad and runs the main job. On a
# GPU that is the seed tutorial's run (presets/default.yaml); where only CPU
# drivers exist it is the cpu-quick setting, which says so. Arguments, when
# given, replace the automatic choice: scripts/quickstart.sh --config default
# forces the seed's setting anywhere. --print-command prints the train
# command instead of running it.
set -euo pipefail
cd "$(dirname "$0")/.."

print_only=0
if [ "${1:-}" = "--print-command" ]; then
  print_only=1
  shift
fi

bash scripts/setup.sh
export CGO_CFLAGS="-O2 -g -DCL_TARGET_OPENCL_VERSION=120"
version=$(git describe --always --dirty 2>/dev/null || echo dev)
go build -ldflags "-X main.version=$version" -o crossgrad ./cmd/crossgrad
echo "quickstart: built ./crossgrad ($version)"

args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  if ./crossgrad devices --json | grep -Eq '"type": *"(discrete|integrated)-gpu"'; then
    echo "quickstart: a GPU was found: the seed tutorial's run (AlexNet at 224x224, batch 128, 10 epochs)"
    args=(--config default)
  else
    echo "quickstart: no GPU found, only CPU drivers: training the cpu-quick setting (presets/cpu-quick.yaml, minutes on 2 cores)"
    echo "quickstart: the seed's setting takes hours on a CPU; force it with: scripts/quickstart.sh --config default"
    args=(--config cpu-quick)
  fi
fi

if [ "$print_only" = 1 ]; then
  echo "./crossgrad train ${args[*]}"
  exit 0
fi
echo "quickstart: ./crossgrad train ${args[*]}"
exec ./crossgrad train "${args[@]}"
