#!/usr/bin/env bash
# gpu_check.sh — every GPU path of dltool, end to end, in at most 8 minutes on one GPU; a pass/fail table.
#
# STATUS: written and tested without a GPU (syntax, --dry-run, --rows, the no-GPU exit, and every row's verdict
# on recorded stand-ins for nvidia-smi and dltool). It has NOT run on a GPU yet: the first run on a GPU machine
# is its real test. Paste its table into the issue tracker.
#
# Each row is a real run, checked by reading what it wrote, and asserts the thing it names; a row the box cannot
# show (one GPU for a 2-GPU check, an option this version lacks) prints "skipped: why" (SKIP), never PASS.
# `--dry-run` lists every row with what it asserts and its time limit.
#
#   env                     (runs first, always) TensorFlow sees the GPUs, with a compute capability and code of
#                           this build that fits each (machine code, or PTX that the driver JIT-compiles), and a
#                           driver new enough; no GPU for TensorFlow ends the script with exit 3
#   warm-up                 untimed, outside the budget: the first use of the GPU kernels (fp32, fp16, bf16), and
#                           how long it took; on a GPU the build has only PTX for (H100: compute_90), the driver
#                           JIT-compiles every kernel here, once (cached: CUDA_CACHE_MAXSIZE is raised to 4 GiB)
#   mnist-fp16, -bf16       the fast99 CNN trains on the GPU in that precision to test accuracy >= 0.98; the GPU
#                           was busy while it ran (nvidia-smi sampled every 0.5 s)
#   scale-1gpu              scale on one physical GPU, not virtual (scale --no-virtual)
#   scale-2virtual          scale on 2 logical GPUs carved from one, labelled virtual
#   allreduce-nccl          NCCL all-reduce over 2 physical GPUs, measured and verified; skipped on one GPU
#   allreduce-hierarchical  HierarchicalCopyAllReduce on 2 logical GPUs, sums verified
#   cutout                  cutout train --quick on the GPU, every run at validation accuracy >= 0.18
#   benchmarks/gpu_path_checks.py, when present: one row per check (`gpu_path_checks.py --list`), each run in its
#                           own process under its own limit
#
# Usage: benchmarks/gpu_check.sh [--dry-run] [--rows NAME[,NAME]] [--keep DIR]
#   --dry-run          list the rows, what each asserts, its limit and command; run nothing (exit 0)
#   --rows NAME,...    run only these rows (names as --dry-run lists them; a gpu_path_checks.py check by its
#                      name, or path-checks for all of them); env always runs first
#   --keep DIR         keep every run folder and log under DIR (default: a temporary folder, removed at the end)
# Environment: DLTOOL (default "python -m dltool"), PYTHON (default python), DLTOOL_DATA_DIR (MNIST for the mnist
# rows, CIFAR-10 for cutout), GPU_CHECK_BUDGET_S (default 480: rows and path checks that would start past it fail
# as "not run", each by name; the warm-up is outside it), GPU_CHECK_LIMIT_FACTOR (default 1: multiplies every row's limit, for a slow disk or
# a shared GPU), GPU_CHECK_WARMUP_S (default 2400: the warm-up's limit; TensorFlow says a PTX JIT "could take 30
# minutes or longer"), GPU_CHECK_PATH_CHECKS (default benchmarks/gpu_path_checks.py).
# Exit: 0 all rows passed (or skipped), 1 a row failed, 2 bad usage, 3 no GPU.
set -u -o pipefail

