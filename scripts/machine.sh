#!/usr/bin/env bash
# One line describing where a benchmark ran.
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//')
echo "$(nproc) cores${cpu:+ ($cpu)}, $(free -g | awk '/Mem:/{print $2}') GiB, $(rustc --version | cut -d' ' -f1-2), $(date -u +%Y-%m-%d)"
