#!/usr/bin/env bash
# How strongly a candidate model reacts to quantization (issue 14's targets), with the SW
# experiment's protocol (32 calibration windows of 256 tokens, seed 0, perplexity on the first
# 100 windows of 512 tokens of each bundled text): RTN and GPTQ at W3 g128 and W2 g64, then
#   rtn_loss      = ppl_RTN / ppl_FP − 1
#   gptq_recovers = (ln ppl_RTN − ln ppl_GPTQ) / (ln ppl_RTN − ln ppl_FP)
# Prints one JSON object per setting on stdout.
#   experiments/brown_llama/measure_sensitivity.sh MODEL_DIR [WORKSPACE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qs=${QUANTSCOPE:-$root/build/app/quantscope}
model=$1
workspace=${2:-$(mktemp -d)}
configs="$root/experiments/sw-alignment/configs"

ppl() { # ppl JSON TEXT: the perplexity of TEXT (fp_perplexity when the key is "fp")
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["fp_perplexity" if sys.argv[3]=="fp" else "perplexity"][sys.argv[2]])' "$@"
}

for setting in "3 128" "2 64"; do
  read -r bits group <<<"$setting"
  for method in rtn gptq; do
    "$qs" calibrate --config "$configs/$method.json" --model "$model" --wbits "$bits" --group "$group" --seed 0 \
      --name "$method w${bits}g${group}" --workspace "$workspace" --quiet --json > "$workspace/$method-$bits.json"
  done
  for text in brown_test kjv_test; do
    fp=$(ppl "$workspace/rtn-$bits.json" "$text" fp)
    rtn=$(ppl "$workspace/rtn-$bits.json" "$text" q)
    gptq=$(ppl "$workspace/gptq-$bits.json" "$text" q)
    python3 -c 'import json,math,sys
fp,rtn,gptq=map(float,sys.argv[4:7])
print(json.dumps({"setting":sys.argv[1],"text":sys.argv[2],"model":sys.argv[3],"fp":fp,"rtn":rtn,"gptq":gptq,
  "rtn_loss":rtn/fp-1,"gptq_recovers":(math.log(rtn)-math.log(gptq))/(math.log(rtn)-math.log(fp))}))' \
      "w${bits}g${group}" "$text" "$model" "$fp" "$rtn" "$gptq"
  done
done
