// Fuzzes the byte-level BPE tokenizer files. The first byte picks the format: even, vocab.json +
// merges.txt (the rest split at the first NUL byte); odd, one tokenizer.json. A tokenizer that
// loads must encode and decode any text without crashing, and every id it encodes to must be
// inside its vocabulary.

#include "fuzz_input_file.h"

#include "io/byte_bpe_tokenizer.h"
#include "util/error.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::optional<core::ByteBpeTokenizer> tokenizer;
    try {
        if (data[0] % 2 == 0) {
            const std::size_t split = std::min(rest.find('\0'), rest.size());
            const std::string vocab = fuzz::writeInput("vocab.json", rest.substr(0, split));
            const std::string merges =
                fuzz::writeInput("merges.txt", split < rest.size() ? rest.substr(split + 1) : std::string());
            tokenizer.emplace(core::ByteBpeTokenizer::fromVocabAndMerges(vocab, merges));
        } else {
            tokenizer.emplace(core::ByteBpeTokenizer::fromTokenizerJson(fuzz::writeInput("tokenizer.json", rest)));
        }
    } catch (const core::Error&) {
        return 0;
    }
    for (const std::string text : {std::string("Hello world, it's 2026!\n\t  x"), rest.substr(0, 256)}) {
        try {
            const std::vector<std::int64_t> ids = tokenizer->encode(text);
            for (const std::int64_t id : ids)
                if (id < 0 || id >= tokenizer->vocabSize())
                    std::abort();
            (void)tokenizer->decode(ids);
        } catch (const core::Error&) {
            // A text with a byte the vocabulary cannot spell is refused by name: allowed.
        }
    }
    return 0;
}
