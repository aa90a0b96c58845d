#!/usr/bin/env bash
# Spark resource discovery script for GPUs: prints {"name": "gpu", "addresses": [...]}.
# PILEHOUSE_FAKE_GPU_ADDRESSES (e.g. "0,1") makes a machine without GPUs advertise that
# list, so stage-level GPU scheduling can be tested on CPU-only machines; otherwise the
# addresses are the CUDA ordinals nvidia-smi lists (none when it is missing).
set -euo pipefail
if [[ -n "${PILEHOUSE_FAKE_GPU_ADDRESSES:-}" ]]; then
  addresses="${PILEHOUSE_FAKE_GPU_ADDRESSES}"
elif command -v nvidia-smi >/dev/null 2>&1; then
  addresses="$(nvidia-smi --query-gpu=index --format=csv,noheader | paste -sd, -)"
else
  addresses=""
fi
json=""
IFS=',' read -ra parts <<< "${addresses}"
for address in "${parts[@]}"; do
  address="${address// /}"
  [[ -z "${address}" ]] && continue
  json="${json:+${json},}\"${address}\""
done
echo "{\"name\": \"gpu\", \"addresses\": [${json}]}"
