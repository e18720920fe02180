#!/bin/sh
# A batch job of a few busybox tools: fails unless each one works.
set -e
printf 'b\na\nc\n' | sort | tr a-z A-Z > /tmp/sorted
test "$(head -n 1 /tmp/sorted)" = "A"
test "$(wc -l < /tmp/sorted)" -eq 3
grep -q C /tmp/sorted
echo done
