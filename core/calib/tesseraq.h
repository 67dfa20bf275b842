#pragma once
// TesseraQ (Li & Panda 2024; METHODS.md §4) as a block-reconstruction method: the grid of
// every Linear comes from an OmniQuant LWC stage (as the paper initializes from OmniQuant's
// clipping; lwc_epochs = 0 starts from the plain min/max grid), then progressive adaptive
// rounding (PAR) trains soft rounding variables and per-group dequantization scale factors
// (DST) with Adam, hardening the most decided variables before each stage, until every
// weight is on its grid.

#include "calib/calibration_method.h"
#include "config/run_config.h"

namespace core {

/// TesseraQ's options (the "tesseraq" section; their schema and defaults are the method's
/// descriptor, tesseraq.cpp).
struct TesseraQConfig {
    std::int64_t lwcEpochs = 0; ///< OmniQuant LWC epochs that fix the grid (0 = plain min/max grid)
    double lwcLearningRate = 0.0;
    std::vector<double> thresholds; ///< fraction of rounding variables still soft in each stage
    std::int64_t iterations = 0;    ///< optimizer steps per stage
    std::int64_t batchSize = 0;     ///< samples per step
    double learningRate = 0.0;      ///< Adam, rounding logits
    double scaleLearningRate = 0.0; ///< Adam, dequantization scale logits (weight decay 1e-4)

    static TesseraQConfig from(const MethodOptions& options);
    static TesseraQConfig defaults();
};

class TesseraQMethod : public CalibrationMethod {
public:
    TesseraQMethod(const TesseraQConfig& options, std::vector<LossTerm> loss, std::uint64_t seed);
    std::string name() const override { return "tesseraq"; }
    /// The loss curve holds the PAR steps; one "epoch" of it is one hardening stage.
    void calibrateBlock(BlockCalibrationContext& ctx) override;

private:
    TesseraQConfig m_options;
    std::vector<LossTerm> m_loss;
    std::uint64_t m_seed;
};

} // namespace core
