#!/usr/bin/env bash
# gpu_check.sh — every GPU path of dltool, end to end, in at most 8 minutes on one GPU; a pass/fail table.
#
# STATUS: written and tested without a GPU (syntax, --dry-run, the no-GPU exit). It has NOT run on a GPU yet:
# the first run on a GPU machine is its real test. Paste its table into the issue tracker.
#
# Rows (each a real dltool run with --json, checked by reading what it wrote):
#   env                 dltool env --tensorflow: TensorFlow sees the GPU (name, compute capability); it runs
#                       first, and no GPU for TensorFlow ends the script with exit 3
#   mnist fp16          mnist cnn --preset fast99 --precision fp16: ran on the GPU, test accuracy ≥ 0.98
#   mnist bf16          the same in bf16
#   scale 1 GPU         scale --quick --gpus 1: the GPU learner trained, throughput > 0
#   scale 2 virtual     scale --quick --gpus 2 --virtual: two logical GPUs carved from one
#   allreduce nccl      allreduce --implementations nccl on 2 logical GPUs: sums verified; an "unavailable" row
#                       (not a failure) with the reason when `dltool env` found NCCL unusable, or when NCCL
#                       refuses two ranks on one physical GPU ("Duplicate GPU detected")
#   allreduce hier.     allreduce --implementations hierarchical-copy on 2 logical GPUs: sums verified
#   cutout quick        cutout train --quick on the GPU
#   benchmarks/gpu_path_checks.py, when present: one row per JSON line {"check", "ok": true|false|null, "detail"}
#
# Usage: benchmarks/gpu_check.sh [--dry-run] [--keep DIR]
#   --dry-run   list the rows and their commands, run nothing (exit 0)
#   --keep DIR  keep every run folder and log under DIR (default: a temporary folder, removed at the end)
# Environment: DLTOOL (default "python -m dltool"), PYTHON (default python), DLTOOL_DATA_DIR (MNIST for the mnist
# rows, CIFAR-10 for cutout), GPU_CHECK_BUDGET_S (default 480: rows that would start past it fail as "not run"),
# GPU_CHECK_PATH_CHECKS (default benchmarks/gpu_path_checks.py).
# Exit: 0 all rows passed (or skipped / unavailable), 1 a row failed, 2 bad usage, 3 no GPU.
set -u -o pipefail

PYTHON=${PYTHON:-python}
DLTOOL=${DLTOOL:-"$PYTHON -m dltool"}
BUDGET=${GPU_CHECK_BUDGET_S:-480}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DRY=0
KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --keep) shift; KEEP=${1:-}; [ -n "$KEEP" ] || { echo "gpu_check.sh: error: --keep needs a folder" >&2; exit 2; } ;;
    -h|--help) sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_check.sh: error: unknown option $1. See 'benchmarks/gpu_check.sh --help'." >&2; exit 2 ;;
  esac
  shift
done

# name | per-row limit (s) | dltool arguments (the script adds --out and --json)
ROWS=(
  "env|60|env --tensorflow"
  "mnist fp16|90|mnist cnn --preset fast99 --precision fp16"
  "mnist bf16|90|mnist cnn --preset fast99 --precision bf16"
  "scale 1 GPU|60|scale --quick --gpus 1"
  "scale 2 virtual GPUs|60|scale --quick --gpus 2 --virtual"
  "allreduce nccl|45|allreduce --quick --devices 2 --virtual --implementations nccl --workers 0 --no-train"
  "allreduce hierarchical-copy|45|allreduce --quick --devices 2 --virtual --implementations hierarchical-copy --workers 0 --no-train"
  "cutout train --quick|60|cutout train --quick"
)
PATH_CHECKS=${GPU_CHECK_PATH_CHECKS:-"$HERE/gpu_path_checks.py"}

if [ "$DRY" = 1 ]; then
  printf '%-30s %6s  %s\n' "row" "limit" "command"
  for row in "${ROWS[@]}"; do
    IFS='|' read -r name limit args <<<"$row"
    printf '%-30s %5ss  dltool %s\n' "$name" "$limit" "$args"
  done
  if [ -f "$PATH_CHECKS" ]; then
    printf '%-30s %6s  %s\n' "gpu_path_checks.py (each line)" "rest" "$PYTHON $PATH_CHECKS"
  else
    printf '%-30s %6s  %s\n' "gpu_path_checks.py" "—" "not present: no rows"
  fi
  echo "total budget: ${BUDGET}s"
  exit 0
fi

# ---- is there a GPU? (nvidia-smi first: no TensorFlow import when there is plainly none)
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  echo "gpu_check.sh: no NVIDIA GPU on this machine (nvidia-smi missing or lists none). Run it on a GPU machine;" \
       "'benchmarks/gpu_check.sh --dry-run' lists what it runs." >&2
  exit 3
