#pragma once
// The option schemas shared by the methods that train block parameters: a learning rate, a
// number of epochs over the calibration windows, and the windows per optimizer step.

#include "config/option_schema.h"

namespace core {

/// A number in (0, 10].
inline OptionSpec learningRateOption(const char* key, double value, const char* help, const char* label)
{
    return OptionSpec{.key = key,
                      .type = OptionType::Number,
                      .defaultValue = value,
                      .minimum = 0.0,
                      .maximum = 10.0,
                      .minimumExclusive = true,
                      .help = help,
                      .label = label};
}

/// "epochs": passes over the calibration windows per block, minimum..10000.
inline OptionSpec epochsOption(std::int64_t value, double minimum, const char* help)
{
    return OptionSpec{.key = "epochs",
                      .type = OptionType::Integer,
                      .defaultValue = value,
                      .minimum = minimum,
                      .maximum = 10000,
                      .unit = "epochs",
                      .help = help,
                      .label = "Epochs"};
}

/// "batch_size": calibration windows per optimizer step, 1..4096, default 1 (the papers' setting).
inline OptionSpec windowsPerStepOption(const char* help)
{
    return OptionSpec{.key = "batch_size",
                      .type = OptionType::Integer,
                      .defaultValue = std::int64_t(1),
                      .minimum = 1,
                      .maximum = 4096,
                      .unit = "windows",
                      .help = help,
                      .label = "Batch size"};
}

} // namespace core
