#include "io/sentencepiece_library.h"

#include "util/error.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

namespace core {
namespace {

template <typename Fn>
Fn resolve(void* handle, const char* name, const std::string& path)
{
    void* symbol = ::dlsym(handle, name);
    if (!symbol)
        throw Error(path + ": missing symbol " + name);
    return reinterpret_cast<Fn>(symbol);
}

SentencePieceLibrary loadLibrary()
{
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("QUANTSCOPE_SPM_MODULE"); env && *env)
        candidates.emplace_back(env);
#ifdef QS_SPM_MODULE_PATH
    candidates.emplace_back(QS_SPM_MODULE_PATH);
#endif
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        candidates.push_back((exe.parent_path() / "libquantscope_spm.so").string());
        candidates.push_back((exe.parent_path() / "../lib/quantscope/libquantscope_spm.so").string());
    }
    std::string tried;
    for (const auto& path : candidates) {
        if (!std::filesystem::exists(path)) {
            tried += " " + path;
            continue;
        }
        void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        if (!handle)
            throw Error(path + ": cannot load sentencepiece module (" + ::dlerror() + ")");
        SentencePieceLibrary library;
        library.load = resolve<QsSpmLoadFn>(handle, "qs_spm_load", path);
        library.free = resolve<QsSpmFreeFn>(handle, "qs_spm_free", path);
        library.encode = resolve<QsSpmEncodeFn>(handle, "qs_spm_encode", path);
        library.decode = resolve<QsSpmDecodeFn>(handle, "qs_spm_decode", path);
        library.pieceCount = resolve<QsSpmPieceCountFn>(handle, "qs_spm_piece_count", path);
        library.train = resolve<QsSpmTrainFn>(handle, "qs_spm_train", path);
        return library; // never unloaded: processors may live until exit
    }
    throw Error("sentencepiece module libquantscope_spm.so not found (tried:" + tried + ")");
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
