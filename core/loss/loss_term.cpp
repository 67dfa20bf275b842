#include "loss/loss_term.h"

#include "util/error.h"

namespace core {
namespace {

struct TypeName {
    LossType type;
    const char* name;
};
constexpr TypeName kTypeNames[] = {{LossType::Mse, "mse"},
                                   {LossType::L2, "l2"},
                                   {LossType::SlicedWasserstein, "sw"},
                                   {LossType::Nlc, "nlc"},
                                   {LossType::KlTop, "kl_top"}};

} // namespace

std::string lossTypeName(LossType type)
{
    for (const auto& entry : kTypeNames)
        if (entry.type == type)
            return entry.name;
    return "unknown";
}

std::vector<std::string> lossTypeNames()
{
    std::vector<std::string> names;
    for (const auto& entry : kTypeNames)
        names.emplace_back(entry.name);
    return names;
}

LossType lossTypeFromName(const std::string& name)
{
    std::string known;
    for (const auto& entry : kTypeNames) {
        if (name == entry.name)
            return entry.type;
        known += (known.empty() ? "" : ", ") + std::string(entry.name);
    }
    throw Error("unknown loss type '" + name + "' (known: " + known + ")");
}

} // namespace core
