#pragma once
// GPT-2 byte-level BPE (used by OPT), written from the published description:
// bytes are mapped to printable unicode characters, text is split by the GPT-2
// pre-tokenisation pattern, and each piece is merged by rank (Radford et al.
// 2019, "Language Models are Unsupervised Multitask Learners", section 2.2).

#include "io/tokenizer.h"

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace core {

class ByteBpeTokenizer : public Tokenizer {
public:
    /// `vocab`: token string (byte-unicode form) → id. `merges`: pairs in rank order.
    ByteBpeTokenizer(std::unordered_map<std::string, std::int64_t> vocab,
                     const std::vector<std::pair<std::string, std::string>>& merges);

    /// From vocab.json + merges.txt. Throws core::Error naming the file at fault.
    static ByteBpeTokenizer fromVocabAndMerges(const std::string& vocabPath, const std::string& mergesPath);
    /// From a Hugging Face tokenizer.json whose model is BPE. Throws core::Error naming the file.
    static ByteBpeTokenizer fromTokenizerJson(const std::string& path);

    std::vector<std::int64_t> encode(const std::string& text) const override;
    std::string decode(const std::vector<std::int64_t>& ids) const override;
    std::int64_t vocabSize() const override;
    std::string kind() const override { return "gpt2-bpe"; }

    /// The GPT-2 pre-tokenisation of `text`, as byte strings (exposed for tests).
    static std::vector<std::string> preTokenize(const std::string& text);

private:
    std::vector<std::int64_t> encodePiece(const std::string& piece) const;

    std::unordered_map<std::string, std::int64_t> m_vocab;
    std::vector<std::string> m_idToToken;
    std::unordered_map<std::string, int> m_mergeRanks; ///< "left right" → rank
};

} // namespace core
