#!/usr/bin/env bash
# Installs every Debian package crossgrad needs to build and test: the OpenCL
# and Vulkan loaders and headers, the CPU drivers (PoCL, Mesa lavapipe), the
# validation layers, the shader tools, CLBlast (benchmark baseline), PyTorch
# on the CPU (checkpoint compatibility test, benchmark side-by-side) and the
# Fashion-MNIST dataset, then the Go modules. Idempotent; installs only what
# is missing; runs apt-get directly as root and through sudo otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo libclblast-dev
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-tools glslc spirv-tools
  python3-torch libopenblas0-pthread
  dataset-fashion-mnist
  openmpi-bin libopenmpi-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} Debian packages already installed"
else
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup: ${#missing[@]} Debian package(s) missing (${missing[*]}) and installing them needs root:" >&2
      echo "       run this again as root, or install sudo and give this user sudo rights" >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v go >/dev/null 2>&1; then
  want=$(sed -n 's/^go //p' go.mod)
  echo "setup: Go is not on PATH; install Go $want or newer from https://go.dev/dl/ (Debian 12's golang package is too old)" >&2
  exit 1
fi
go mod download
clinfo -l || true
