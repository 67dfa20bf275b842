#include "quant/activation_spec.h"

namespace core {

std::string granularityName(ActivationGranularity granularity)
{
    return granularity == ActivationGranularity::PerToken ? "per_token" : "per_tensor";
}

std::string bitsLabel(int weightBits, const ActivationQuantSpec& activations, const KvQuantSpec& kv)
{
    std::string label = "W" + std::to_string(weightBits) + "A" + std::to_string(activations.bits);
    if (kv.enabled())
        label += "KV" + std::to_string(kv.bits);
    return label;
}

} // namespace core
