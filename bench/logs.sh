#!/usr/bin/env bash
# The log pipeline against its targets, side by side in one hyperfine run each:
#  1. write: the monitor loop (run_monitor, json-file writer) consuming 200 MB of 100-byte lines
#     from a command's stdout pipe, against `yes | head -c 200M > file` (target: within 2x);
#  2. read: `minirun logs ID > /dev/null` of that log, against `cat` of the same log and of the
#     200 MB of text (target: within 3x of cat);
#  3. an idle monitor: its RSS and that it takes no CPU over 3 seconds (target: < 2 MB, none).
# Files on tmpfs ($BENCH, default /dev/shm/minirun-logbench). Usage: bench/logs.sh (after
# building minirun and minirun_log_bench).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BENCH:-/dev/shm/minirun-logbench}
MR=${MINIRUN:-$PWD/build/minirun}
LB=${LOG_BENCH:-$PWD/build/minirun_log_bench}
RUNS=${RUNS:-5}
SIZE=${SIZE:-200M}
rm -rf "$B" && mkdir -p "$B/json"
trap 'rm -rf "$B"' EXIT
L=$(printf '%099d' 0 | tr 0 x)  # 99 characters and the newline: 100-byte lines
S=$B/store
read -r ID LOG < <("$LB" record "$S")

median() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.6f" % x["median"] for x in r))' "$1"; }
# CPU seconds (user + system, mean, children included): steadier than wall time on a shared machine.
cpu() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.6f" % (x["user"] + x["system"]) for x in r))' "$1"; }
ratio() { python3 -c 'import sys; print("%.2fx" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }

hyperfine -N -w 1 -r "$RUNS" --export-json "$B/json/write.json" \
  --prepare "rm -f $B/plain" "sh -c 'yes $L | head -c $SIZE > $B/plain'" \
  --prepare "rm -f $LOG" "$LB write $LOG sh -c 'yes $L | head -c $SIZE'" >/dev/null
read -r plain mon < <(median "$B/json/write.json")
echo "write $SIZE of 100-byte lines: yes|head > file $(printf %.3f "$plain") s, monitor → json-file $(printf %.3f "$mon") s ($(ratio "$mon" "$plain") of the plain write; target 2x)"
read -r cplain cmon < <(cpu "$B/json/write.json")
echo "  CPU: $(printf %.3f "$cplain") s and $(printf %.3f "$cmon") s ($(ratio "$cmon" "$cplain")); log: $(stat -c %s "$LOG") bytes, $(wc -l < "$LOG") entries"

hyperfine -N -w 1 -r "$RUNS" --export-json "$B/json/read.json" \
  "cat $B/plain" "cat $LOG" "$MR --root $S logs $ID" >/dev/null
read -r cat_text cat_log logs < <(median "$B/json/read.json")
echo "read back > /dev/null: cat of the text $(printf %.3f "$cat_text") s, cat of the log $(printf %.3f "$cat_log") s, minirun logs $(printf %.3f "$logs") s ($(ratio "$logs" "$cat_text") of cat of the text, $(ratio "$logs" "$cat_log") of cat of the log; target 3x)"
read -r ccat_text ccat_log clogs < <(cpu "$B/json/read.json")
echo "  CPU: $(printf %.3f "$ccat_text") s, $(printf %.3f "$ccat_log") s, $(printf %.3f "$clogs") s ($(ratio "$clogs" "$ccat_text") of cat of the text, $(ratio "$clogs" "$ccat_log") of cat of the log)"
cmp <("$MR" --root "$S" logs "$ID") "$B/plain" && echo "  logs output is byte-identical to the text written"

read -r MON CTR < <("$LB" idle "$B/idle-json.log" "$B/idle-ctl")
sleep 2
t0=$(awk '{print $14 + $15}' "/proc/$MON/stat")
w0=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$MON/status")
sleep 3
t1=$(awk '{print $14 + $15}' "/proc/$MON/stat")
w1=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$MON/status")
rss=$(awk '/^VmRSS/ {print $2 " " $3}' "/proc/$MON/status")
echo "idle monitor: VmRSS $rss (target < 2 MB); over 3 s: $((t1 - t0)) CPU ticks, $((w1 - w0)) wake-ups"
grep -E '^(RssAnon|RssFile|RssShmem)' "/proc/$MON/status" | tr -s ' \t' ' ' | sed 's/^/  /'
echo "stop 9 0" > "$B/idle-ctl"
# The same forked from a process that holds 2 MB of heap (a CLI with its parsed state).
read -r MON2 CTR2 < <(BALLAST_MB=2 "$LB" idle "$B/idle2-json.log" "$B/idle2-ctl")
sleep 1.5
echo "idle monitor forked from a process holding 2 MB of heap: VmRSS $(awk '/^VmRSS/ {print $2 " " $3}' "/proc/$MON2/status")"
echo "stop 9 0" > "$B/idle2-ctl"
