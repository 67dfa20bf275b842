#include "config/method_section.h"

#include "config/method_descriptor.h"
#include "config/run_config.h"

namespace core::config_detail {
namespace {

void readOption(ObjectReader& reader, const OptionSpec& spec, MethodOptions& options)
{
    switch (spec.type) {
    case OptionType::Integer: {
        std::int64_t value = options.integer(spec.key);
        reader.readInteger(spec.key, value);
        options.set(spec.key, value);
        break;
    }
    case OptionType::Number: {
        double value = options.number(spec.key);
        reader.readNumber(spec.key, value);
        options.set(spec.key, value);
        break;
    }
    case OptionType::Boolean: {
        bool value = options.boolean(spec.key);
        reader.readBool(spec.key, value);
        options.set(spec.key, value);
        break;
    }
    case OptionType::NumberList: {
        std::vector<double> value = options.numbers(spec.key);
        reader.readNumbers(spec.key, value);
        options.set(spec.key, value);
        break;
    }
    case OptionType::Choice: {
        std::string value = options.choice(spec.key);
        reader.readString(spec.key, value);
        options.set(spec.key, value);
        break;
    }
    }
}

} // namespace

void readMethodSection(ObjectReader& parent, RunConfig& config)
{
    for (const MethodDescriptor* other : methodDescriptors())
        if (other->name != config.method && !other->options.empty() && parent.find(other->name))
            parent.fail("section '" + other->name + "' applies to method '" + other->name + "' only (method is '" +
                        config.method + "')");
    const MethodDescriptor* method = findMethodDescriptor(config.method);
    if (method == nullptr || method->options.empty())
        return; // an unknown method is reported by the validation
    config.options = defaultOptions(method->options);
    readSection(parent, method->name, parent.source(), [&](ObjectReader& reader) {
        for (const OptionSpec& spec : method->options)
            readOption(reader, spec, config.options);
    });
}

void validateMethodSection(const RunConfig& config, const std::string& source)
{
    const MethodDescriptor& method = methodDescriptor(config.method);
    validateOptions(method.options, config.options, method.name, source);
    if (method.validate)
        method.validate(config, source);
}

void writeMethodSection(const RunConfig& config, json& document)
{
    if (config.options.empty())
        return;
    json section = json::object();
    for (const auto& [key, value] : config.options.values())
        std::visit([&](const auto& v) { section[key] = v; }, value);
    document[config.method] = section;
}

} // namespace core::config_detail