fi
WORK=${KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")}
mkdir -p "$WORK"
[ -n "$KEEP" ] || trap 'rm -rf "$WORK"' EXIT
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} MPLBACKEND=Agg
START=$(date +%s)
NAMES=(); VERDICTS=(); SECONDS_=(); DETAILS=()
FAILED=0

# ---- does TensorFlow see it? `dltool env --tensorflow` answers, and is the first row
timeout 120 $DLTOOL env --tensorflow --json >"$WORK/env.json" 2>"$WORK/env.log"
ENV_RC=$?
ENV_SECONDS=$(( $(date +%s) - START ))
if [ "$ENV_RC" = 0 ] && ! "$PYTHON" -c "import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get('gpus') else 1)" "$WORK/env.json"; then
  echo "gpu_check.sh: nvidia-smi sees a GPU but TensorFlow does not. Install the CUDA build: pip install -e '.[gpu]'" \
       "(tensorflow[and-cuda]) with a driver that supports it; 'dltool env --tensorflow' shows what TensorFlow sees." >&2
  exit 3
fi

add_row() {  # name verdict seconds detail
  NAMES+=("$1"); VERDICTS+=("$2"); SECONDS_+=("$3"); DETAILS+=("$4")
  [ "$2" = FAIL ] && FAILED=1
  printf '%-30s %-11s %5ss  %s\n' "$1" "$2" "$3" "$4" >&2
}

