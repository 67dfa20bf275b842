#include "io/byte_bpe_tokenizer.h"

#include "util/error.h"
#include "util/strict_json.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <array>
#include <clocale>
#include <cstdint>
#include <cwctype>
#include <limits>
#include <locale.h>
#include <sstream>

namespace core {
namespace {

// Far above any real vocabulary (the largest are a few hundred thousand tokens).
constexpr std::int64_t kMaxTokenId = std::int64_t{1} << 24;

// --- UTF-8 --------------------------------------------------------------------

void appendUtf8(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

struct CodePoint {
    char32_t value;
    std::size_t begin; ///< byte offset in the source string
    std::size_t end;
};

// Decodes UTF-8; an invalid byte becomes a code point of its own (U+FFFD class
// "other") so that every byte still reaches the byte-level BPE.
std::vector<CodePoint> decodeUtf8(const std::string& text)
{
    std::vector<CodePoint> result;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        int length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
        char32_t cp = length == 1 ? lead : length == 2 ? (lead & 0x1F) : length == 3 ? (lead & 0x0F) : (lead & 0x07);
        bool valid = length > 0 && i + length <= text.size();
        for (int k = 1; valid && k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80)
                valid = false;
            cp = (cp << 6) | (next & 0x3F);
        }
        if (!valid) {
            result.push_back({0xFFFD, i, i + 1});
            ++i;
        } else {
            result.push_back({cp, i, i + length});
            i += length;
        }
    }
    return result;
}

// --- character classes of the GPT-2 pattern (\p{L}, \p{N}, \s) ----------------

enum class CharClass { Letter, Number, Space, Other };

// Unicode classification comes from glibc's C.UTF-8 locale; it is created once
// and never changed, so sharing it between threads is safe.
locale_t unicodeLocale()
{
    static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    return locale;
}

CharClass classify(char32_t cp)
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
            return CharClass::Letter;
        if (cp >= '0' && cp <= '9')
            return CharClass::Number;
        if (cp == ' ' || (cp >= '\t' && cp <= '\r'))
            return CharClass::Space;
        return CharClass::Other;
    }
    if (cp == 0xFFFD)
        return CharClass::Other;
    const locale_t locale = unicodeLocale();
    if (!locale) // no Unicode tables: treat every non-ASCII character as a letter
        return CharClass::Letter;
    const auto wc = static_cast<wint_t>(cp);
    if (iswspace_l(wc, locale))
        return CharClass::Space;
    if (iswdigit_l(wc, locale))
        return CharClass::Number;
    if (iswalpha_l(wc, locale))
        return CharClass::Letter;
    return CharClass::Other;
}

// --- GPT-2's reversible byte ↔ unicode mapping --------------------------------

struct ByteMapping {
    std::array<std::string, 256> byteToText;
    std::unordered_map<char32_t, unsigned char> codeToByte;
};

const ByteMapping& byteMapping()
{
    static const ByteMapping mapping = [] {
        ByteMapping m;
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
            appendUtf8(m.byteToText[b], cp);
            m.codeToByte[cp] = static_cast<unsigned char>(b);
        }
        return m;
    }();
    return mapping;
}

bool isContraction(const std::vector<CodePoint>& cps, std::size_t i, std::size_t& length)
{
    if (cps[i].value != '\'' || i + 1 >= cps.size())
        return false;
    const char32_t a = cps[i + 1].value;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') {
        length = 2;
        return true;
    }
    if (i + 2 < cps.size()) {
        const char32_t b = cps[i + 2].value;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
            length = 3;
            return true;
        }
    }
    return false;
}

} // namespace

