#pragma once
// The run config's "loss": the block-reconstruction loss terms of the methods that take one
// (their descriptors say so, config/method_descriptor.h). Internal to core/config.

#include "config/object_reader.h"

namespace core {

struct LossTerm;
struct RunConfig;

namespace config_detail {

/// Reads "loss" (rejected for methods that take none); the method's default loss otherwise.
void readLossSection(ObjectReader& parent, RunConfig& config);
void validateLossSection(const RunConfig& config, const std::string& source);
void writeLossSection(const RunConfig& config, json& document);
/// One loss term as the run config writes it: type, weight, and the options of its type.
json termToJson(const LossTerm& term);
/// "mse+sw" for the run's name when the loss is not the method's default; "" otherwise.
std::string lossLabel(const RunConfig& config);
/// The method's default loss (empty for methods that take none or are unknown).
std::vector<LossTerm> defaultLoss(const std::string& method);

} // namespace config_detail
} // namespace core
