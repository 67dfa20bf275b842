// libquantscope_spm: a C wrapper around libsentencepiece, built as a separate
// module and loaded with RTLD_LOCAL | RTLD_DEEPBIND (sentencepiece_library.cpp).
// Exceptions and C++ types never cross this boundary.

#include "io/sentencepiece_shim_api.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

void setError(char* error, size_t size, const std::string& message)
{
    if (error && size > 0) {
        std::strncpy(error, message.c_str(), size - 1);
        error[size - 1] = '\0';
    }
}

} // namespace

extern "C" {

__attribute__((visibility("default"))) void* qs_spm_load(const char* path, char* error, size_t errorSize)
{
    auto* processor = new sentencepiece::SentencePieceProcessor();
    const auto status = processor->Load(path);
    if (!status.ok()) {
        setError(error, errorSize, status.ToString());
        delete processor;
        return nullptr;
    }
    return processor;
}

__attribute__((visibility("default"))) void qs_spm_free(void* processor)
{
    delete static_cast<sentencepiece::SentencePieceProcessor*>(processor);
}

__attribute__((visibility("default"))) int qs_spm_encode(void* processor, const char* text, size_t length, int* ids,
                                                         size_t capacity, size_t* count, char* error, size_t errorSize)
{
    std::vector<int> pieces;
    const auto status =
        static_cast<sentencepiece::SentencePieceProcessor*>(processor)->Encode(std::string(text, length), &pieces);
    if (!status.ok()) {
        setError(error, errorSize, status.ToString());
        return 1;
    }
    *count = pieces.size();
    std::memcpy(ids, pieces.data(), std::min(capacity, pieces.size()) * sizeof(int));
    return 0;
}

__attribute__((visibility("default"))) int qs_spm_decode(void* processor, const int* ids, size_t count, char* text,
                                                         size_t capacity, size_t* length, char* error, size_t errorSize)
{
    std::string decoded;
    const auto status = static_cast<sentencepiece::SentencePieceProcessor*>(processor)->Decode(
        std::vector<int>(ids, ids + count), &decoded);
    if (!status.ok()) {
        setError(error, errorSize, status.ToString());
        return 1;
    }
    *length = decoded.size();
    std::memcpy(text, decoded.data(), std::min(capacity, decoded.size()));
    return 0;
}

__attribute__((visibility("default"))) int qs_spm_piece_count(void* processor)
{
    return static_cast<sentencepiece::SentencePieceProcessor*>(processor)->GetPieceSize();
}

__attribute__((visibility("default"))) int qs_spm_train(const char* flags, char* error, size_t errorSize)
{
    const auto status = sentencepiece::SentencePieceTrainer::Train(flags);
    if (!status.ok()) {
        setError(error, errorSize, status.ToString());
        return 1;
    }
    return 0;
}
}
