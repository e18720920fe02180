#!/usr/bin/env bash
# Start dockerd for the suite when it is not already answering. Docker Hub is
# unreachable here, so no bridge or iptables rules are needed.
set -euo pipefail

# QEMU user emulation for `lamina build --platform` (foreign RUN steps): binfmt_misc is
# not mounted at boot here; register Debian's qemu-user-static handlers (F flag: the
# interpreter is opened now, so it works inside containers).
if [ -d /proc/sys/fs/binfmt_misc ] && [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true
fi
if [ -w /proc/sys/fs/binfmt_misc/register ]; then
  for arch in aarch64 arm riscv64 s390x ppc64le; do
    conf=/usr/lib/binfmt.d/qemu-$arch.conf
    if [ -f "$conf" ] && [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$arch" ]; then
      grep -v '^#' "$conf" > /proc/sys/fs/binfmt_misc/register || true
    fi
  done
fi

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
