#!/usr/bin/env bash
# Issue 33 item 7: burst results as real pairs in the student's mixture, against a control
# trained the same way without them (configs/burst-transfer.toml), then both scored beside
# the shipped default on the selection sets.
#   scripts/burst_transfer.sh DATA OUT [MAX_MINUTES]
set -euo pipefail
DATA=${1:-../shared/data}
OUT=${2:-runs/burst-transfer}
MINUTES=${3:-40}
[ -d "$OUT/pairs/blended" ] || python scripts/burst_pairs.py "$DATA/bursts" "$OUT/pairs"
run() {  # run NAME ARGS...: train into OUT/NAME unless done, resuming a stopped run
    local dir="$OUT/$1"; shift
    [ -f "$dir/student.safetensors" ] && return
    local resume=(); [ -d "$dir/checkpoints" ] && resume=(--resume)
    declare-photo train student --config configs/burst-transfer.toml --out "$dir" \
        --max-minutes "$MINUTES" -q "$@" "${resume[@]}"
}
run control --data "$DATA/photos-train"
run with-bursts --data "$DATA/photos-train" --data "$OUT/pairs" --data-weights 0.75 --data-weights 0.25
python scripts/selection_score.py "$DATA" medium "$OUT/control/student.safetensors" \
    "$OUT/with-bursts/student.safetensors"
