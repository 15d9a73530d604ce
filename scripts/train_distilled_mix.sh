#!/usr/bin/env bash
# Issue 22, item 6: the paper's distillation on the real-mix recipe. The teacher on three-view
# synthesis from photos-train, then the student distilled from it (configs/real-mix-kt.toml),
# chosen on real89-val + Nature + Kim et al. like the student alone (scripts/train_real_mix.sh).
# Resumable: run the same command again to continue (each stage stops at --max-minutes).
#   scripts/train_distilled_mix.sh DATA OUT [TEACHER_STEPS] [STUDENT_STEPS] [MINUTES_PER_STAGE]
#   scripts/train_distilled_mix.sh ../shared/data runs/kt-mix 3000 12600 45   (the student's cosine as medium-mix's)
set -euo pipefail
data=${1:?DATA folder}; out=${2:?OUT folder}
teacher_steps=${3:-3000}; student_steps=${4:-12600}; minutes=${5:-45}
if [ ! -f "$out/teacher/teacher.safetensors" ]; then
    python -m declare train teacher --config configs/realistic-medium.toml --data "$data/photos-train" \
        --out "$out/teacher" --steps "$teacher_steps" --lr-schedule cosine --lr-decay 0.01 \
        --perceptual off --max-minutes "$minutes" --resume -q
fi
[ -f "$out/teacher/teacher.safetensors" ] || { echo "teacher not finished; run again to continue"; exit 0; }
python -m declare train student --config configs/real-mix-kt.toml --teacher "$out/teacher/teacher.safetensors" \
    --data "$data/photos-train" --data "$data/real-train/real89" --data-weights 1 --data-weights 1 \
    --val-data "$data/real-pairs/nature20" --val-data "$data/real-pairs/kim2020" \
    --out "$out/student" --steps "$student_steps" --max-minutes "$minutes" --resume -q
