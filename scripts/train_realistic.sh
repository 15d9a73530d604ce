#!/usr/bin/env bash
# Teacher, distilled student and the paper's "w/o KT" pair on realistic synthesis, resumably.
#
#   scripts/train_realistic.sh [PHOTOS] [REAL_PAIRS] [OUT] [STEPS] [CONFIG]
#
# PHOTOS (../shared/data/photos-train) are synthesised into training sequences with CONFIG
# (configs/realistic-small.toml; configs/realistic-medium.toml for the `medium` size);
# REAL_PAIRS (../shared/data/real-pairs) are only validated on, and pick each student's best
# weights (the teacher sees three views: it keeps its last). Stages, each in its own folder
# under OUT (runs/realistic):
#   teacher        STEPS steps on three-view synthetic sequences
#   student-kt     the student distilled from it, STEPS steps    } the ablation pair:
#   student-alone  the same student without the teacher          } same data, same budget
# A finished stage is skipped; an interrupted one resumes (--resume starts or continues).
set -euo pipefail
PHOTOS=${1:-../shared/data/photos-train}
PAIRS=${2:-../shared/data/real-pairs}
OUT=${3:-runs/realistic}
STEPS=${4:-800}
CONFIG=${5:-configs/realistic-small.toml}
VAL=(--val-data "$PAIRS/real20" --val-data "$PAIRS/nature20" --val-data "$PAIRS/kim2020" --val-data "$PAIRS/locaware")
DECAY=$(( STEPS * 3 / 4 / 100 ))   # x0.1 for the last quarter (epochs of 100 steps)

stage() {
    local dir=$1 name=$2; shift 2
    [ -f "$dir/$name.safetensors" ] && { echo "$dir: done"; return; }
    declare-photo train "$name" --config "$CONFIG" --data "$PHOTOS" --out "$dir" \
        --steps "$STEPS" --lr-decay-every "$DECAY" --resume -q "$@"
}

stage "$OUT/teacher" teacher --perceptual off
stage "$OUT/student-kt" student --teacher "$OUT/teacher/teacher.safetensors" "${VAL[@]}"
stage "$OUT/student-alone" student --ablate no-transfer "${VAL[@]}"
