#pragma once
// C interface of libquantscope_spm, the small shared module that wraps
// libsentencepiece (see sentencepiece_library.h for why it is loaded in isolation).
// Every function returns 0 on success; on failure it writes a message to `error`.

#include <stddef.h>

extern "C" {

typedef void* (*QsSpmLoadFn)(const char* path, char* error, size_t errorSize);
typedef void (*QsSpmFreeFn)(void* processor);
/// Writes up to `capacity` ids to `ids` and the full count to `count`; call again with more room if count > capacity.
typedef int (*QsSpmEncodeFn)(void* processor, const char* text, size_t length, int* ids, size_t capacity,
                             size_t* count, char* error, size_t errorSize);
/// Writes up to `capacity` bytes to `text` and the full length to `length`.
typedef int (*QsSpmDecodeFn)(void* processor, const int* ids, size_t count, char* text, size_t capacity,
                             size_t* length, char* error, size_t errorSize);
typedef int (*QsSpmPieceCountFn)(void* processor);
/// sentencepiece trainer flags, e.g. "--input=a.txt --model_prefix=out/tokenizer --vocab_size=2048".
typedef int (*QsSpmTrainFn)(const char* flags, char* error, size_t errorSize);
}
