#!/usr/bin/env bash
# Issue 20 on a real Slurm: a one-node cluster on localhost (local_cluster.sh), a 4-run sweep
# submitted as a job array with its merge job, then a task stopped by SIGTERM mid-run that
# Slurm requeues and that resumes from its checkpoint.
#
#   test_slurm_sweep.sh QUANTSCOPE_BINARY
#
# Exit 77 (ctest: skipped) only where the Slurm daemons are not installed or cannot start,
# saying why; everything else is a pass or a failure.
set -euo pipefail
quantscope=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }
for command in munged slurmctld slurmd sbatch squeue scancel scontrol; do
  command -v "$command" >/dev/null || skip "$command is not installed (Debian: slurm-wlm munge)"
done

tmp=$(mktemp -d)
cleanup() {
  "$here/local_cluster.sh" stop "$tmp/cluster" 2>/dev/null || true
  [ -n "${KEEP_SLURM_TEST:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
cluster_env=$("$here/local_cluster.sh" start "$tmp/cluster" 2>"$tmp/cluster.log") ||
  skip "the local Slurm cluster could not start: $(tail -n 5 "$tmp/cluster.log")"
eval "$cluster_env"
echo "local Slurm cluster up (SLURM_CONF=$SLURM_CONF)"

ws=$tmp/ws
# State of a job as squeue shows it (finished jobs stay listed: MinJobAge=300).
state_of() { squeue -h -t all -o %T -j "$1" 2>/dev/null | head -n 1; }
wait_for_end() { # JOB SECONDS
  local i state
  for ((i = 0; i < $2 * 2; i++)); do
    state=$(state_of "$1")
    case "$state" in COMPLETED | FAILED | CANCELLED | TIMEOUT | OUT_OF_MEMORY | NODE_FAIL) echo "$state"; return; esac
    sleep 0.5
  done
  echo "still ${state:-unknown} after $2 s"
}
json_field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n 1; }

# --- 1. A 4-run sweep as one job array, merged by the dependent merge job.
cat >"$tmp/seeds.json" <<'EOF'
{"name": "seeds", "base": {"method": "gptq", "weights": {"bits": 3, "group_size": 64},
  "calibration": {"samples": 16, "seq_len": 128}, "eval": {"max_windows": 2},
  "diagnostics": {"enabled": false}},
 "axes": {"calibration.seed": [0, 1, 2, 3]}}
EOF
submitted=$("$quantscope" sweep submit "$tmp/seeds.json" --workspace "$ws" --max-parallel 2 --cpus 1 --json)
echo "$submitted"
array=$(json_field array_job <<<"$submitted")
merge=$(json_field merge_job <<<"$submitted")
[ -n "$array" ] && [ -n "$merge" ] || fail "sweep submit printed no job ids"
merged_state=$(wait_for_end "$merge" 300)
[ "$merged_state" = COMPLETED ] || fail "merge job $merge: $merged_state; $(cat "$ws/sweeps/seeds/logs/"*.out)"
"$quantscope" sweep status --workspace "$ws"
runs=$("$quantscope" runs list --workspace "$ws" --json)
finished=$(grep -c '"status": "finished"' <<<"$runs" || true)
[ "$finished" -eq 4 ] || fail "the main catalog has $finished finished runs, not 4: $runs"
total=$(grep -c '"status":' <<<"$runs" || true)
[ "$total" -eq 4 ] || fail "the main catalog has $total runs, not 4"
for id in 1 2 3 4; do
  [ -s "$ws/runs/$id/artifacts.h5" ] || fail "run $id has no artifacts"
  shown=$("$quantscope" runs show "$id" --workspace "$ws" --json)
  grep -q '"perplexity": [0-9]' <<<"$shown" || fail "run $id has no perplexity"
done
# Merging again imports nothing.
again=$("$quantscope" sweep merge --workspace "$ws" --json)
[ "$(json_field imported <<<"$again")" = 0 ] || fail "a second merge imported runs: $again"
echo "PASS: 4 runs submitted as array job $array, merged by job $merge"

# --- 2. SIGTERM to a running task: it checkpoints, Slurm requeues it, it resumes.
cat >"$tmp/requeue.json" <<'EOF'
{"name": "requeue", "base": {"method": "omniquant", "weights": {"bits": 2, "group_size": 64},
  "omniquant": {"epochs": 3}, "calibration": {"samples": 32, "seq_len": 128}, "eval": {"max_windows": 2},
  "diagnostics": {"enabled": false}}}
EOF
hash=$("$quantscope" sweep plan "$tmp/requeue.json" --json | json_field hash)
submitted=$("$quantscope" sweep submit "$tmp/requeue.json" --workspace "$ws" --cpus 2 --json)
array=$(json_field array_job <<<"$submitted")
merge=$(json_field merge_job <<<"$submitted")
checkpoint=$ws/shards/$hash/runs/1/resume/checkpoint.json
for ((i = 0; i < 1200; i++)); do
  grep -qs '"blocks_done": [2-5],' "$checkpoint" && break
  sleep 0.1
done
grep -qs '"blocks_done": [2-5],' "$checkpoint" || fail "task ${array}_0 wrote no checkpoint after block 2"
scancel --signal=TERM --batch "${array}_0"
echo "sent SIGTERM to ${array}_0 after block $(json_field blocks_done <"$checkpoint")"
merged_state=$(wait_for_end "$merge" 300)
log=$ws/sweeps/requeue/logs/task_0.out
[ "$merged_state" = COMPLETED ] || fail "merge job $merge: $merged_state; $(cat "$log")"
grep -q "requeued Slurm job ${array}_0" "$log" || fail "the task did not requeue itself: $(cat "$log")"
grep -q "resuming after block [2-5]/6" "$log" || fail "the requeued task did not resume: $(cat "$log")"
grep -q "run 1 resumed and finished" "$log" || fail "the resumed task did not finish: $(cat "$log")"
restarts=$(scontrol show job "${array}_0" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
[ "${restarts:-0}" -ge 1 ] || fail "Slurm shows no restart of ${array}_0"
finished=$("$quantscope" runs list --workspace "$ws" --json | grep -c '"status": "finished"' || true)
[ "$finished" -eq 5 ] || fail "the main catalog has $finished finished runs, not 5"
echo "PASS: task ${array}_0 stopped by SIGTERM, requeued by Slurm ($restarts restart), resumed and merged"
