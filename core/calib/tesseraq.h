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
