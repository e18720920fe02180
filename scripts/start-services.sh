#!/usr/bin/env bash
# Start dockerd for the suite when it is not already answering. Docker Hub is
# unreachable here, so no bridge or iptables rules are needed.
set -euo pipefail
if docker info >/dev/null 2>&1; then
  exit 0
fi
mkdir -p /var/log
nohup dockerd --iptables=false --bridge=none >/var/log/lamina-dockerd.log 2>&1 &
for _ in $(seq 1 240); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "dockerd did not start; see /var/log/lamina-dockerd.log" >&2
tail -20 /var/log/lamina-dockerd.log >&2
exit 1
