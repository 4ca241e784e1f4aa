#!/usr/bin/env bash
# Builds only the kernel side: the BPF object and its libbpf skeleton
# (same as `make build-ebpf`). Extra arguments go to make (e.g. V=1).
set -euo pipefail
cd "$(dirname "$0")/.."
exec make build-ebpf "$@"