// Pattern: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
std::vector<std::string> ByteBpeTokenizer::preTokenize(const std::string& text)
{
    const std::vector<CodePoint> cps = decodeUtf8(text);
    std::vector<CharClass> classes;
    classes.reserve(cps.size());
    for (const auto& cp : cps)
        classes.push_back(classify(cp.value));

    std::vector<std::string> pieces;
    const std::size_t n = cps.size();
    auto emit = [&](std::size_t from, std::size_t to) {
        pieces.push_back(text.substr(cps[from].begin, cps[to - 1].end - cps[from].begin));
    };
    std::size_t i = 0;
    while (i < n) {
        std::size_t contraction = 0;
        if (isContraction(cps, i, contraction)) {
            emit(i, i + contraction);
            i += contraction;
            continue;
        }
        // " ?X+" where X is letters, numbers or "other": an optional leading space.
        std::size_t start = i;
        std::size_t j = (cps[i].value == ' ' && i + 1 < n && classes[i + 1] != CharClass::Space) ? i + 1 : i;
        if (classes[j] != CharClass::Space) {
            const CharClass run = classes[j];
            while (j < n && classes[j] == run)
                ++j;
            emit(start, j);
            i = j;
            continue;
        }
        // Whitespace: "\s+(?!\S)" keeps the last space for the next word; "\s+" otherwise.
        std::size_t k = i;
        while (k < n && classes[k] == CharClass::Space)
            ++k;
        if (k == n) {
            emit(i, k);
            i = k;
        } else if (k - i >= 2) {
            emit(i, k - 1);
            i = k - 1;
        } else {
            emit(i, k); // one non-' ' whitespace character before a non-space
            i = k;
        }
    }
    return pieces;
}

ByteBpeTokenizer::ByteBpeTokenizer(std::unordered_map<std::string, std::int64_t> vocab,
                                   const std::vector<std::pair<std::string, std::string>>& merges)
    : m_vocab(std::move(vocab))
{
    std::int64_t maxId = -1;
    for (const auto& [token, id] : m_vocab) {
        if (id < 0)
            throw Error("tokenizer vocabulary: negative id for token '" + token + "'");
        // The id → token table is dense: an absurd id would allocate gigabytes for nothing.
        if (id >= kMaxTokenId)
            throw Error("tokenizer vocabulary: id " + std::to_string(id) + " of token '" + token +
                        "' is beyond the largest supported id " + std::to_string(kMaxTokenId - 1));
        maxId = std::max(maxId, id);
    }
    m_idToToken.assign(static_cast<std::size_t>(maxId + 1), std::string());
    for (const auto& [token, id] : m_vocab)
        m_idToToken[static_cast<std::size_t>(id)] = token;
    for (std::size_t rank = 0; rank < merges.size(); ++rank)
        m_mergeRanks.emplace(merges[rank].first + " " + merges[rank].second, static_cast<int>(rank));
}

namespace {

// A token id as a file writes it: an integer, never a float or a number beyond int64 (found by
// fuzz_bpe_tokenizer: 1.2e31 was converted to int64, undefined behaviour).
std::int64_t tokenId(const nlohmann::json& value, const std::string& file, const std::string& token)
{
    if (!value.is_number_integer() || (value.is_number_unsigned() && value.get<std::uint64_t>() > INT64_MAX))
        throw Error(file + ": the id of token '" + token + "' is not an integer id (" + value.dump() + ")");
    return value.get<std::int64_t>();
}

} // namespace

ByteBpeTokenizer ByteBpeTokenizer::fromVocabAndMerges(const std::string& vocabPath, const std::string& mergesPath)
{
    std::unordered_map<std::string, std::int64_t> vocab;
    try {
        const auto json = parseStrictJson(readTextFile(vocabPath), vocabPath);
        if (!json.is_object())
            throw Error(vocabPath + ": the vocabulary must be a JSON object of token: id");
        for (const auto& [token, id] : json.items())
            vocab[token] = tokenId(id, vocabPath, token);
    } catch (const nlohmann::json::exception& e) {
        throw Error(vocabPath + ": invalid vocabulary JSON (" + e.what() + ")");
    }
    std::vector<std::pair<std::string, std::string>> merges;
    std::istringstream lines(readTextFile(mergesPath));
    std::string line;
    int lineNumber = 0;
    while (std::getline(lines, line)) {
        ++lineNumber;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty() || line.rfind("#version", 0) == 0)
            continue;
        const auto space = line.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 == line.size())
            throw Error(mergesPath + ": line " + std::to_string(lineNumber) + " is not a merge 'left right'");
        merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    }
    return ByteBpeTokenizer(std::move(vocab), merges);
}

