#pragma once
// One declaration per calibration method (issue 15): its name, a one-line description, what it
// can do, and its options' schema. Everything that lists, parses, validates, writes or shows a
// method's options is derived from these descriptors: the run config (config/run_config.h),
// `quantscope methods`, the CLI's --set overrides, the GUI form's method rows and the README's
// method table. A method is one file that defines its descriptor and its CalibrationMethod,
// plus one line in calib/method_registry.cpp. Torch-free (the factory's result type is only
// declared here).

#include "config/option_schema.h"
#include "loss/loss_term.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace core {

class CalibrationMethod;
struct RunConfig;

struct MethodCapabilities {
    bool learnsBlockParameters = false; ///< trains block parameters by gradient descent
    bool takesLoss = false;             ///< the run config's "loss" applies (a reconstruction loss)
    bool modelStage = false;            ///< works on the whole model before or after the block loop
    bool quantizesActivations = false;  ///< its own activation quantization (beyond the run's A/KV spec)
};

/// "learns block parameters, takes a loss": the capabilities as words, for listings.
std::vector<std::string> capabilityNames(const MethodCapabilities& capabilities);

struct MethodDescriptor {
    std::string name;        ///< the run config's "method", and the name of its options' section
    std::string description; ///< one line
    std::string reference;   ///< the paper, and where METHODS.md describes it
    MethodCapabilities capabilities;
    std::vector<OptionSpec> options;   ///< the section `name` of the run config; empty: no section
    std::vector<LossTerm> defaultLoss; ///< the loss when the config gives none (takesLoss methods)
    /// Checks that a range cannot express, across options (thresholds that must decrease) or
    /// against the rest of the config (a method that needs certain weight bits); run by the
    /// config's validation, so a bad config is refused before anything runs. Throws core::Error
    /// prefixed with `source`. Optional.
    std::function<void(const RunConfig& config, const std::string& source)> validate;
    /// Added to automatic run names ("gptq w3g128 act-order"); optional.
    std::function<std::string(const MethodOptions& options)> nameSuffix;
    /// The method with the run's options (config.options holds every option of the schema).
    std::function<std::unique_ptr<CalibrationMethod>(const RunConfig& config)> create;
};

/// Every known method, in registration order (the built-in ones first).
std::vector<const MethodDescriptor*> methodDescriptors();
/// nullptr when `name` is unknown.
const MethodDescriptor* findMethodDescriptor(const std::string& name);
/// Throws core::Error listing the known names when `name` is unknown.
const MethodDescriptor& methodDescriptor(const std::string& name);
/// Adds a method (a plug-in, or a test's own method). Throws core::Error when the name is
/// taken or the descriptor is incomplete (no name or no factory).
void registerMethodDescriptor(MethodDescriptor descriptor);
/// "rtn, gptq, omniquant, tesseraq": the names for errors and help texts.
std::string methodNameList();

/// The built-in methods, defined in calib/method_registry.cpp.
std::vector<MethodDescriptor> builtInMethodDescriptors();

} // namespace core