PYTHON=${PYTHON:-python}
DLTOOL=${DLTOOL:-"$PYTHON -m dltool"}
BUDGET=${GPU_CHECK_BUDGET_S:-480}
FACTOR=${GPU_CHECK_LIMIT_FACTOR:-1}
WARMUP_LIMIT=${GPU_CHECK_WARMUP_S:-2400}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DRY=0
KEEP=""
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --keep) shift; KEEP=${1:-}; [ -n "$KEEP" ] || { echo "gpu_check.sh: error: --keep needs a folder" >&2; exit 2; } ;;
    --rows) shift; ONLY=${1:-}
            [ -n "$ONLY" ] || { echo "gpu_check.sh: error: --rows needs row names, e.g. --rows mnist-fp16" >&2; exit 2; } ;;
    --rows=*) ONLY=${1#--rows=} ;;
    -h|--help) sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_check.sh: error: unknown option $1. See 'benchmarks/gpu_check.sh --help'." >&2; exit 2 ;;
  esac
  shift
done
case "$FACTOR" in ''|*[!0-9.]*|*.*.*) echo "gpu_check.sh: error: GPU_CHECK_LIMIT_FACTOR must be a number, got '$FACTOR'" >&2
                               exit 2 ;; esac

# name | limit (s, on one GPU after the warm-up) | what it asserts | dltool arguments (the script adds --out, --json)
# Limits: each dltool process starts TensorFlow and CUDA (≈ 10 s) and traces its step. On one GPU (the nccl row
# skips) the rows after env sum to 335 s, and gpu_path_checks.py's checks, each in its own process under its own
# limit (its --list gives them; fp16_workers skips on one GPU), to 145 s: 480 s, the budget. Past the budget a row
# or check is not started and says so by name.
ROWS=(
  "env|45|TensorFlow sees every GPU with a compute capability; this build carries code for each (machine code, or PTX JIT with a warning); the driver is new enough for the build|env --tensorflow"
  "mnist-fp16|50|trains on the GPU (run's device GPU, nvidia-smi saw it busy) in fp16 to test accuracy >= 0.98; the loss scale moving: fp16_loss_scale|mnist cnn --preset fast99 --precision fp16"
  "mnist-bf16|50|trains on the GPU (run's device GPU, nvidia-smi saw it busy) in bf16 to test accuracy >= 0.98|mnist cnn --preset fast99 --precision bf16"
  "scale-1gpu|45|one physical GPU, not virtual: the 1-learner run is labelled non-virtual on GPU, finished, throughput > 0, GPU busy (skipped: needs scale --no-virtual, when this version lacks it)|scale --quick --gpus 1 --no-virtual"
  "scale-2virtual|75|2 logical GPUs carved from one: a finished 2-learner run labelled virtual on GPU, throughput > 0|scale --quick --gpus 2 --virtual"
  "allreduce-nccl|45|NCCL all-reduce over 2 physical GPUs (not virtual: no --quick, whose preset splits one device): the nccl row is measured (bus bandwidth > 0), sums verified; skipped on 1 GPU|allreduce --devices 2 --implementations nccl --workers 0 --no-train --model softmax --max-size 256K --iterations 3"
  "allreduce-hierarchical|40|HierarchicalCopyAllReduce on 2 logical GPUs of one card: every size measured, sums verified|allreduce --quick --devices 2 --virtual --implementations hierarchical-copy --workers 0 --no-train"
  "cutout|75|cutout train --quick on the GPU: every run finishes with validation accuracy >= 0.18 (chance 0.10; CPU measured 0.24-0.27)|cutout train --quick"
)
WARMUP_ASSERTS="untimed, outside the budget: the first use of the GPU kernels (fp32, fp16, bf16 conv steps) runs on the GPU; reports how long it took (a PTX JIT compile on GPUs without machine code in the build)"
PATH_CHECKS=${GPU_CHECK_PATH_CHECKS:-"$HERE/gpu_path_checks.py"}
PATH_LIMIT=60  # a path check whose --list gives no limit of its own

scaled() { "$PYTHON" -c "import sys; print(max(1, round(float(sys.argv[1]) * float(sys.argv[2]))))" "$1" "$FACTOR"; }

# the path checks' names and assertions ("name<TAB>asserts" lines), without TensorFlow
PATH_LIST=""
if [ -f "$PATH_CHECKS" ]; then
  PATH_LIST=$("$PYTHON" "$PATH_CHECKS" --list 2>/dev/null) || PATH_LIST=""
