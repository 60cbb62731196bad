#!/usr/bin/env bash
# Shell pipelines over --json output (CI runs this with tiny settings). With jq installed, the Python
# one-liners below are simply `jq .total_params` and friends.
set -euo pipefail
py=${PYTHON:-python}

# 1. Parameters and MACs of each VGG, one line each, straight from the JSON.
for net in vgg11 vgg13 vgg16 vgg19; do
  dltool archcalc "$net" --json \
    | $py -c 'import json,sys; d=json.load(sys.stdin); print("{}\t{:>12,}\t{:.2f} GMACs".format(d["name"], d["total_params"], d["total_macs"]/1e9))'
done

# 2. The layer with the most weights in VGG19.
dltool archcalc vgg19 --json \
  | $py -c 'import json,sys; r=max(json.load(sys.stdin)["rows"], key=lambda r: r["weights"]); print("largest layer:", r["name"], r["formulas"]["weights"])'

# 3. How much the 1x1 reducers save in an Inception module at 28x28x192.
dltool archcalc inception --input 28x28x192 --json \
  | $py -c 'import json,sys; d=json.load(sys.stdin); print("inception saving: {:.1f} % ({:.2f}x)".format(d["saving_pct"], d["ratio"]))'

# 4. Which optimizers converge on the line fit (a short run, no run folder).
dltool fit-line --iterations "${ITERATIONS:-300}" --momentums "" --no-save --json \
  | $py -c 'import json,sys; [print("{:>9} lr={:<7g} {}".format(r["optimizer"], r["lr"], r["status"])) for r in json.load(sys.stdin)["runs"]]'
