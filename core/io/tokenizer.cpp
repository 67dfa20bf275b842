#include "io/tokenizer.h"

#include "io/byte_bpe_tokenizer.h"
#include "io/sentencepiece_tokenizer.h"
#include "util/error.h"

#include <filesystem>

namespace core {

std::unique_ptr<Tokenizer> loadTokenizer(const std::string& modelDir)
{
    namespace fs = std::filesystem;
    const fs::path dir(modelDir);
    if (fs::exists(dir / "tokenizer.model"))
        return std::make_unique<SentencePieceTokenizer>((dir / "tokenizer.model").string());
    if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt"))
        return std::make_unique<ByteBpeTokenizer>(
            ByteBpeTokenizer::fromVocabAndMerges((dir / "vocab.json").string(), (dir / "merges.txt").string()));
    if (fs::exists(dir / "tokenizer.json"))
        return std::make_unique<ByteBpeTokenizer>(ByteBpeTokenizer::fromTokenizerJson((dir / "tokenizer.json").string()));
    throw Error(modelDir + ": missing tokenizer (expected tokenizer.model, vocab.json + merges.txt, or tokenizer.json)");
}

std::vector<std::int64_t> encodeWithBos(const Tokenizer& tokenizer, const std::string& text, std::int64_t bosId)
{
    std::vector<std::int64_t> ids;
    ids.push_back(bosId);
    const auto body = tokenizer.encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    return ids;
}

} // namespace core
