#pragma once
// The Brown corpus's tagged tokens as readable text: shared by prepare_data (the bundled texts)
// and make_bundled_tasks (the zero-shot tasks built on the same test documents), so a task's
// context reads exactly as the text the model is evaluated on.

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace brown {

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