ByteBpeTokenizer ByteBpeTokenizer::fromTokenizerJson(const std::string& path)
{
    std::unordered_map<std::string, std::int64_t> vocab;
    std::vector<std::pair<std::string, std::string>> merges;
    try {
        const auto json = parseStrictJson(readTextFile(path), path);
        const auto& model = json.at("model");
        if (model.value("type", std::string("BPE")) != "BPE")
            throw Error(path + ": model.type is not BPE");
        for (const auto& [token, id] : model.at("vocab").items())
            vocab[token] = tokenId(id, path, token);
        for (const auto& merge : model.at("merges")) {
            if (merge.is_array() && merge.size() == 2) {
                merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
            } else {
                const auto text = merge.get<std::string>();
                const auto space = text.find(' ');
                if (space == std::string::npos)
                    throw Error(path + ": merge '" + text + "' is not 'left right'");
                merges.emplace_back(text.substr(0, space), text.substr(space + 1));
            }
        }
        if (json.contains("added_tokens"))
            for (const auto& added : json["added_tokens"]) {
                const std::string content = added.at("content").get<std::string>();
                vocab.emplace(content, tokenId(added.at("id"), path, content));
            }
    } catch (const nlohmann::json::exception& e) {
        throw Error(path + ": invalid tokenizer.json (" + e.what() + ")");
    }
    return ByteBpeTokenizer(std::move(vocab), merges);
}

std::vector<std::int64_t> ByteBpeTokenizer::encodePiece(const std::string& piece) const
{
    const ByteMapping& mapping = byteMapping();
    std::vector<std::string> symbols;
    symbols.reserve(piece.size());
    for (unsigned char byte : piece)
        symbols.push_back(mapping.byteToText[byte]);

    // Merge the lowest-ranked adjacent pair until no pair has a rank.
    std::string key;
    while (symbols.size() > 1) {
        int bestRank = std::numeric_limits<int>::max();
        std::size_t bestAt = 0;
        for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
            key.assign(symbols[i]).append(" ").append(symbols[i + 1]);
            auto it = m_mergeRanks.find(key);
            if (it != m_mergeRanks.end() && it->second < bestRank) {
                bestRank = it->second;
                bestAt = i;
            }
        }
        if (bestRank == std::numeric_limits<int>::max())
            break;
        const std::string left = symbols[bestAt];
        const std::string right = symbols[bestAt + 1];
        std::vector<std::string> merged;
        merged.reserve(symbols.size());
        for (std::size_t i = 0; i < symbols.size(); ++i) {
            if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
                merged.push_back(left + right);
                ++i;
            } else {
                merged.push_back(symbols[i]);
            }
        }
        symbols = std::move(merged);
    }

    std::vector<std::int64_t> ids;
    ids.reserve(symbols.size());
    for (const auto& symbol : symbols) {
        auto it = m_vocab.find(symbol);
        if (it == m_vocab.end())
            throw Error("byte-level BPE: token '" + symbol + "' is not in the vocabulary (incomplete vocab.json?)");
        ids.push_back(it->second);
    }
    return ids;
}

std::vector<std::int64_t> ByteBpeTokenizer::encode(const std::string& text) const
{
    std::vector<std::int64_t> ids;
    for (const auto& piece : preTokenize(text)) {
        const auto pieceIds = encodePiece(piece);
        ids.insert(ids.end(), pieceIds.begin(), pieceIds.end());
    }
    return ids;
}

std::string ByteBpeTokenizer::decode(const std::vector<std::int64_t>& ids) const
{
    const ByteMapping& mapping = byteMapping();
    std::string bytes;
    for (auto id : ids) {
        if (id < 0 || id >= static_cast<std::int64_t>(m_idToToken.size()) || m_idToToken[id].empty())
            throw Error("token id " + std::to_string(id) + " is outside the vocabulary");
        for (const auto& cp : decodeUtf8(m_idToToken[id])) {
            auto it = mapping.codeToByte.find(cp.value);
            if (it != mapping.codeToByte.end())
                bytes += static_cast<char>(it->second);
            else // added tokens such as </s> are stored as plain text
                bytes += m_idToToken[id].substr(cp.begin, cp.end - cp.begin);
        }
    }
    return bytes;
}

std::int64_t ByteBpeTokenizer::vocabSize() const
{
    return static_cast<std::int64_t>(m_idToToken.size());
}

} // namespace core
