#pragma once
// The run config (ARCHITECTURE.md, "Run configs"): one JSON document describes a
// calibration run. The GUI form produces it, the CLI reads it, the catalog stores
// it verbatim (canonical form, every default filled in) and "run again" re-launches
// it. The common sections' defaults live here; each method's section is declared by its
// descriptor (config/method_descriptor.h), with its defaults. Torch-free.
//
// {
//   "name": "gptq w3g128",                      // optional, default "<method> w<bits>g<group>"
//   "model": "resources/models/brown-llama",     // default: the bundled model
//   "method": "gptq",                             // required: a registered method (`quantscope methods`)
//   "weights": {"bits": 4, "group_size": 128, "symmetric": false},
//   "calibration": {"text": "...", "samples": 128, "seq_len": 0, "seed": 0, "batch_size": 8},
//   "eval": {"texts": ["..."], "seq_len": 0, "max_windows": 0,
//            "tasks": [{"name": "hellaswag", "file": "hellaswag_val.jsonl", "labels": "", "limit": 0}],
//            "bos": "tokenizer"},
//   "diagnostics": {"enabled": true, "histogram_bins": 256, "projections": 64, "projection_seed": 0,
//                   "quantile_levels": 256, "qsur": true, "qsur_tokens": 16384, "saliency": true,
//                   "saliency_top_k": 64, "saliency_map_size": 128},
//   "activations": {"bits": 16, "granularity": "per_token", "symmetric": false, "clip_ratio": 1.0},
//   "kv": {"bits": 16, "group_size": 0, "symmetric": false, "clip_ratio": 1.0},  // 16 = off; 0 = head_dim
//   "gptq": {"block_size": 128, "percdamp": 0.01, "act_order": false},        // the method's own section
//   "loss": [{"type": "mse", "weight": 0.9},                                   // learning methods only
//            {"type": "sw", "weight": 0.1, "projections": 128, "p": 1}],
//   "omniquant": {"epochs": 20, "batch_size": 1, "lwc_lr": 0.01, "aug_loss": false, "let": false,
//                 "let_lr": 0.005, "let_alpha": 0.5},
//   "tesseraq": {"lwc_epochs": 20, "lwc_lr": 0.01, "thresholds": [0.8, ..., 0.005], "iterations": 250,
//                "batch_size": 4, "lr": 0.001, "scale_lr": 0.001}
// }

#include "config/option_schema.h"
#include "loss/loss_term.h"
#include "quant/activation_spec.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace core {

struct WeightsConfig {
    int bits = 4;                 ///< 1..8 (1: binary, an affine grid of two levels)
    std::int64_t groupSize = 128; ///< input columns per group; -1 = one group per output channel
    bool symmetric = false;
};

struct CalibrationDataConfig {
    std::string text;           ///< calibration text file; "" = the bundled Brown calibration excerpt
    std::int64_t samples = 128; ///< windows drawn from the text
    std::int64_t seqLen = 0;    ///< tokens per window; 0 = the model's context, at most 2048
    std::uint64_t seed = 0;     ///< window offsets (and later every random choice of a method)
    std::int64_t batchSize = 8; ///< windows per forward pass (memory vs speed; no effect on results)
};

/// One zero-shot task a run scores (issue 19; eval/zero_shot_task.h lists the formats).
struct EvalTaskConfig {
    std::string name;       ///< a format ("hellaswag", "piqa", ...), a bundled task, or a user's task (generic JSONL)
    std::string file;       ///< the task's data file; "" = the bundled task of that name
    std::string labels;     ///< separate labels file (PIQA, SIQA); "" = labels in the data file
    std::int64_t limit = 0; ///< the file's first N documents; 0 = all
    bool operator==(const EvalTaskConfig&) const = default;
};

struct EvalConfig {
    std::vector<std::string> texts;    ///< empty = the bundled held-out texts (Brown test, KJV excerpt)
    std::int64_t seqLen = 0;           ///< 0 = the model's context, at most 2048
    std::int64_t maxWindows = 0;       ///< 0 = every window of each text
    std::vector<EvalTaskConfig> tasks; ///< zero-shot tasks scored after the perplexities; empty = none
    /// Whether task requests start with BOS: "tokenizer" (what the model's tokenizer does, the
    /// harness since PR #3347), "never" (the harness's HFLM default before it) or "always".
    std::string bos = "tokenizer";
};

