#pragma once
// The run-config sections of the block-reconstruction methods (issue 7): the loss terms
// and the method's own options. Internal to core/config; RunConfig holds the results.

#include "config/object_reader.h"

namespace core {

struct LossTerm;
struct RunConfig;

namespace config_detail {

/// Methods that calibrate a block by gradient descent on a reconstruction loss.
bool methodLearnsBlocks(const std::string& method);

/// Reads "loss" and the section of a learning method ("omniquant", "tesseraq"); rejects both for
/// methods that do not use them. Fills in the method's defaults.
void readLearningSections(ObjectReader& parent, RunConfig& config, const std::string& source);
void validateLearningSections(const RunConfig& config, const std::string& source);
void writeLearningSections(const RunConfig& config, json& document);
/// One loss term as the run config writes it: type, weight, and the options of its type.
json termToJson(const LossTerm& term);
/// "mse+sw" for the run's name when the loss is not the method's default; "" otherwise.
std::string lossLabel(const RunConfig& config);
/// The method's default loss and section.
void applyLearningDefaults(RunConfig& config);

} // namespace config_detail
} // namespace core
