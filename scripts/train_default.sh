#!/usr/bin/env bash
# Train the shipped default model and the paper's "w/o KT" ablation, resumably.
#
#   scripts/train_default.sh [DATA] [OUT]
#
# DATA defaults to ../shared/data/photos (synthetic sequences are made from it);
# OUT to runs/default. Stages, in order, each in its own folder under OUT:
#   teacher        2,000 steps on three-view synthetic sequences
#   student-kt     distilled student, 1,500 steps    } the ablation pair:
#   student-alone  same student, no transfer loss    } same data, same budget
#   student        distilled student, 3,000 steps: the shipped default
# A finished stage is skipped; an interrupted one resumes from its checkpoint.
set -euo pipefail
DATA=${1:-../shared/data/photos}
OUT=${2:-runs/default}
CONFIG=configs/default-small.toml
TEACHER="$OUT/teacher/teacher.safetensors"
ABLATION="--epochs 15 --lr-decay-every 11"   # 1,500 steps, x0.1 after 1,100
SHIP="--epochs 30 --lr-decay-every 22"       # 3,000 steps, x0.1 after 2,200

# stage DIR NAME ARGS...: run `declare train NAME` into DIR unless it finished.
stage() {
    local dir=$1 name=$2; shift 2
    [ -f "$dir/$name.safetensors" ] && { echo "$dir: done"; return; }
    local resume=(); [ -d "$dir/checkpoints" ] && resume=(--resume)
    declare-photo train "$name" --config "$CONFIG" --data "$DATA" --out "$dir" "$@" "${resume[@]}" -q
}

stage "$OUT/teacher" teacher
stage "$OUT/student-kt" student --teacher "$TEACHER" $ABLATION
stage "$OUT/student-alone" student --ablate no-transfer $ABLATION
stage "$OUT/student" student --teacher "$TEACHER" $SHIP