/// What the diagnostics stage records per block and Linear (METHODS.md §11).
struct DiagnosticsConfig {
    bool enabled = true;
    std::int64_t histogramBins = 256;   ///< bins of every activation and weight histogram
    std::int64_t projections = 64;      ///< SW directions per block output
    std::uint64_t projectionSeed = 0;   ///< same seed → same directions in every run (comparable)
    std::int64_t quantileLevels = 256;  ///< stored quantiles per projected distribution
    bool qsur = true;                   ///< QSUR of Linear inputs and weights (a covariance per input)
    std::int64_t qsurTokens = 16384;    ///< calibration tokens in each input covariance (0 = all)
    bool saliency = true;               ///< Hessian saliency maps of every Linear
    std::int64_t saliencyTopK = 64;     ///< exact top-k OBS-salient weights per Linear
    std::int64_t saliencyMapSize = 128; ///< longest side of the max-pooled saliency maps (<= 256)
};

/// LRQuant's test-time adaptation (METHODS.md §9.3; `quantscope adapt`): the config of a run
/// made from a finished run by re-quantizing its last block on windows of an evaluation text.
/// Absent from every calibration's config; `calibrate` refuses a config that has it.
struct AdaptationConfig {
    std::string text;              ///< the text adapted to (and evaluated on)
    std::int64_t epochs = 5;       ///< passes over its windows (TTA.py: 5, fixed)
    double letLearningRate = 1e-3; ///< smoothing scales and shifts (the parent's let_lr in the authors' code)
    double lwcLearningRate = 1e-2; ///< clipping logits (TTA.py: 1e-2, fixed)
    /// "propagated": the last block's inputs are both streams run through the blocks before it
    /// (the evident intent); "embedding": both are the embedding outputs (TTA.py's loop).
    std::string inputs = "propagated";
    /// False: train and evaluate the adapted block with unquantized activations, as TTA.py
    /// leaves act_quant off after computing its targets (reference parity only).
    bool quantizedActivations = true;
    std::int64_t maxWindows = 0; ///< 0 = every window of the text (eval.seq_len tokens each)
};

struct RunConfig {
    std::string name;   ///< "" = automatic (runDisplayName)
    std::string model;  ///< "" = the bundled model
    std::string method; ///< required
    WeightsConfig weights;
    CalibrationDataConfig calibration;
    EvalConfig eval;
    DiagnosticsConfig diagnostics;
    /// Dynamic fake-quant of every block Linear's input and of K/V after RoPE, in the quantized
    /// stream during calibration, in every perplexity of the run and in the diagnostics'
    /// quantized histograms (16 bits = off, the default: weight-only).
    ActivationQuantSpec activations;
    KvQuantSpec kv;
    /// The method's own section ("gptq": {...}): every option of its descriptor's schema once
    /// parsed or made by defaultRunConfig (config/method_descriptor.h); empty for methods
    /// without options.
    MethodOptions options;
    std::vector<LossTerm> loss;                 ///< block-reconstruction loss; only for methods that take one
    std::optional<AdaptationConfig> adaptation; ///< only in a test-time-adapted run's config
};

/// Methods a run config may name (every registered descriptor).
std::vector<std::string> runMethodNames();

/// Parses and validates a run config. `source` names the document in errors
/// ("config.json: weights.bits must be ..."). Missing keys take their defaults;
/// unknown keys, wrong types and out-of-range values throw core::Error naming the key.
RunConfig parseRunConfig(const std::string& jsonText, const std::string& source = "config");

/// Range and consistency checks on a config built in code (the GUI form uses this
/// while the user types). Throws core::Error naming the key, as parseRunConfig does.
void validateRunConfig(const RunConfig& config, const std::string& source = "config");

/// The canonical JSON of `config`: every key present, defaults filled in,
/// method-specific section only for its method. parseRunConfig(toJson(c)) == c.
std::string runConfigToJson(const RunConfig& config, int indent = 2);

/// Loss terms from the shorthand "mse:0.9,sw:0.1" (TYPE[:WEIGHT], weight 1 when omitted;
/// each term's other options at their defaults). Throws core::Error naming the bad term.
std::vector<LossTerm> parseLossShorthand(const std::string& spec);

/// The run config's "loss" array for `terms` as JSON text (type, weight and each type's options),
/// what the CLI's --loss and the GUI form write into a config document.
std::string lossTermsToJson(const std::vector<LossTerm>& terms);

/// A config for `method` with every default (and its method section).
RunConfig defaultRunConfig(const std::string& method);

/// "gptq w3g128", "rtn w4 per-channel sym": what lists show when the config has no name.
std::string runDisplayName(const RunConfig& config);

} // namespace core
