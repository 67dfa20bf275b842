#pragma once
// The option schema of a learning rate, shared by the methods that train block parameters:
// a number in (0, 10].

#include "config/option_schema.h"

namespace core {

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

} // namespace core
