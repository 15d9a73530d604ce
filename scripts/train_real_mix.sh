#!/usr/bin/env bash
# Issue 22's student recipe (configs/real-mix.toml): real89 pairs beside synthesis, EMA, cosine,
# chosen on real89-val + Nature + Kim et al. Resumable: run the same command again to continue.
#   scripts/train_real_mix.sh DATA OUT [options for declare train student...]
#   scripts/train_real_mix.sh ../shared/data runs/real-mix --max-minutes 140
# DATA holds photos-train/, real-train/real89/ and real-pairs/{nature20,kim2020}/.
set -euo pipefail
data=${1:?DATA folder}; out=${2:?OUT folder}; shift 2
exec python -m declare train student --config configs/real-mix.toml \
    --data "$data/photos-train" --data "$data/real-train/real89" --data-weights 1 --data-weights 1 \
    --val-data "$data/real-pairs/nature20" --val-data "$data/real-pairs/kim2020" \
    --out "$out" --resume -q "$@"
