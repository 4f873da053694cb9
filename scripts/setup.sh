#!/usr/bin/env bash
# Installs every Debian package crossgrad needs to build and test: the OpenCL
# and Vulkan loaders and headers, the CPU drivers (PoCL, Mesa lavapipe), the
# validation layers, the shader tools, CLBlast (benchmark baseline), PyTorch
# on the CPU (checkpoint compatibility test, benchmark side-by-side) and the
# Fashion-MNIST dataset. Idempotent; run as root on Debian 12.
set -euo pipefail

packages=(
  build-essential pkg-config
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo libclblast-dev
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-tools glslc spirv-tools
  python3-torch libopenblas0-pthread
  dataset-fashion-mnist
)

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/setup.sh installs Debian packages and must run as root: sudo make setup" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
else
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

clinfo -l || true
