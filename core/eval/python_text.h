#pragma once
// Python's str semantics on UTF-8 text, where the harness's prompts and metrics depend on them:
// lengths in code points (acc_norm divides by len(choice)), str.strip/rstrip (whitespace as
// str.isspace defines it), str.capitalize, str.split(' ') and str.replace. Torch-free.
// Invalid UTF-8 throws core::Error: the harness reads its files as UTF-8 and fails the same way.

#include <cstddef>
#include <string>
#include <vector>

namespace core::python {

/// len(s): code points.
std::size_t length(const std::string& utf8);
/// s.strip() / s.rstrip(), whitespace per str.isspace (ASCII, U+001C–U+001F, U+0085, U+00A0,
/// U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
std::string strip(const std::string& utf8);
std::string rstrip(const std::string& utf8);
/// s.capitalize(): the first code point upper-cased, the rest lower-cased (Unicode simple case
/// mapping of the C.UTF-8 locale; Python's few one-to-many mappings, e.g. ß → "SS" at the start,
/// are not reproduced).
std::string capitalize(const std::string& utf8);
/// s.split(' '): split on every single space, keeping empty fields.
std::vector<std::string> splitOnSpace(const std::string& s);
/// s.replace(old, new): every non-overlapping occurrence, left to right.
std::string replaceAll(const std::string& s, const std::string& from, const std::string& to);
/// re.sub(r"\[.*?\]", "", s): each '[' up to the first ']' after it on the same line, removed.
std::string removeBracketed(const std::string& s);

} // namespace core::python