fi
ROW_NAMES=(warm-up)
for row in "${ROWS[@]}"; do ROW_NAMES+=("${row%%|*}"); done
PATH_NAMES=()
while IFS=$'\t' read -r pname _; do [ -n "$pname" ] && PATH_NAMES+=("$pname"); done <<<"$PATH_LIST"

# --rows: every name must be a row, a path check, or path-checks
WANT=()
if [ -n "$ONLY" ]; then
  IFS=',' read -r -a WANT <<<"$ONLY"
  for want in "${WANT[@]}"; do
    found=0
    for known in "${ROW_NAMES[@]}" ${PATH_NAMES[@]+"${PATH_NAMES[@]}"} path-checks; do [ "$want" = "$known" ] && found=1; done
    if [ "$found" = 0 ]; then
      echo "gpu_check.sh: error: --rows: no row named '$want'; the rows: ${ROW_NAMES[*]} ${PATH_NAMES[*]+${PATH_NAMES[*]}} path-checks" >&2
      exit 2
    fi
  done
fi
selected() {  # NAME → 0 when --rows is absent or names it
  [ -z "$ONLY" ] && return 0
  local want
  for want in "${WANT[@]}"; do [ "$want" = "$1" ] && return 0; done
  return 1
}
PATH_ONLY=()  # the path checks --rows asked for (empty: all, when path checks run at all)
RUN_PATH=1
if [ -n "$ONLY" ] && ! selected path-checks; then
  for pname in ${PATH_NAMES[@]+"${PATH_NAMES[@]}"}; do selected "$pname" && PATH_ONLY+=("$pname"); done
  [ "${#PATH_ONLY[@]}" -gt 0 ] || RUN_PATH=0
fi

if [ "$DRY" = 1 ]; then
  printf '%-24s %7s  %s\n' "row" "limit" "asserts / command"
  selected warm-up && printf '%-24s %7s  %s\n%-24s %7s  %s\n' "warm-up" "${WARMUP_LIMIT}s" "$WARMUP_ASSERTS" "" "" \
    "$PYTHON $PATH_CHECKS --warmup"
  for row in "${ROWS[@]}"; do
    IFS='|' read -r name limit asserts args <<<"$row"
    [ "$name" = env ] || selected "$name" || continue
    printf '%-24s %6ss  %s\n%-24s %7s  dltool %s\n' "$name" "$(scaled "$limit")" "$asserts" "" "" "$args"
  done
  if [ -f "$PATH_CHECKS" ] && [ "$RUN_PATH" = 1 ]; then
    while IFS=$'\t' read -r pname passerts plimit; do
      [ -n "$pname" ] || continue
      [ "${#PATH_ONLY[@]}" -eq 0 ] || selected "$pname" || continue
      printf '%-24s %6ss  %s\n' "$pname" "$(scaled "${plimit:-$PATH_LIMIT}")" "$passerts"
    done <<<"$PATH_LIST"
    printf '%-24s %7s  %s\n' "" "" "$PYTHON $PATH_CHECKS --only NAME (each check in its own process, under its limit)"
  elif [ ! -f "$PATH_CHECKS" ]; then
    printf '%-24s %7s  %s\n' "gpu_path_checks.py" "—" "not present: no rows"
  fi
  echo "total budget: ${BUDGET}s (the warm-up outside it)"
  exit 0
fi

# ---- is there a GPU? (nvidia-smi first: no TensorFlow import when there is plainly none)
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  echo "gpu_check.sh: no NVIDIA GPU on this machine (nvidia-smi missing or lists none). Run it on a GPU machine;" \
       "'benchmarks/gpu_check.sh --dry-run' lists what it runs." >&2
  exit 3
