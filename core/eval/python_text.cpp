#include "eval/python_text.h"

#include "util/error.h"

#include <clocale>
#include <cwctype>
#include <locale.h>

namespace core::python {
namespace {

// One decoded code point and the bytes it took.
struct CodePoint {
    char32_t value;
    std::size_t bytes;
};

CodePoint decodeAt(const std::string& s, std::size_t i)
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char lead = byte(i);
    std::size_t bytes = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 0;
    if (bytes == 0 || i + bytes > s.size())
        throw Error("invalid UTF-8 at byte " + std::to_string(i));
    char32_t value = bytes == 1 ? lead : lead & (0x7f >> bytes);
    for (std::size_t k = 1; k < bytes; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80)
            throw Error("invalid UTF-8 at byte " + std::to_string(i + k));
        value = (value << 6) | (byte(i + k) & 0x3f);
    }
    return {value, bytes};
}

void appendUtf8(std::string& out, char32_t c)
{
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xc0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xe0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
    }
}

std::vector<CodePoint> decode(const std::string& s)
{
    std::vector<CodePoint> points;
    for (std::size_t i = 0; i < s.size();) {
        points.push_back(decodeAt(s, i));
        i += points.back().bytes;
    }
    return points;
}

bool isSpace(char32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

// The C.UTF-8 locale's wide-character case tables, independent of the process's locale.
locale_t unicodeLocale()
{
    static const locale_t locale = [] {
        locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
        return l != static_cast<locale_t>(nullptr) ? l : newlocale(LC_CTYPE_MASK, "C", static_cast<locale_t>(nullptr));
    }();
    return locale;
}

char32_t toUpper(char32_t c)
{
    return c < 0x80 ? static_cast<char32_t>(c >= 'a' && c <= 'z' ? c - 32 : c)
                    : static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), unicodeLocale()));
}

char32_t toLower(char32_t c)
{
    return c < 0x80 ? static_cast<char32_t>(c >= 'A' && c <= 'Z' ? c + 32 : c)
                    : static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), unicodeLocale()));
}

} // namespace

std::size_t length(const std::string& utf8)
{
    return decode(utf8).size();
}

std::string rstrip(const std::string& utf8)
{
    std::size_t end = 0;
    for (std::size_t i = 0; i < utf8.size();) {
        const CodePoint c = decodeAt(utf8, i);
        i += c.bytes;
        if (!isSpace(c.value))
            end = i;
    }
    return utf8.substr(0, end);
}

std::string strip(const std::string& utf8)
{
    const std::string right = rstrip(utf8);
    std::size_t begin = 0;
    while (begin < right.size()) {
        const CodePoint c = decodeAt(right, begin);
        if (!isSpace(c.value))
            break;
        begin += c.bytes;
    }
    return right.substr(begin);
}

std::string capitalize(const std::string& utf8)
{
    std::string out;
    bool first = true;
    for (const CodePoint& c : decode(utf8)) {
        appendUtf8(out, first ? toUpper(c.value) : toLower(c.value));
        first = false;
    }
    return out;
}

std::vector<std::string> splitOnSpace(const std::string& s)
{
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t space = s.find(' '); space != std::string::npos; space = s.find(' ', start)) {
        fields.push_back(s.substr(start, space - start));
        start = space + 1;
    }
    fields.push_back(s.substr(start));
    return fields;
}

std::string replaceAll(const std::string& s, const std::string& from, const std::string& to)
{
    if (from.empty())
        return s;
    std::string out;
    std::size_t start = 0;
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, start)) {
        out.append(s, start, at - start).append(to);
        start = at + from.size();
    }
    return out.append(s, start, std::string::npos);
}

std::string removeBracketed(const std::string& s)
{
    // Leftmost-first, non-greedy, '.' not matching '\n': from each '[' the match ends at the
    // first ']' unless a newline comes before it, in which case that '[' stays.
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        if (s[i] == '[') {
            const std::size_t close = s.find_first_of("]\n", i + 1);
            if (close != std::string::npos && s[close] == ']') {
                i = close + 1;
                continue;
            }
        }
        out += s[i++];
    }
    return out;
}

} // namespace core::python
