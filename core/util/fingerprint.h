#pragma once
// Identity fingerprints of files: 64-bit FNV-1a, printed as 16 hex digits. They
// tell "same model / same text as that run" apart from "changed since"; they are
// not cryptographic. Torch-free.

#include <cstdint>
#include <string>
#include <string_view>

namespace core {

class Fingerprint {
public:
    void add(std::string_view bytes);
    void add(std::int64_t value);
    std::string hex() const;

private:
    std::uint64_t m_state = 0xcbf29ce484222325ULL; // FNV-1a offset basis
};

/// Fingerprint of a whole file's bytes. Throws core::Error naming the file when unreadable.
std::string fileFingerprint(const std::string& path);

/// Fingerprint of a model directory: config.json, tokenizer files, and for each
/// safetensors file its name, size, header and the first and last MiB of data.
/// Sampling keeps it fast for multi-GB checkpoints; an edit anywhere else in the
/// data with the size unchanged would go unnoticed (acceptable for an identity check).
std::string modelFingerprint(const std::string& modelDir);

} // namespace core
