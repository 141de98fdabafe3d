#!/bin/sh
# The spawn cycle pinned to one CPU, over many processes.
#
#   sh cycle_runs.sh BENCH [RUNS]
#
# Runs `BENCH --cycle` RUNS times (default 41), each a new process pinned to
# CPU 0 with taskset, and prints each ratio's median over the runs with its
# lowest and highest. One process's ratio moves by several percent with
# where the process's memory happens to lie (the same build gives 1.02 in
# one run and 1.10 in the next, while the rounds inside a run agree), so a
# single run cannot tell a 3% goal apart; the median of many can, to about
# a percent (docs/performance.md). Never fails on timing.
set -eu
bench=$1
runs=${2:-41}
case $runs in
'' | *[!0-9]* | 0)
    echo "cycle_runs.sh: RUNS must be a whole number above 0, not '$runs'" >&2
    exit 2
    ;;
esac
pin="taskset -c 0"
if ! taskset -c 0 true >/dev/null 2>&1; then
    echo "taskset not found (util-linux) or CPU 0 not allowed here: the runs are not pinned"
    pin=""
fi
out=$(mktemp)
one=$(mktemp)
trap 'rm -f "$out" "$one"' EXIT
i=0
while [ "$i" -lt "$runs" ]; do
    status=0
    $pin "$bench" --cycle >"$one" 2>&1 || status=$?
    if [ "$status" -ne 0 ] || ! grep -q ' vs ' "$one"; then
        cat "$one" >&2
        echo "cycle_runs.sh: '$bench --cycle' failed (status $status) in run $((i + 1))" >&2
        exit 1
    fi
    # bench.c's row(): what, hilo and anchor in us, ratio, in fixed columns.
    awk '/ vs / {
        w = substr($0, 1, 44); sub(/ +$/, "", w); sub(/^ +/, "", w)
        print w "\t" substr($0, 46, 12) + 0 "\t" substr($0, 59, 12) + 0 "\t" substr($0, 72, 7) + 0
    }' "$one" >>"$out"
    i=$((i + 1))
done
echo "spawn cycle pinned to one CPU: $runs runs of 'bench --cycle', median (lowest-highest)"
printf '%-44s %22s %22s %18s\n' what 'hilo (us)' 'anchor (us)' ratio
# Each row's values, sorted, then the middle one and both ends.
cut -f1 "$out" | awk '!seen[$0]++' | while IFS= read -r what; do
    for col in 2 3 4; do
        awk -F'\t' -v w="$what" -v c="$col" '$1 == w {print $c + 0}' "$out" | sort -g |
            awk '{v[NR] = $1} END {printf "%.3f (%.3f-%.3f)\n", v[int((NR + 1) / 2)], v[1], v[NR]}'
    done | paste -s | awk -F'\t' -v w="$what" '{printf "%-44s %22s %22s %18s\n", w, $1, $2, $3}'
done
