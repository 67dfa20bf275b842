#include "util/fingerprint.h"

#include "util/error.h"
#include "util/mapped_file.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace core {
namespace {

constexpr std::size_t kSampleBytes = 1 << 20;

const std::vector<std::string>& tokenizerFileNames()
{
    static const std::vector<std::string> names{"tokenizer.model", "tokenizer.json", "vocab.json", "merges.txt",
                                                "tokenizer_config.json"};
    return names;
}

} // namespace

void Fingerprint::add(std::string_view bytes)
{
    for (const unsigned char c : bytes) {
        m_state ^= c;
        m_state *= 0x100000001b3ULL; // FNV-1a prime
    }
}

void Fingerprint::add(std::int64_t value)
{
    add(std::string_view(reinterpret_cast<const char*>(&value), sizeof value));
}

std::string Fingerprint::hex() const
{
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(m_state));
    return buffer;
}

std::string fileFingerprint(const std::string& path)
{
    const MappedFile file(path);
    Fingerprint fingerprint;
    fingerprint.add(std::string_view(reinterpret_cast<const char*>(file.data()), file.size()));
    return fingerprint.hex();
}

std::string modelFingerprint(const std::string& modelDir)
{
    namespace fs = std::filesystem;
    Fingerprint fingerprint;
    fingerprint.add(std::string_view(fileFingerprint((fs::path(modelDir) / "config.json").string())));
    for (const auto& name : tokenizerFileNames()) {
        const fs::path path = fs::path(modelDir) / name;
        if (fs::exists(path)) {
            fingerprint.add(std::string_view(name));
            fingerprint.add(std::string_view(fileFingerprint(path.string())));
        }
    }
    std::vector<fs::path> weightFiles;
    for (const auto& entry : fs::directory_iterator(modelDir))
        if (entry.path().extension() == ".safetensors")
            weightFiles.push_back(entry.path());
    std::sort(weightFiles.begin(), weightFiles.end());
    for (const auto& path : weightFiles) {
        const MappedFile file(path.string());
        const auto* bytes = reinterpret_cast<const char*>(file.data());
        const std::size_t size = file.size();
        fingerprint.add(std::string_view(path.filename().string()));
        fingerprint.add(static_cast<std::int64_t>(size));
        const std::size_t head = std::min(size, kSampleBytes);
        fingerprint.add(std::string_view(bytes, head));
        const std::size_t tailStart = size > kSampleBytes ? size - kSampleBytes : 0;
        fingerprint.add(std::string_view(bytes + std::max(tailStart, head), size - std::max(tailStart, head)));
    }
    return fingerprint.hex();
}

} // namespace core
