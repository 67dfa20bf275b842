#include "model/global_tensors.h"

#include "model/weight_layout.h"
#include "util/error.h"

#include <utility>
#include <vector>

namespace core {
namespace {

// (name, member) for every global the model has; the head only when it is its own tensor.
std::vector<std::pair<std::string, torch::Tensor GlobalWeights::*>> namedGlobals(const ModelConfig& config)
{
    const GlobalNames names = globalNames(config);
    std::vector<std::pair<std::string, torch::Tensor GlobalWeights::*>> named = {
        {names.embedTokens, &GlobalWeights::embedTokens},
        {names.embedPositions, &GlobalWeights::embedPositions},
        {names.finalNormWeight, &GlobalWeights::finalNormWeight},
        {names.finalNormBias, &GlobalWeights::finalNormBias},
        {names.lmHead, &GlobalWeights::lmHead},
    };
    std::erase_if(named, [](const auto& entry) { return entry.first.empty(); });
    return named;
}

} // namespace

std::map<std::string, torch::Tensor> changedGlobalTensors(const ModelConfig& config, const GlobalWeights& before,
                                                          const GlobalWeights& after)
{
    if (globalNames(config).lmHead.empty() &&
        (after.lmHead.is_same(after.embedTokens)) != (before.lmHead.is_same(before.embedTokens)))
        throw Error("the model ties lm_head to embed_tokens; a method must replace both together");
    std::map<std::string, torch::Tensor> changed;
    for (const auto& [name, member] : namedGlobals(config))
        if (!(after.*member).is_same(before.*member))
            changed[name] = after.*member;
    return changed;
}

GlobalWeights withStoredGlobals(const ModelConfig& config, GlobalWeights globals,
                                const std::map<std::string, torch::Tensor>& stored)
{
    const bool tied = globalNames(config).lmHead.empty();
    for (const auto& [name, member] : namedGlobals(config)) {
        const auto it = stored.find(name);
        if (it != stored.end())
            globals.*member = it->second.to(globals.embedTokens.device());
    }
    if (tied)
        globals.lmHead = globals.embedTokens;
    return globals;
}

} // namespace core
