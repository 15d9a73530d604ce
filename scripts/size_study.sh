#!/usr/bin/env bash
# Quality against cost for several student sizes (docs/size-study.png, README "Model sizes").
#
#   scripts/size_study.sh [PHOTOS] [REAL_PAIRS] [OUT] [STEPS]
#
# Each size (the `small` and `medium` presets, configs/sizes/*.json) is trained alone on the default
# synthesis from PHOTOS (../shared/data/photos-train) with the same seed, steps and batches,
# validated every 200 steps on the real pairs at 384 px, which pick its best weights; then all
# are scored at full resolution on every real set (bench quality), timed side by side at 12 MP
# on this machine (bench speed), and plotted (bench tradeoff). Finished steps are skipped and an
# interrupted run resumes, so the script can be run again until it completes.
set -euo pipefail
PHOTOS=${1:-../shared/data/photos-train}
PAIRS=${2:-../shared/data/real-pairs}
OUT=${3:-runs/sizes}
STEPS=${4:-1000}
SIZES=(small wide-thin medium large)
SETS=(real20 nature20 kim2020 locaware)
VAL=(); DATA=(); MODELS=()
for s in "${SETS[@]}"; do VAL+=(--val-data "$PAIRS/$s"); DATA+=(--data "$PAIRS/$s"); done

for size in "${SIZES[@]}"; do
    preset=$size; [ -f "configs/sizes/$size.json" ] && preset=configs/sizes/$size.json
    MODELS+=(--model "$OUT/$size/student.safetensors")
    [ -f "$OUT/$size/student.safetensors" ] && continue
    declare-photo train student --ablate no-transfer --perceptual off --preset "$preset" \
        --data "$PHOTOS" "${VAL[@]}" --crop 128 --batch-size 8 --steps "$STEPS" --lr 2e-4 \
        --val-every 200 --checkpoint-every 200 --val-size 384 --log-every 50 --seed 0 \
        --out "$OUT/$size" -q --resume
done

[ -f "$OUT/quality.json" ] || declare-photo bench quality "${DATA[@]}" "${MODELS[@]}" --baseline yang2019 \
    --json "$OUT/quality.json"
[ -f "$OUT/speed.json" ] || declare-photo bench speed "${MODELS[@]}" --baseline yang2019 --sizes 12 --repeats 2 \
    --json "$OUT/speed.json"
declare-photo bench tradeoff --quality "$OUT/quality.json" --speed "$OUT/speed.json" --megapixels 12 \
    --title "student sizes on real pairs (Real20, Nature, Kim et al., Location-aware), 2-core CPU" \
    --plot docs/size-study.png --json "$OUT/tradeoff.json"
