#!/usr/bin/env bash
# Train the shipped default model and its "w/o KT" ablation, resumably.
#
#   scripts/train_default.sh [DATA] [OUT]
#
# DATA defaults to ../shared/data/photos (synthetic sequences are made from it);
# OUT to runs/default. Re-running continues whatever stage was interrupted.
set -euo pipefail
DATA=${1:-../shared/data/photos}
OUT=${2:-runs/default}
CONFIG=configs/default-small.toml

resume() { [ -d "$1/checkpoints" ] && echo --resume || true; }

declare-photo train teacher --config "$CONFIG" --data "$DATA" --out "$OUT/teacher" $(resume "$OUT/teacher") -q
declare-photo train student --config "$CONFIG" --data "$DATA" --out "$OUT/student" \
    --teacher "$OUT/teacher/teacher.safetensors" $(resume "$OUT/student") -q
declare-photo train student --config "$CONFIG" --data "$DATA" --out "$OUT/student-alone" \
    --ablate no-transfer $(resume "$OUT/student-alone") -q
