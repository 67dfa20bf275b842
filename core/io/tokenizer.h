#pragma once
// Tokenizers of the supported model families. Torch-free.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace core {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    /// Token ids of `text` without any BOS/EOS.
    virtual std::vector<std::int64_t> encode(const std::string& text) const = 0;
    /// Text of `ids`; decode(encode(s)) == s for valid UTF-8 `s`
    /// (sentencepiece normalisation aside).
    virtual std::string decode(const std::vector<std::int64_t>& ids) const = 0;
    virtual std::int64_t vocabSize() const = 0;
    /// "sentencepiece" or "gpt2-bpe", for display.
    virtual std::string kind() const = 0;
};

/// Picks the tokenizer from the files in `modelDir`: tokenizer.model
/// (sentencepiece), vocab.json + merges.txt, or tokenizer.json (byte-level BPE).
/// Throws core::Error naming the directory when none is present or a file is corrupt.
std::unique_ptr<Tokenizer> loadTokenizer(const std::string& modelDir);

/// HF convention: the BOS id once at the start, then the text's ids
/// (LLaMA: <s> = 1; OPT: </s> = 2 doubles as BOS).
std::vector<std::int64_t> encodeWithBos(const Tokenizer& tokenizer, const std::string& text, std::int64_t bosId);

} // namespace core
