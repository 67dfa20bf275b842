#include "io/sentencepiece_library.h"

#include "util/error.h"
#include "util/module_loader.h"

#include <dlfcn.h>

namespace core {
namespace {

template <typename Fn> Fn resolve(void* handle, const char* name, const ModuleSearch& search)
{
    return reinterpret_cast<Fn>(moduleSymbol(handle, name, search));
}

SentencePieceLibrary loadLibrary()
{
    ModuleSearch search;
    search.fileName = "libquantscope_spm.so";
    search.environment = "QUANTSCOPE_SPM_MODULE";
    search.description = "sentencepiece module";
#ifdef QS_SPM_MODULE_PATH
    search.builtInPath = QS_SPM_MODULE_PATH;
#endif
    void* handle = openModule(search, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    SentencePieceLibrary library; // never unloaded: processors may live until exit
    library.load = resolve<QsSpmLoadFn>(handle, "qs_spm_load", search);
    library.free = resolve<QsSpmFreeFn>(handle, "qs_spm_free", search);
    library.encode = resolve<QsSpmEncodeFn>(handle, "qs_spm_encode", search);
    library.decode = resolve<QsSpmDecodeFn>(handle, "qs_spm_decode", search);
    library.pieceCount = resolve<QsSpmPieceCountFn>(handle, "qs_spm_piece_count", search);
    library.train = resolve<QsSpmTrainFn>(handle, "qs_spm_train", search);
    return library;
}

} // namespace

const SentencePieceLibrary& sentencePieceLibrary()
{
    static const SentencePieceLibrary library = loadLibrary(); // C++ guarantees one thread-safe initialisation
    return library;
}

void trainSentencePiece(const std::string& flags)
{
    if (flags.find("--minloglevel=2") == std::string::npos)
        throw Error("sentencepiece training flags must include --minloglevel=2 (logging would crash; see "
                    "sentencepiece_library.h)");
    char error[1024] = {0};
    if (sentencePieceLibrary().train(flags.c_str(), error, sizeof error) != 0)
        throw Error(std::string("sentencepiece training failed: ") + error);
}

} // namespace core
