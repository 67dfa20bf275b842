#include "config/option_schema.h"

#include "util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

namespace core {
namespace {

std::string numberText(double value)
{
    std::ostringstream out;
    out << value;
    return out.str();
}

bool inRange(const OptionSpec& spec, double value)
{
    const bool aboveMinimum = spec.minimumExclusive ? value > spec.minimum : value >= spec.minimum;
    const bool belowMaximum = spec.maximumExclusive ? value < spec.maximum : value <= spec.maximum;
    return aboveMinimum && belowMaximum;
}

// The variant alternative each type holds.
bool holdsType(const OptionValue& value, OptionType type)
{
    switch (type) {
    case OptionType::Integer:
        return std::holds_alternative<std::int64_t>(value);
    case OptionType::Number:
        return std::holds_alternative<double>(value);
    case OptionType::Boolean:
        return std::holds_alternative<bool>(value);
    case OptionType::NumberList:
        return std::holds_alternative<std::vector<double>>(value);
    case OptionType::Choice:
        return std::holds_alternative<std::string>(value);
    }
    return false;
}

template <typename T> const T& typed(const std::map<std::string, OptionValue>& values, const std::string& key)
{
    const auto it = values.find(key);
    if (it == values.end())
        throw Error("method option '" + key + "' is not set");
    const T* value = std::get_if<T>(&it->second);
    if (value == nullptr)
        throw Error("method option '" + key + "' has another type");
    return *value;
}

} // namespace

std::string optionRangeText(const OptionSpec& spec)
{
    if (spec.type == OptionType::Boolean)
        return "";
    if (spec.type == OptionType::Choice) {
        std::string text;
        for (const std::string& choice : spec.choices)
            text += (text.empty() ? "" : " | ") + choice;
        return text;
    }
    if (spec.type == OptionType::Integer)
        return std::to_string(static_cast<long long>(spec.minimum)) + ".." +
               std::to_string(static_cast<long long>(spec.maximum));
    if (!spec.minimumExclusive && !spec.maximumExclusive)
        return numberText(spec.minimum) + ".." + numberText(spec.maximum);
    return std::string(spec.minimumExclusive ? "(" : "[") + numberText(spec.minimum) + ", " + numberText(spec.maximum) +
           (spec.maximumExclusive ? ")" : "]");
}

std::string optionValueText(const OptionValue& value)
{
    return std::visit([](const auto& v) { return nlohmann::json(v).dump(); }, value);
}

std::string optionTypeName(OptionType type)
{
    switch (type) {
    case OptionType::Integer:
        return "integer";
    case OptionType::Number:
        return "number";
    case OptionType::Boolean:
        return "boolean";
    case OptionType::NumberList:
        return "number list";
    case OptionType::Choice:
        return "choice";
    }
    return "";
}

std::int64_t MethodOptions::integer(const std::string& key) const
{
    return typed<std::int64_t>(m_values, key);
}

double MethodOptions::number(const std::string& key) const
{
    return typed<double>(m_values, key);
}

bool MethodOptions::boolean(const std::string& key) const
{
    return typed<bool>(m_values, key);
}

const std::vector<double>& MethodOptions::numbers(const std::string& key) const
{
    return typed<std::vector<double>>(m_values, key);
}

const std::string& MethodOptions::choice(const std::string& key) const
{
    return typed<std::string>(m_values, key);
}

const OptionValue& MethodOptions::value(const std::string& key) const
{
    const auto it = m_values.find(key);
    if (it == m_values.end())
        throw Error("method option '" + key + "' is not set");
    return it->second;
}

MethodOptions defaultOptions(const std::vector<OptionSpec>& schema)
{
    MethodOptions options;
    for (const OptionSpec& spec : schema)
        options.set(spec.key, spec.defaultValue);
    return options;
}

void validateOptions(const std::vector<OptionSpec>& schema, const MethodOptions& options, const std::string& section,
                     const std::string& source)
{
    const auto fail = [&](const std::string& message) { throw Error(source + ": " + message); };
    for (const auto& [key, value] : options.values()) {
        const auto spec = std::find_if(schema.begin(), schema.end(), [&](const OptionSpec& s) { return s.key == key; });
        if (spec == schema.end())
            fail("unknown key '" + section + "." + key + "'");
    }
    for (const OptionSpec& spec : schema) {
        const std::string key = section + "." + spec.key;
        if (!options.has(spec.key))
            fail(key + " is not set");
        const OptionValue& value = options.value(spec.key);
        if (!holdsType(value, spec.type))
            fail(key + " must be " +
                 (spec.type == OptionType::Choice
                      ? "one of " + optionRangeText(spec)
                      : (spec.type == OptionType::Integer ? "an " : "a ") + optionTypeName(spec.type)));
        if (const auto* choice = std::get_if<std::string>(&value);
            choice && std::find(spec.choices.begin(), spec.choices.end(), *choice) == spec.choices.end())
            fail(key + " must be one of " + optionRangeText(spec) + ", got '" + *choice + "'");
        if (const auto* integer = std::get_if<std::int64_t>(&value); integer && !inRange(spec, double(*integer)))
            fail(key + " must be in " + optionRangeText(spec) + ", got " + std::to_string(*integer));
        if (const auto* number = std::get_if<double>(&value); number && !inRange(spec, *number))
            fail(key + " must be in " + optionRangeText(spec) + ", got " + numberText(*number));
        if (const auto* list = std::get_if<std::vector<double>>(&value))
            for (std::size_t i = 0; i < list->size(); ++i)
                if (!inRange(spec, (*list)[i]))
                    fail(key + "[" + std::to_string(i) + "] must be in " + optionRangeText(spec) + ", got " +
                         numberText((*list)[i]));
    }
}

} // namespace core
