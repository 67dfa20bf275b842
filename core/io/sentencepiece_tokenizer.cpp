#include "io/sentencepiece_tokenizer.h"

#include "io/sentencepiece_library.h"
#include "util/error.h"

#include <filesystem>

namespace core {

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& modelPath)
{
    if (!std::filesystem::exists(modelPath))
        throw Error(modelPath + ": tokenizer file not found");
    char error[1024] = {0};
    m_processor = sentencePieceLibrary().load(modelPath.c_str(), error, sizeof error);
    if (!m_processor)
        throw Error(modelPath + ": not a valid sentencepiece model (" + error + ")");
    m_vocabSize = sentencePieceLibrary().pieceCount(m_processor);
}

SentencePieceTokenizer::~SentencePieceTokenizer()
{
    if (m_processor)
        sentencePieceLibrary().free(m_processor);
}

std::vector<std::int64_t> SentencePieceTokenizer::encode(const std::string& text) const
{
    // A token never covers less than one byte... except byte-fallback pieces, so size for both.
    std::vector<int> ids(text.size() + 16);
    std::size_t count = 0;
    char error[1024] = {0};
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (sentencePieceLibrary().encode(m_processor, text.data(), text.size(), ids.data(), ids.size(), &count, error,
                                          sizeof error) != 0)
            throw Error(std::string("sentencepiece encode failed: ") + error);
        if (count <= ids.size())
            break;
        ids.resize(count);
    }
    return {ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(count)};
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int64_t>& ids) const
{
    std::vector<int> narrow;
    narrow.reserve(ids.size());
    for (auto id : ids) {
        if (id < 0 || id >= m_vocabSize)
            throw Error("token id " + std::to_string(id) + " is outside the vocabulary");
        narrow.push_back(static_cast<int>(id));
    }
    std::string text(ids.size() * 8 + 16, '\0');
    std::size_t length = 0;
    char error[1024] = {0};
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (sentencePieceLibrary().decode(m_processor, narrow.data(), narrow.size(), text.data(), text.size(), &length,
                                          error, sizeof error) != 0)
            throw Error(std::string("sentencepiece decode failed: ") + error);
        if (length <= text.size())
            break;
        text.resize(length);
    }
    text.resize(length);
    return text;
}

std::int64_t SentencePieceTokenizer::vocabSize() const
{
    return m_vocabSize;
}

} // namespace core
