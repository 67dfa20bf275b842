#!/usr/bin/env bash
# Starts the real workbench under Xvfb and drives it (`quantscope gui --tour`) through a
# calibration from the New Calibration dialog, the layer inspector's views and the compare
# view against a baseline run, saving a screenshot at every stage. Fails when the tour fails
# or a screenshot is missing. Settings and workspace live in a temporary home.
#   tests/gui_tour.sh QUANTSCOPE_EXECUTABLE SCREENSHOT_DIR
set -euo pipefail
qs="$1"
shots="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/runtime"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset QT_QPA_PLATFORM
ws="$tmp/workspace"
rm -rf "$shots" && mkdir -p "$shots"

# The baseline the tour compares against, and the tour's own (short) calibration: OmniQuant with
# MSE + SW on the bundled model at W3A8KV8, so that the live loss, the loss curves and the SW views
# fill, and the form and the runs table show activation and KV bits.
# The baseline with three seeds: the runs table groups them and the compare view plots the group.
# GPTQ, so that the seed (the calibration windows) changes the numbers.
for seed in 0 1 2; do
  "$qs" calibrate --method gptq --wbits 3 --group 128 --samples 8 --seq-len 128 --eval-max-windows 4 \
    --seed "$seed" --name "tour baseline gptq calibration.seed=$seed" --workspace "$ws" --quiet
done
cat >"$tmp/tour.json" <<'JSON'
{"method": "omniquant", "name": "tour omniquant mse+sw",
 "weights": {"bits": 3, "group_size": 128},
 "activations": {"bits": 8}, "kv": {"bits": 8},
 "calibration": {"samples": 8, "seq_len": 128},
 "eval": {"max_windows": 4},
 "loss": [{"type": "mse", "weight": 0.9}, {"type": "sw", "weight": 0.1, "projections": 64, "p": 1}],
 "omniquant": {"epochs": 2, "batch_size": 1}}
JSON
xvfb-run -a -s "-screen 0 1400x900x24" "$qs" gui --workspace "$ws" --tour "$tmp/tour.json" --screenshots "$shots"

expected=(01-main-window 02-new-calibration 03-calibrating-loss 04-calibrating-layers
  05-inspector-distributions 06-inspector-projected-sw 07-inspector-channels 08-inspector-saliency
  09-inspector-qsur 10-compare-metric-per-layer 11-compare-difference-map 12-compare-seed-groups
  13-runs-grouped-by-seed)
for name in "${expected[@]}"; do
  [ -s "$shots/$name.png" ] || { echo "gui_tour: missing screenshot $name.png" >&2; exit 1; }
done
echo "gui_tour: ${#expected[@]} screenshots in $shots"
