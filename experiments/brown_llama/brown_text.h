#pragma once
// The Brown corpus's tagged tokens as readable text: shared by prepare_data (the bundled texts)
// and make_bundled_tasks (the zero-shot tasks built on the same test documents), so a task's
// context reads exactly as the text the model is evaluated on.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace brown {

inline std::string readAll(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error(path + ": cannot open");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

/// The 500 document files ca01…cr09 of the unpacked corpus, sorted by name: document index i is
/// the position here (the split rule of prepare_data: test = i % 20 == 19).
inline std::vector<std::string> documentNames(const std::string& corpusDir)
{
    std::vector<std::string> names;
    static const std::regex docName(R"(c[a-r]\d\d)");
    for (const auto& entry : std::filesystem::directory_iterator(corpusDir))
        if (std::regex_match(entry.path().filename().string(), docName))
            names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    if (names.size() != 500)
        throw std::runtime_error(corpusDir + ": expected 500 Brown documents, found " + std::to_string(names.size()));
    return names;
}

// "Atlanta's/np$" → "Atlanta's"; the tag follows the last slash.
inline std::string stripTag(const std::string& token)
{
    const auto slash = token.rfind('/');
    return slash == std::string::npos || slash == 0 ? token : token.substr(0, slash);
}

// "Atlanta's/np$" → "np$".
inline std::string tagOf(const std::string& token)
{
    const auto slash = token.rfind('/');
    return slash == std::string::npos || slash == 0 ? std::string() : token.substr(slash + 1);
}

inline bool attachesLeft(const std::string& w)
{
    static const std::vector<std::string> kLeft{".", ",", ";", ":", "!", "?", ")", "]", "''", "'", "n't", "'s"};
    return std::find(kLeft.begin(), kLeft.end(), w) != kLeft.end();
}

inline bool attachesRight(const std::string& w)
{
    return w == "``" || w == "(" || w == "[" || w == "$";
}

// One Brown sentence line → readable text.
inline std::string detokenize(const std::string& line)
{
    std::istringstream words(line);
    std::string token;
    std::string out;
    bool glueNext = true;
    while (words >> token) {
        std::string w = stripTag(token);
        if (w.empty())
            continue;
        const bool left = attachesLeft(w);
        if (!out.empty() && !glueNext && !left)
            out += ' ';
        glueNext = attachesRight(w);
        if (w == "``" || w == "''")
            w = "\"";
        out += w;
    }
    return out;
}

} // namespace brown
