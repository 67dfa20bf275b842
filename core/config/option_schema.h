#pragma once
// A method's options as data (issue 15): each option's key, type, range, default, unit and
// help text. The run config's parser, validator and canonical JSON, `quantscope methods`, the
// CLI's --set overrides and the GUI form's method rows are all derived from these schemas, so
// an option is spelled once, in its method's file. Torch-free.

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace core {

enum class OptionType { Integer, Number, Boolean, NumberList, Choice };

/// bool for Boolean, int64 for Integer, double for Number, a vector for NumberList, a string
/// (one of OptionSpec::choices) for Choice.
using OptionValue = std::variant<bool, std::int64_t, double, std::vector<double>, std::string>;

struct OptionSpec {
    std::string key; ///< in the method's section: "lwc_epochs" is tesseraq.lwc_epochs
    OptionType type = OptionType::Integer;
    OptionValue defaultValue = std::int64_t(0);
    /// Range of an Integer or Number, and of every item of a NumberList; unused for Boolean.
    double minimum = 0.0;
    double maximum = 0.0;
    bool minimumExclusive = false;    ///< (minimum, ... instead of [minimum, ...
    bool maximumExclusive = false;    ///< ..., maximum) instead of ..., maximum]
    std::string unit;                 ///< "epochs", "steps", "columns", ... ("" when none)
    std::string help;                 ///< one line, for `quantscope methods`, tooltips and the README
    std::string label;                ///< the form's row label; "" = the key, spaced and capitalized
    std::vector<std::string> choices; ///< the values a Choice may take (the form's combo box items)
};

/// The range as errors and listings print it: "1..10000", "(0, 10]", "[0, 1)", "xtx | oac" for a
/// Choice; "" for Boolean.
std::string optionRangeText(const OptionSpec& spec);
/// A value as JSON writes it: 20, 0.01, true, [0.8, 0.5].
std::string optionValueText(const OptionValue& value);
std::string optionTypeName(OptionType type); ///< "integer", "number", "boolean", "number list", "choice"

/// The values of one method's options, every option of its schema present once parsed.
class MethodOptions {
public:
    bool has(const std::string& key) const { return m_values.count(key) != 0; }
    /// Typed reads; throw core::Error naming the key when it is absent or of another type
    /// (a method reading an option its schema does not declare is a programming error).
    std::int64_t integer(const std::string& key) const;
    double number(const std::string& key) const;
    bool boolean(const std::string& key) const;
    const std::vector<double>& numbers(const std::string& key) const;
    const std::string& choice(const std::string& key) const;
    const OptionValue& value(const std::string& key) const;

    void set(const std::string& key, OptionValue value) { m_values[key] = std::move(value); }
    const std::map<std::string, OptionValue>& values() const { return m_values; }
    bool empty() const { return m_values.empty(); }
    bool operator==(const MethodOptions& other) const = default;

private:
    std::map<std::string, OptionValue> m_values;
};

/// Every option at its default.
MethodOptions defaultOptions(const std::vector<OptionSpec>& schema);

/// Type and range of every option (an unknown key too), as "SECTION.KEY must be ...".
/// Throws core::Error prefixed with `source`.
void validateOptions(const std::vector<OptionSpec>& schema, const MethodOptions& options, const std::string& section,
                     const std::string& source);

} // namespace core
