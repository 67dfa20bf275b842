#include "eval/harness_encoding.h"

#include "eval/python_text.h"
#include "util/error.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace core {

std::string bosPolicyName(BosPolicy policy)
{
    switch (policy) {
    case BosPolicy::Tokenizer:
        return "tokenizer";
    case BosPolicy::Never:
        return "never";
    case BosPolicy::Always:
        return "always";
    }
    return "tokenizer";
}

BosPolicy parseBosPolicy(const std::string& name)
{
    for (BosPolicy policy : {BosPolicy::Tokenizer, BosPolicy::Never, BosPolicy::Always})
        if (bosPolicyName(policy) == name)
            return policy;
    throw Error("unknown BOS policy '" + name + "' (expected tokenizer, never or always)");
}

std::vector<std::int64_t> HarnessEncoder::encode(const std::string& text) const
{
    std::vector<std::int64_t> ids;
    if (addBos)
        ids.push_back(bosId);
    const auto body = tokenizer.encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    return ids;
}

bool addsBos(const std::string& modelDir, BosPolicy policy)
{
    if (policy != BosPolicy::Tokenizer)
        return policy == BosPolicy::Always;
    // Both families' HF tokenizers add BOS unless their config says otherwise: LlamaTokenizer
    // defaults to add_bos_token=True, OPT's tokenizer prepends </s> (its BOS).
    bool adds = true;
    const auto path = std::filesystem::path(modelDir) / "tokenizer_config.json";
    if (std::filesystem::is_regular_file(path)) {
        const auto json = nlohmann::json::parse(readTextFile(path.string()), nullptr, false);
        if (json.is_discarded())
            throw Error(path.string() + ": not valid JSON");
        if (json.contains("add_bos_token") && json["add_bos_token"].is_boolean())
            adds = json["add_bos_token"].get<bool>();
    }
    return adds;
}

EncodedPair encodeRequest(const HarnessEncoder& encoder, const std::string& context, const std::string& continuation)
{
    EncodedPair pair;
    if (context.empty()) {
        // TemplateLM.loglikelihood: the prefix token stands in for an empty context, unless the
        // continuation already starts with it.
        std::vector<std::int64_t> ids = encoder.tokenizer.encode(continuation);
        if (!ids.empty() && ids.front() == encoder.bosId) {
            pair.context.assign(ids.begin(), ids.begin() + 1);
            pair.continuation.assign(ids.begin() + 1, ids.end());
        } else {
            pair.context = {encoder.bosId};
            pair.continuation = std::move(ids);
        }
    } else {
        const std::string kept = python::rstrip(context);
        const std::string movedContinuation = context.substr(kept.size()) + continuation;
        const auto whole = encoder.encode(kept + movedContinuation);
        pair.context = encoder.encode(kept);
        if (pair.context.empty())
            throw Error("a context of only whitespace encodes to no tokens");
        if (pair.context.size() <= whole.size())
            pair.continuation.assign(whole.begin() + static_cast<std::ptrdiff_t>(pair.context.size()), whole.end());
    }
    if (pair.continuation.empty())
        throw Error("the continuation '" + continuation + "' encodes to no tokens after its context");
    return pair;
}

} // namespace core
