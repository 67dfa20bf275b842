#include "config/run_presets.h"

#include "util/error.h"

namespace core {

const std::vector<RunPreset>& runPresets()
{
    // OAC's settings (METHODS.md §6.3): SpQR at 2 bits in groups of 16 and BiLLM, each with the
    // output-adaptive Hessian; the same without it are the paper's baselines. SpQR's outlier
    // threshold 0.2 is its 3–4-bit recipe: at 2 bits it keeps about 10 % of the weights in full
    // precision (6.3 bits per weight on the bundled model); t = 2 keeps about 0.3 % (2.9 bits).
    static const std::vector<RunPreset> presets = {
        {"oac-2bit", "OAC-2bit: SpQR W2 g16 with the output-adaptive Hessian",
         R"({"method": "spqr", "weights": {"bits": 2, "group_size": 16}, "spqr": {"hessian": "oac", "outlier_threshold": 2.0}})"},
        {"oac-binary", "OAC-binary: BiLLM with the output-adaptive Hessian",
         R"({"method": "billm", "weights": {"bits": 1, "group_size": -1}, "billm": {"hessian": "oac"}})"},
        {"spqr-2bit", "SpQR W2 g16 (2XXᵀ): OAC-2bit's baseline",
         R"({"method": "spqr", "weights": {"bits": 2, "group_size": 16}, "spqr": {"outlier_threshold": 2.0}})"},
        {"billm", "BiLLM (2XXᵀ): OAC-binary's baseline",
         R"({"method": "billm", "weights": {"bits": 1, "group_size": -1}})"},
        // OSTQuant's settings (METHODS.md §7.2–7.3): symmetric per-channel weights, GPTQ after the
        // transforms; its W4A4KV4 script starts the rotations from the KLT. QuaRot- and
        // SpinQuant-style runs on the same machinery: untrained random Hadamards, and rotations
        // learned with the next-token loss without scalings.
        {"ostquant", "OSTQuant: rotations + scalings trained with KL-Top, then GPTQ (sym per-channel)",
         R"({"method": "ostquant", "weights": {"group_size": -1, "symmetric": true}})"},
        {"ostquant-w4a4kv4", "OSTQuant W4A4KV4: KLT init, 4-bit activations and KV cache",
         R"({"method": "ostquant", "weights": {"bits": 4, "group_size": -1, "symmetric": true},
             "activations": {"bits": 4}, "kv": {"bits": 4}, "ostquant": {"init": "klt"}})"},
        {"quarot", "QuaRot-style: random Hadamard rotations, no training, then GPTQ",
         R"({"method": "ostquant", "weights": {"group_size": -1, "symmetric": true},
             "ostquant": {"steps": 0, "scalings": false}})"},
        {"spinquant", "SpinQuant-style: rotations learned with next-token cross-entropy, no scalings, then GPTQ",
         R"({"method": "ostquant", "weights": {"group_size": -1, "symmetric": true},
             "ostquant": {"loss": "ce", "scalings": false}})"},
        // PTQ1.61 (METHODS.md §8): 20 % salient input channels at 4 bits, the rest binarized.
        {"ptq161", "PTQ1.61: 1-D structured mask (20 % of input channels at 4 bits, the rest binarized)",
         R"({"method": "ptq161", "weights": {"bits": 1, "group_size": -1}})"},
        // LRQuant's W4A4 (METHODS.md §9): asymmetric per-channel weights, per-token activations.
        {"lrquant-w4a4", "LRQuant W4A4: log-init smoothing with shifts + LWC, MSE + NLC",
         R"({"method": "lrquant", "weights": {"bits": 4, "group_size": -1}, "activations": {"bits": 4}})"},
    };
    return presets;
}

std::string runPresetNameList()
{
    std::string names;
    for (const RunPreset& preset : runPresets())
        names += (names.empty() ? "" : ", ") + preset.name;
    return names;
}

const RunPreset& runPreset(const std::string& name)
{
    for (const RunPreset& preset : runPresets())
        if (preset.name == name)
            return preset;
    throw Error("unknown preset '" + name + "' (known: " + runPresetNameList() + ")");
}

} // namespace core
