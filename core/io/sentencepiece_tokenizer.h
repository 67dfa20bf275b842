#pragma once

#include "io/tokenizer.h"

namespace core {

/// LLaMA-style tokenizer.model, through libsentencepiece (see sentencepiece_library.h).
class SentencePieceTokenizer : public Tokenizer {
public:
    /// Throws core::Error naming `modelPath` when it is missing or not a sentencepiece model.
    explicit SentencePieceTokenizer(const std::string& modelPath);
    ~SentencePieceTokenizer() override;
    SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
    SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

    std::vector<std::int64_t> encode(const std::string& text) const override;
    std::string decode(const std::vector<std::int64_t>& ids) const override;
    std::int64_t vocabSize() const override;
    std::string kind() const override { return "sentencepiece"; }

private:
    void* m_processor = nullptr; ///< owned; freed through the module
    std::int64_t m_vocabSize = 0;
};

} // namespace core
