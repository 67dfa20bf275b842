#include "config/stream_quant_sections.h"

#include "config/run_config.h"

namespace core::config_detail {
namespace {

// 16 (off) or a quantizing width.
void requireStreamBits(int bits, const std::string& source, const std::string& key)
{
    require(bits == kUnquantizedBits || (bits >= 2 && bits <= 8), source,
            key + " must be in 2..8, or 16 for unquantized, got " + std::to_string(bits));
}

void requireClipRatio(double ratio, const std::string& source, const std::string& key)
{
    require(ratio > 0.0 && ratio <= 1.0, source, key + " must be in (0, 1], got " + std::to_string(ratio));
}

} // namespace

void readStreamQuantSections(ObjectReader& parent, RunConfig& config)
{
    readSection(parent, "activations", parent.source(), [&](ObjectReader& reader) {
        ActivationQuantSpec& a = config.activations;
        reader.readInteger("bits", a.bits);
        std::string granularity = granularityName(a.granularity);
        reader.readString("granularity", granularity);
        if (granularity == "per_token")
            a.granularity = ActivationGranularity::PerToken;
        else if (granularity == "per_tensor")
            a.granularity = ActivationGranularity::PerTensor;
        else
            reader.fail("activations.granularity must be per_token or per_tensor, got '" + granularity + "'");
        reader.readBool("symmetric", a.symmetric);
        reader.readNumber("clip_ratio", a.clipRatio);
    });
    readSection(parent, "kv", parent.source(), [&](ObjectReader& reader) {
        KvQuantSpec& kv = config.kv;
        reader.readInteger("bits", kv.bits);
        reader.readInteger("group_size", kv.groupSize);
        reader.readBool("symmetric", kv.symmetric);
        reader.readNumber("clip_ratio", kv.clipRatio);
    });
}

void validateStreamQuantSections(const RunConfig& config, const std::string& source)
{
    requireStreamBits(config.activations.bits, source, "activations.bits");
    requireClipRatio(config.activations.clipRatio, source, "activations.clip_ratio");
    requireStreamBits(config.kv.bits, source, "kv.bits");
    requireClipRatio(config.kv.clipRatio, source, "kv.clip_ratio");
    // Whether it divides the head dimension is checked against the model (resolveRunConfig).
    require(config.kv.groupSize >= 0, source,
            "kv.group_size must be >= 1 (or 0 for the whole head), got " + std::to_string(config.kv.groupSize));
}

void writeStreamQuantSections(const RunConfig& config, json& document)
{
    const ActivationQuantSpec& a = config.activations;
    document["activations"] = {{"bits", a.bits},
                               {"granularity", granularityName(a.granularity)},
                               {"symmetric", a.symmetric},
                               {"clip_ratio", a.clipRatio}};
    const KvQuantSpec& kv = config.kv;
    document["kv"] = {
        {"bits", kv.bits}, {"group_size", kv.groupSize}, {"symmetric", kv.symmetric}, {"clip_ratio", kv.clipRatio}};
}

} // namespace core::config_detail
