#pragma once

#include <string>

namespace core {

/// Reads a whole file as bytes. Throws core::Error naming the file when it is missing or unreadable.
std::string readTextFile(const std::string& path);

/// Writes `contents` to `path` atomically (temporary file + rename), so a crash
/// never leaves a half-written file where a good one was.
void writeFileAtomically(const std::string& path, const std::string& contents);

} // namespace core
