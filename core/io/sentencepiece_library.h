#pragma once
// Access to libsentencepiece through libquantscope_spm, loaded in isolation.
//
// Why: Debian's libsentencepiece bundles its own protobuf-lite (3.14) and
// exports its symbols, while LibTorch links the system libprotobuf (3.21). In
// one global symbol scope either protobuf's start-up code binds to
// sentencepiece's copies and crashes before main(), or sentencepiece binds to
// the system protobuf and aborts on a version check. Loading sentencepiece
// behind a module opened with RTLD_LOCAL | RTLD_DEEPBIND gives it its own scope.
//
// Cost of DEEPBIND: sentencepiece then sees libstdc++'s own std::cerr, not the
// executable's copy-relocated one, so it must never log: trainer flags always
// carry --minloglevel=2 (trainSentencePiece() enforces it).

#include "io/sentencepiece_shim_api.h"

#include <string>

namespace core {

struct SentencePieceLibrary {
    QsSpmLoadFn load = nullptr;
    QsSpmFreeFn free = nullptr;
    QsSpmEncodeFn encode = nullptr;
    QsSpmDecodeFn decode = nullptr;
    QsSpmPieceCountFn pieceCount = nullptr;
    QsSpmTrainFn train = nullptr;
};

/// Loads the module once (thread-safe) and returns its entry points. Looks in
/// $QUANTSCOPE_SPM_MODULE, the build tree, then next to the executable.
/// Throws core::Error naming the paths tried when it cannot be loaded.
const SentencePieceLibrary& sentencePieceLibrary();

/// Trains a sentencepiece model with trainer flags ("--input=... --model_prefix=..."). Throws core::Error.
void trainSentencePiece(const std::string& flags);

} // namespace core