# check NAME JSON_FILE RUN_DIR → "PASS|detail" / "FAIL|detail" / "UNAVAILABLE|detail" (reads what the run wrote)
check() {
  "$PYTHON" - "$1" "$2" "$3" "$WORK/env.json" <<'PY'
import json, sys
from pathlib import Path

name, out_file, run_dir, env_file = sys.argv[1:5]

def load(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        return None

doc = load(out_file)
env = load(env_file) or {}
nccl = env.get("nccl") or {}
failed = doc is None or any(r.get("status") != "ok" or not r.get("verified") for r in doc.get("bus") or [{}])
if name.endswith("nccl") and failed and nccl.get("usable") is False:
    print(f"UNAVAILABLE|NCCL unusable here: {nccl.get('detail')}"); sys.exit()
log = Path(out_file).with_suffix(".log")
log_text = log.read_text(errors="replace") if log.exists() else ""
if name.endswith("nccl") and failed and ("Duplicate GPU" in log_text or "ncclInvalidUsage" in log_text):
    print("UNAVAILABLE|NCCL refuses two ranks on one physical GPU (2 logical GPUs carved from 1); "
          "needs 2 physical GPUs"); sys.exit()
if doc is None:
    print(f"FAIL|no JSON on stdout (see {Path(out_file).with_suffix('.log')})"); sys.exit()
saved = load(Path(run_dir) / "results.json") or {}
devices = (saved.get("environment") or doc.get("environment") or {}).get("devices") or {}
on_gpu = devices.get("device_type") == "GPU"
if name == "env":
    gpus = doc.get("gpus") or []
    ok = bool(gpus) and all(g.get("compute_capability") for g in gpus)
    text = "; ".join(f"{g.get('name')} cc {g.get('compute_capability')}" for g in gpus) or "TensorFlow sees no GPU"
    print(f"{'PASS' if ok else 'FAIL'}|{text}; NCCL: {doc.get('nccl', {}).get('detail')}")
elif name.startswith("mnist"):
    runs = doc.get("runs") or []
    acc = runs[0].get("test_accuracy") if runs else None
    precision = (saved.get("environment") or {}).get("precision") or doc.get("config", {}).get("precision")
    want = name.split()[-1]
    ok = on_gpu and acc is not None and acc >= 0.98 and precision == want
    secs = runs[0].get("train_seconds") if runs else None
    print(f"{'PASS' if ok else 'FAIL'}|device {devices.get('device_type')}, precision {precision}, "
          f"test accuracy {acc}, {secs and round(secs, 1)} s training, status {runs[0].get('status') if runs else None}")
elif name.startswith("scale"):
    runs = doc.get("runs") or []
    labels = sorted({str(r.get("devices")) for r in runs})
    ok = bool(runs) and all("GPU" in str(r.get("devices")) and (r.get("throughput") or 0) > 0
                            and r.get("status") == "finished" for r in runs)
    if "virtual" in name:
        ok = ok and any(r.get("learners") == 2 and r.get("virtual") for r in runs)
    best = max((r.get("throughput") or 0 for r in runs), default=0)
    print(f"{'PASS' if ok else 'FAIL'}|{len(runs)} runs on {', '.join(labels)}; best {best:,.0f} examples/s")
elif name.startswith("allreduce"):
    rows = doc.get("bus") or []
    bad = [r for r in rows if r.get("status") != "ok" or not r.get("verified")]
    ok = bool(rows) and not bad and doc.get("device_type") == "GPU"
    peak = max((r.get("busbw") or 0 for r in rows), default=0)
    reason = "; ".join(sorted({str(r.get("reason")) for r in bad}))[:160]
    print(f"{'PASS' if ok else 'FAIL'}|{len(rows)} sizes on {doc.get('device_type')}, sums verified "
          f"{len(rows) - len(bad)}/{len(rows)}, peak bus bandwidth {peak / 1e9:.2f} GB/s" + (f"; {reason}" if bad else ""))
elif name.startswith("cutout"):
    runs = doc.get("runs") or []
    acc = runs[0].get("final_val_accuracy") if runs else None
    ok = on_gpu and bool(runs) and all(r.get("status") in ("finished", "target reached") for r in runs)
    print(f"{'PASS' if ok else 'FAIL'}|device {devices.get('device_type')}, {len(runs)} runs, "
          f"status {[r.get('status') for r in runs]}, val accuracy {acc}")
else:
    print("FAIL|no check for this row")
PY
}

for row in "${ROWS[@]}"; do
  IFS='|' read -r name limit args <<<"$row"
  slug=$(echo "$name" | tr -c 'A-Za-z0-9\n' '-')
  left=$((BUDGET - ($(date +%s) - START)))
  if [ "$left" -lt 15 ]; then add_row "$name" FAIL 0 "not run: the ${BUDGET}s budget was spent"; continue; fi
  [ "$limit" -gt "$left" ] && limit=$left
  t0=$(date +%s)
  if [ "$name" = env ]; then  # ran above
    rc=$ENV_RC; took=$ENV_SECONDS
  else
    # shellcheck disable=SC2086  # the arguments are meant to split
    timeout "$limit" $DLTOOL $args --json --out "$WORK/$slug" >"$WORK/$slug.json" 2>"$WORK/$slug.log"
    rc=$?
    took=$(( $(date +%s) - t0 ))
  fi
  if [ "$rc" = 124 ]; then add_row "$name" FAIL "$took" "timed out after ${limit}s ($WORK/$slug.log)"; continue; fi
  verdict=$(check "$name" "$WORK/$slug.json" "$WORK/$slug")
  if [ "$rc" != 0 ] && [ "${verdict%%|*}" != UNAVAILABLE ]; then
    add_row "$name" FAIL "$took" "exit $rc: $(grep -v '^\s*$' "$WORK/$slug.log" | tail -1 | cut -c1-160)"
  else
    add_row "$name" "${verdict%%|*}" "$took" "${verdict#*|}"
  fi
done

if [ -f "$PATH_CHECKS" ]; then
  left=$((BUDGET - ($(date +%s) - START)))
  if [ "$left" -lt 15 ]; then
    add_row "gpu_path_checks.py" FAIL 0 "not run: the ${BUDGET}s budget was spent"
  else
    t0=$(date +%s)
    timeout "$left" "$PYTHON" "$PATH_CHECKS" >"$WORK/path_checks.jsonl" 2>"$WORK/path_checks.log"
    rc=$?
    took=$(( $(date +%s) - t0 ))
    while IFS=$'\t' read -r cname cverdict cdetail; do
      add_row "$cname" "$cverdict" "$took" "$cdetail"
    done < <("$PYTHON" - "$WORK/path_checks.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.strip()
    if not line.startswith("{"):
        continue
    try:
        row = json.loads(line)
    except ValueError:
        continue
    verdict = {True: "PASS", False: "FAIL", None: "SKIP"}.get(row.get("ok"), "FAIL")
    detail = " ".join(str(row.get("detail", "")).split())[:200]
    print(f"{row.get('check', '?')}\t{verdict}\t{detail}")
PY
)
    if [ "$rc" = 124 ]; then add_row "gpu_path_checks.py" FAIL "$took" "timed out after ${left}s"
    elif [ "$rc" != 0 ] && ! grep -q . "$WORK/path_checks.jsonl"; then
      add_row "gpu_path_checks.py" FAIL "$took" "exit $rc: $(tail -1 "$WORK/path_checks.log" | cut -c1-160)"
    elif [ "$rc" != 0 ]; then FAILED=1
    fi
  fi
fi

total=$(( $(date +%s) - START ))
echo
printf '| %-30s | %-11s | %6s | %s\n' "check" "result" "time" "detail |"
printf '|%s|%s|%s|%s\n' "--------------------------------" "-------------" "--------" "--------|"
for i in "${!NAMES[@]}"; do
  printf '| %-30s | %-11s | %5ss | %s |\n' "${NAMES[$i]}" "${VERDICTS[$i]}" "${SECONDS_[$i]}" "${DETAILS[$i]//|//}"
done
echo
echo "total ${total}s of ${BUDGET}s; $( [ "$FAILED" = 0 ] && echo "all passed" || echo "FAILED" )${KEEP:+; run folders and logs in $KEEP}"
exit "$FAILED"
