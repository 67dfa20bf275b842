#include "config/loss_section.h"

#include "config/method_descriptor.h"
#include "config/run_config.h"

namespace core::config_detail {
namespace {

bool takesLoss(const std::string& method)
{
    const MethodDescriptor* descriptor = findMethodDescriptor(method);
    return descriptor != nullptr && descriptor->capabilities.takesLoss;
}

// "'loss' applies to block-reconstruction methods (omniquant, tesseraq) only (method is 'gptq')"
std::string lossNotTakenMessage(const std::string& method)
{
    std::string takers;
    for (const MethodDescriptor* descriptor : methodDescriptors())
        if (descriptor->capabilities.takesLoss)
            takers += (takers.empty() ? "" : ", ") + descriptor->name;
    return "'loss' applies to block-reconstruction methods (" + takers + ") only (method is '" + method + "')";
}

LossTerm readTerm(const json& item, const std::string& path, const std::string& source)
{
    ObjectReader reader(item, path, source);
    std::string type;
    reader.readString("type", type);
    if (type.empty())
        reader.fail(path + ".type is required (one of: mse, l2, sw, nlc, kl_top)");
    LossTerm term;
    try {
        term.type = lossTypeFromName(type);
    } catch (const Error& e) {
        reader.fail(path + ".type: " + e.what());
    }
    reader.readNumber("weight", term.weight);
    // Options of one type only: "projections" on an mse term is a mistake, not a no-op.
    if (term.type == LossType::SlicedWasserstein) {
        reader.readInteger("projections", term.projections);
        reader.readInteger("p", term.p);
    }
    if (term.type == LossType::KlTop)
        reader.readInteger("k", term.topK);
    reader.rejectUnknownKeys();
    return term;
}

} // namespace

std::vector<LossTerm> defaultLoss(const std::string& method)
{
    const MethodDescriptor* descriptor = findMethodDescriptor(method);
    return descriptor != nullptr && descriptor->capabilities.takesLoss ? descriptor->defaultLoss
                                                                       : std::vector<LossTerm>{};
}

json termToJson(const LossTerm& term)
{
    json object = {{"type", lossTypeName(term.type)}, {"weight", term.weight}};
    if (term.type == LossType::SlicedWasserstein) {
        object["projections"] = term.projections;
        object["p"] = term.p;
    }
    if (term.type == LossType::KlTop)
        object["k"] = term.topK;
    return object;
}

void readLossSection(ObjectReader& parent, RunConfig& config)
{
    config.loss = defaultLoss(config.method);
    const json* loss = parent.find("loss");
    if (loss == nullptr)
        return;
    if (!takesLoss(config.method))
        parent.fail(lossNotTakenMessage(config.method));
    if (!loss->is_array() || loss->empty())
        parent.fail("loss must be a non-empty array of terms, e.g. [{\"type\": \"mse\", \"weight\": 1}]");
    config.loss.clear();
    for (std::size_t i = 0; i < loss->size(); ++i)
        config.loss.push_back(readTerm((*loss)[i], "loss[" + std::to_string(i) + "]", parent.source()));
}

void validateLossSection(const RunConfig& config, const std::string& source)
{
    const bool learns = takesLoss(config.method);
    require(learns || config.loss.empty(), source, lossNotTakenMessage(config.method));
    if (learns)
        require(!config.loss.empty(), source, "loss must have at least one term");
    double total = 0.0;
    for (std::size_t i = 0; i < config.loss.size(); ++i) {
        const LossTerm& term = config.loss[i];
        const std::string path = "loss[" + std::to_string(i) + "]";
        requireInRange(term.weight, 0.0, 1e6, source, path + ".weight");
        total += term.weight;
        if (term.type == LossType::SlicedWasserstein) {
            requireInRange<std::int64_t>(term.projections, 1, 4096, source, path + ".projections");
            require(term.p == 1 || term.p == 2, source, path + ".p must be 1 or 2, got " + std::to_string(term.p));
        }
        if (term.type == LossType::KlTop)
            require(term.topK >= 1 && term.topK <= 1000000, source,
                    path + ".k must be in 1..1000000 (and at most the vocabulary), got " + std::to_string(term.topK));
    }
    require(!learns || total > 0.0, source, "loss: at least one term needs a weight > 0");
}

void writeLossSection(const RunConfig& config, json& document)
{
    if (config.loss.empty())
        return;
    json terms = json::array();
    for (const LossTerm& term : config.loss)
        terms.push_back(termToJson(term));
    document["loss"] = terms;
}

std::string lossLabel(const RunConfig& config)
{
    const std::vector<LossTerm> defaults = defaultLoss(config.method);
    const bool isDefault =
        !defaults.empty() && config.loss.size() == defaults.size() && config.loss.front().type == defaults.front().type;
    if (config.loss.empty() || isDefault)
        return "";
    std::string label;
    for (const LossTerm& term : config.loss)
        label += (label.empty() ? "" : "+") + lossTypeName(term.type);
    return label;
}

} // namespace core::config_detail

namespace core {

std::vector<LossTerm> parseLossShorthand(const std::string& spec)
{
    std::vector<LossTerm> terms;
    std::size_t begin = 0;
    while (begin <= spec.size()) {
        const std::size_t end = std::min(spec.find(',', begin), spec.size());
        const std::string item = spec.substr(begin, end - begin);
        const std::size_t colon = item.find(':');
        if (item.empty() || colon == 0)
            throw Error("loss: empty term in '" + spec + "' (expected TYPE[:WEIGHT],..., e.g. mse:0.9,sw:0.1)");
        LossTerm term;
        try {
            term.type = lossTypeFromName(item.substr(0, colon));
        } catch (const Error& e) {
            throw Error(std::string("loss: ") + e.what());
        }
        if (colon != std::string::npos) {
            const std::string weight = item.substr(colon + 1);
            std::size_t used = 0;
            try {
                term.weight = std::stod(weight, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != weight.size())
                throw Error("loss: '" + item + "' is not TYPE[:WEIGHT] (e.g. mse:0.9,sw:0.1)");
        }
        terms.push_back(term);
        begin = end + 1;
    }
    return terms;
}

std::string lossTermsToJson(const std::vector<LossTerm>& terms)
{
    config_detail::json array = config_detail::json::array();
    for (const LossTerm& term : terms)
        array.push_back(config_detail::termToJson(term));
    return array.dump();
}

} // namespace core