fi
# physical GPUs this run may use: the driver's, within CUDA_VISIBLE_DEVICES when it is set
GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
if [ -n "${CUDA_VISIBLE_DEVICES+x}" ]; then
  masked=$(echo "$CUDA_VISIBLE_DEVICES" | tr ',' '\n' | grep -c '[^[:space:]]')
  [ "$masked" -lt "$GPUS" ] && GPUS=$masked
fi
WORK=${KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")}
mkdir -p "$WORK"
SAMPLER=""
cleanup() { [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT
# TensorFlow's C++ warnings stay off (dltool says what matters itself); a PTX JIT's results are cached across the
# rows' processes only if the driver's cache holds them (its default, 256 MiB, does not hold TensorFlow's kernels)
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} MPLBACKEND=Agg CUDA_CACHE_MAXSIZE=${CUDA_CACHE_MAXSIZE:-4294967296}
NAMES=(); VERDICTS=(); SECONDS_=(); DETAILS=()
FAILED=0

add_row() {  # name verdict seconds detail
  NAMES+=("$1"); VERDICTS+=("$2"); SECONDS_+=("$3"); DETAILS+=("$4")
  [ "$2" = FAIL ] && FAILED=1
  printf '%-24s %-5s %5ss  %s\n' "$1" "$2" "$3" "$4" >&2
}

# the GPU the rows train on: TensorFlow's GPU:0, the first of CUDA_VISIBLE_DEVICES (an index or a UUID), else 0
SMI_ID=$(echo "${CUDA_VISIBLE_DEVICES:-}" | cut -d, -f1 | tr -d '[:space:]')
SMI_ID=${SMI_ID:-0}
sample_start() {  # FILE: nvidia-smi's utilisation (%) of that GPU every 0.5 s until sample_stop
  nvidia-smi -i "$SMI_ID" --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 500 >"$1" 2>/dev/null &
  SAMPLER=$!
}
sample_stop() {
  [ -n "$SAMPLER" ] || return 0
  kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=""
}

# ---- does TensorFlow see it? `dltool env --tensorflow` answers, and is the first row
t0=$(date +%s)
timeout "$(scaled 120)" $DLTOOL env --tensorflow --json >"$WORK/env.json" 2>"$WORK/env.log"
ENV_RC=$?
ENV_SECONDS=$(( $(date +%s) - t0 ))
if [ "$ENV_RC" = 0 ] && ! "$PYTHON" -c "import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get('gpus') else 1)" "$WORK/env.json"; then
  echo "gpu_check.sh: nvidia-smi sees a GPU but TensorFlow does not. Install the CUDA build: pip install -e '.[gpu]'" \
       "(tensorflow[and-cuda]) with a driver that supports it; 'dltool env --tensorflow' shows what TensorFlow sees." >&2
  "$PYTHON" -c "import json,sys; [print('gpu_check.sh: dltool env warns:', w) for w in json.load(open(sys.argv[1])).get('warnings') or []]" \
    "$WORK/env.json" >&2
  exit 3
fi
# dltool's log level hides TensorFlow's own warning about a PTX JIT: say it here, before the warm-up pays for it
"$PYTHON" - "$WORK/env.json" >&2 <<'PY'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit()
for g in doc.get("gpus") or []:
    if g.get("code_kind") == "ptx_jit":
        print(f"gpu_check.sh: GPU {g.get('index')} ({g.get('name')}, compute capability {g.get('compute_capability')}) "
              f"has no machine code in this TensorFlow build: its kernels are JIT-compiled from {g.get('code')} PTX on "
              "first use, which TensorFlow warns \"could take 30 minutes or longer\"; the warm-up pays it once "
              "(cached for the rows after it).")
PY

# check NAME JSON_FILE RUN_DIR → "PASS|detail" / "FAIL|detail" / "SKIP|detail" (reads what the run wrote)
check() {
  "$PYTHON" - "$1" "$2" "$3" "$WORK/env.json" <<'PY'
import json, sys
from pathlib import Path

name, out_file, run_dir, env_file = sys.argv[1:5]

def load(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None

def busy():
    """The highest GPU utilisation nvidia-smi sampled while the row ran; None when it gave no number (it prints
    [N/A] on MIG slices and some vGPUs): then nobody can tell, which is not "idle"."""
    try:
        values = [float(v) for v in Path(out_file).with_suffix(".smi").read_text().split() if v.replace(".", "", 1).isdigit()]
    except OSError:
        return None
    return max(values) if values else None

doc = load(out_file)
if doc is None:
    print(f"FAIL|no JSON on stdout (see {Path(out_file).with_suffix('.log')})"); sys.exit()
saved = load(Path(run_dir) / "results.json") or {}
devices = (saved.get("environment") or doc.get("environment") or {}).get("devices") or {}
on_gpu = devices.get("device_type") == "GPU"
util = busy()
util_text = ("GPU busy: cannot tell (nvidia-smi gave no utilisation, e.g. [N/A] on MIG or vGPU)" if util is None
             else "GPU idle while it ran" if not util else f"GPU busy up to {util:g} %")
busy_ok = util is None or util > 0  # no number is "cannot tell", reported, and fails nothing on its own
if name == "env":
    gpus = doc.get("gpus") or []
    old = [w for w in doc.get("warnings") or [] if "older than" in w]
    kinds = {"machine_code": "machine code", "ptx_jit": "PTX JIT", "none": "NO CODE"}
    ok = (bool(gpus) and all(g.get("compute_capability") for g in gpus)
          and all(g.get("code_kind") in ("machine_code", "ptx_jit") for g in gpus) and not old)
    text = "; ".join(f"{g.get('name')} cc {g.get('compute_capability')} "
                     f"{kinds.get(g.get('code_kind'), 'code unknown')}" for g in gpus) or "TensorFlow sees no GPU"
    print(f"{'PASS' if ok else 'FAIL'}|{text}; driver {doc.get('driver_version')}; NCCL: "
          f"{(doc.get('nccl') or {}).get('detail')}" + ("; " + old[0][:160] if old else ""))
elif name.startswith("mnist"):
    runs = doc.get("runs") or []
    acc = runs[0].get("test_accuracy") if runs else None
    precision = (saved.get("environment") or {}).get("precision") or doc.get("config", {}).get("precision")
    want = name.split("-")[-1]
    ok = on_gpu and busy_ok and acc is not None and acc >= 0.98 and precision == want
    secs = runs[0].get("train_seconds") if runs else None
    print(f"{'PASS' if ok else 'FAIL'}|device {devices.get('device_type')}, {util_text}, precision {precision}, "
          f"test accuracy {acc} (want >= 0.98), {secs and round(secs, 1)} s training, "
          f"status {runs[0].get('status') if runs else None}")
elif name.startswith("scale"):
    runs = doc.get("runs") or []
    labels = sorted({str(r.get("devices")) for r in runs})
    ok = bool(runs) and all("GPU" in str(r.get("devices")) and (r.get("throughput") or 0) > 0
                            and r.get("status") == "finished" for r in runs)
    if name == "scale-2virtual":
        ok = ok and any(r.get("learners") == 2 and r.get("virtual") for r in runs)
    else:  # one physical GPU: no virtual label anywhere, and the GPU did the work
        ok = ok and all(r.get("learners") == 1 and not r.get("virtual") for r in runs) and busy_ok
    best = max((r.get("throughput") or 0 for r in runs), default=0)
    virtual = sorted({bool(r.get("virtual")) for r in runs})
    print(f"{'PASS' if ok else 'FAIL'}|{len(runs)} runs on {', '.join(labels)} (virtual: {virtual}); best "
          f"{best:,.0f} examples/s; {util_text}")
elif name.startswith("allreduce"):
    impl = "nccl" if name.endswith("nccl") else "hierarchical-copy"
    rows = [r for r in doc.get("bus") or [] if r.get("implementation") == impl and r.get("devices") == 2]
    bad = [r for r in rows if r.get("status") != "ok" or not r.get("verified") or not (r.get("busbw") or 0) > 0]
    ok = bool(rows) and not bad and doc.get("device_type") == "GPU"
    if impl == "nccl":  # physical GPUs only: a virtual row is no test of NCCL
        ok = ok and not any(r.get("virtual") for r in rows)
    peak = max((r.get("busbw") or 0 for r in rows), default=0)
    reason = "; ".join(sorted({f"{r.get('status')}: {r.get('reason')}" for r in bad}))[:200]
    print(f"{'PASS' if ok else 'FAIL'}|{impl}: {len(rows)} sizes on 2 {doc.get('device_type')}s, measured and "
          f"verified {len(rows) - len(bad)}/{len(rows)}, peak bus bandwidth {peak / 1e9:.2f} GB/s"
          + (f"; {reason}" if bad else "") + ("" if rows else "; no row for it"))
elif name == "cutout":
    runs = doc.get("runs") or []
    accs = [r.get("final_val_accuracy") for r in runs]
    ok = (on_gpu and bool(runs) and all(r.get("status") in ("finished", "target reached") for r in runs)
          and all(a is not None and a >= 0.18 for a in accs))
    print(f"{'PASS' if ok else 'FAIL'}|device {devices.get('device_type')}, {util_text}, {len(runs)} runs, "
          f"status {[r.get('status') for r in runs]}, val accuracy {accs} (want each >= 0.18)")
else:
    print("FAIL|no check for this row")
PY
}

# ---- warm-up: untimed, once, before the budget's clock starts
if selected warm-up; then
  if [ -f "$PATH_CHECKS" ]; then
    t0=$(date +%s)
    timeout "$WARMUP_LIMIT" "$PYTHON" "$PATH_CHECKS" --warmup >"$WORK/warm-up.jsonl" 2>"$WORK/warm-up.log"
    rc=$?
    took=$(( $(date +%s) - t0 ))
    line=$(grep '^{' "$WORK/warm-up.jsonl" | tail -1)
    if [ "$rc" = 124 ]; then add_row warm-up FAIL "$took" "timed out after ${WARMUP_LIMIT}s (GPU_CHECK_WARMUP_S)"
    elif [ -z "$line" ]; then add_row warm-up FAIL "$took" "exit $rc: $(tail -1 "$WORK/warm-up.log" | cut -c1-160)"
    else
      verdict=$("$PYTHON" -c "import json,sys; r=json.loads(sys.argv[1]); print({True:'PASS',False:'FAIL',None:'SKIP'}.get(r.get('ok'),'FAIL')+'|'+' '.join(str(r.get('detail','')).split())[:240])" "$line")
      add_row warm-up "${verdict%%|*}" "$took" "first use took ${took}s in all; ${verdict#*|}"
    fi
  else
    add_row warm-up SKIP 0 "skipped: $PATH_CHECKS not present"
  fi
fi

START=$(date +%s)
for row in "${ROWS[@]}"; do
  IFS='|' read -r name limit _ args <<<"$row"
  [ "$name" = env ] || selected "$name" || continue
  limit=$(scaled "$limit")
  if [ "$name" = allreduce-nccl ] && [ "$GPUS" -lt 2 ]; then
    add_row "$name" SKIP 0 "skipped: NCCL all-reduce needs ≥ 2 physical GPUs (this box has $GPUS); two ranks on one GPU are no test of NCCL"
    continue
  fi
  if [ "$name" = scale-1gpu ] && ! $DLTOOL scale --help 2>/dev/null | grep -q -- '--no-virtual'; then
    add_row "$name" SKIP 0 "skipped: needs \`scale --no-virtual\`, not in this version (scale --quick always splits the GPU into virtual learners)"
    continue
  fi
  left=$((BUDGET - ($(date +%s) - START)))
  if [ "$name" != env ] && [ "$left" -lt 15 ]; then add_row "$name" FAIL 0 "not run: the ${BUDGET}s budget was spent"; continue; fi
  [ "$name" != env ] && [ "$limit" -gt "$left" ] && limit=$left
  slug=$name
  if [ "$name" = env ]; then  # ran above
    rc=$ENV_RC; took=$ENV_SECONDS
  else
    t0=$(date +%s)
    sample_start "$WORK/$slug.smi"
    # shellcheck disable=SC2086  # the arguments are meant to split
    timeout "$limit" $DLTOOL $args --json --out "$WORK/$slug" >"$WORK/$slug.json" 2>"$WORK/$slug.log"
    rc=$?
    sample_stop
    took=$(( $(date +%s) - t0 ))
  fi
  if [ "$rc" = 124 ]; then add_row "$name" FAIL "$took" "timed out after ${limit}s ($WORK/$slug.log)"; continue; fi
  if [ "$rc" != 0 ]; then
    add_row "$name" FAIL "$took" "exit $rc: $(grep -v '^\s*$' "$WORK/$slug.log" | tail -1 | cut -c1-160)"
    continue
  fi
  verdict=$(check "$name" "$WORK/$slug.json" "$WORK/$slug")
  add_row "$name" "${verdict%%|*}" "$took" "${verdict#*|}"
done

if [ -f "$PATH_CHECKS" ] && [ "$RUN_PATH" = 1 ]; then  # each check in its own process, under its own limit
  while IFS=$'\t' read -r pname _ plimit; do
    [ -n "$pname" ] || continue
    [ "${#PATH_ONLY[@]}" -eq 0 ] || selected "$pname" || continue
    plimit=$(scaled "${plimit:-$PATH_LIMIT}")
    left=$((BUDGET - ($(date +%s) - START)))
    if [ "$left" -lt 10 ]; then add_row "$pname" FAIL 0 "not run: the ${BUDGET}s budget was spent"; continue; fi
    [ "$plimit" -gt "$left" ] && plimit=$left
    t0=$(date +%s)
    timeout "$plimit" "$PYTHON" "$PATH_CHECKS" --only "$pname" </dev/null >"$WORK/path-$pname.jsonl" 2>"$WORK/path-$pname.log"
    rc=$?
    took=$(( $(date +%s) - t0 ))
    line=$(grep '^{' "$WORK/path-$pname.jsonl" | tail -1)
    if [ "$rc" = 124 ]; then add_row "$pname" FAIL "$took" "timed out after ${plimit}s ($WORK/path-$pname.log)"
    elif [ -z "$line" ]; then add_row "$pname" FAIL "$took" "exit $rc: $(tail -1 "$WORK/path-$pname.log" | cut -c1-160)"
    else
      verdict=$("$PYTHON" -c "import json,sys; r=json.loads(sys.argv[1]); print({True:'PASS',False:'FAIL',None:'SKIP'}.get(r.get('ok'),'FAIL')+'|'+' '.join(str(r.get('detail','')).split())[:200])" "$line")
      add_row "$pname" "${verdict%%|*}" "$took" "${verdict#*|}"
    fi
  done <<<"$PATH_LIST"
fi

total=$(( $(date +%s) - START ))
echo
printf '| %-24s | %-6s | %6s | %s\n' "check" "result" "time" "detail |"
printf '|%s|%s|%s|%s\n' "--------------------------" "--------" "--------" "--------|"
for i in "${!NAMES[@]}"; do
  printf '| %-24s | %-6s | %5ss | %s |\n' "${NAMES[$i]}" "${VERDICTS[$i]}" "${SECONDS_[$i]}" "${DETAILS[$i]//|//}"
done
echo
echo "total ${total}s of ${BUDGET}s after the warm-up; $( [ "$FAILED" = 0 ] && echo "all passed" || echo "FAILED" )${KEEP:+; run folders and logs in $KEEP}"
exit "$FAILED"
