#include "config/method_listing.h"

#include "config/method_descriptor.h"
#include "config/run_config.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace core {
namespace {

using nlohmann::json;

std::string joined(const std::vector<std::string>& items, const std::string& separator)
{
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : separator) + item;
    return out;
}

std::string lossText(const std::vector<LossTerm>& terms)
{
    std::vector<std::string> items;
    for (const LossTerm& term : terms) {
        std::ostringstream item;
        item << lossTypeName(term.type) << ":" << term.weight;
        items.push_back(item.str());
    }
    return joined(items, ",");
}

json optionJson(const OptionSpec& spec)
{
    json option = {{"key", spec.key},
                   {"type", optionTypeName(spec.type)},
                   {"default", json::parse(optionValueText(spec.defaultValue))},
                   {"unit", spec.unit},
                   {"help", spec.help}};
    if (spec.type == OptionType::Choice) {
        option["choices"] = spec.choices;
    } else if (spec.type != OptionType::Boolean) {
        option["minimum"] = spec.minimum;
        option["maximum"] = spec.maximum;
        option["minimum_exclusive"] = spec.minimumExclusive;
        option["maximum_exclusive"] = spec.maximumExclusive;
        option["range"] = optionRangeText(spec);
    }
    return option;
}

} // namespace

std::string methodsText()
{
    std::ostringstream out;
    for (const MethodDescriptor* method : methodDescriptors()) {
        out << method->name << ": " << method->description << "\n";
        if (!method->reference.empty())
            out << "  " << method->reference << "\n";
        const auto capabilities = capabilityNames(method->capabilities);
        if (!capabilities.empty())
            out << "  " << joined(capabilities, ", ") << "; default loss " << lossText(method->defaultLoss) << "\n";
        for (const OptionSpec& spec : method->options) {
            std::string kind = optionTypeName(spec.type);
            if (const std::string range = optionRangeText(spec); !range.empty())
                kind += " " + range;
            std::string fallback = "default " + optionValueText(spec.defaultValue);
            if (!spec.unit.empty())
                fallback += " " + spec.unit;
            out << "  --set " << method->name << "." << spec.key << "=...  " << kind << ", " << fallback << ": "
                << spec.help << "\n";
        }
        if (method->options.empty())
            out << "  (no options)\n";
        out << "\n";
    }
    return out.str();
}

std::string methodsJson(int indent)
{
    json methods = json::array();
    for (const MethodDescriptor* method : methodDescriptors()) {
        json options = json::array();
        for (const OptionSpec& spec : method->options)
            options.push_back(optionJson(spec));
        const MethodCapabilities& c = method->capabilities;
        methods.push_back({{"name", method->name},
                           {"description", method->description},
                           {"reference", method->reference},
                           {"capabilities",
                            {{"learns_block_parameters", c.learnsBlockParameters},
                             {"takes_loss", c.takesLoss},
                             {"model_stage", c.modelStage},
                             {"quantizes_activations", c.quantizesActivations}}},
                           {"default_loss", json::parse(lossTermsToJson(method->defaultLoss))},
                           {"options", options}});
    }
    return methods.dump(indent);
}

// A list's default in the table: its length and ends, not 20 numbers.
static std::string tableValueText(const OptionValue& value)
{
    const auto* list = std::get_if<std::vector<double>>(&value);
    if (list == nullptr || list->size() <= 4)
        return optionValueText(value);
    std::ostringstream out;
    out << list->size() << " values, " << list->front() << " … " << list->back();
    return out.str();
}

std::string methodsMarkdown()
{
    std::ostringstream out;
    out << "| method | what it does | paper | options (default) |\n";
    out << "| --- | --- | --- | --- |\n";
    for (const MethodDescriptor* method : methodDescriptors()) {
        std::vector<std::string> options;
        for (const OptionSpec& spec : method->options)
            options.push_back("`" + spec.key + "` (" + tableValueText(spec.defaultValue) + ")");
        if (method->capabilities.takesLoss)
            options.push_back("`loss` (" + lossText(method->defaultLoss) + ")");
        out << "| `" << method->name << "` | " << method->description << " | " << method->reference << " | "
            << (options.empty() ? "none" : joined(options, ", ")) << " |\n";
    }
    return out.str();
}

} // namespace core
