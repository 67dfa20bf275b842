// Fuzzes the safetensors reader (header length, JSON header, dtypes, shapes, offsets). Every
// input either opens, with every tensor's bytes inside the file, or throws core::Error; any other
// exception, a crash or a sanitizer report is a finding.

#include "fuzz_input_file.h"

#include "io/safetensors.h"
#include "util/error.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = fuzz::writeInput("model.safetensors", data, size);
    try {
        const core::SafetensorsFile file(path);
        for (const std::string& name : file.names()) {
            const core::TensorInfo& info = file.info(name);
            // What open() promised: the data lies inside the file and matches the shape.
            if (info.end < info.begin || info.end - info.begin != info.numel() * core::storageTypeSize(info.type))
                std::abort();
            const std::uint8_t* first = file.tensorBytes(info);
            volatile std::uint8_t sink = 0;
            for (std::uint64_t i = 0; i < info.end - info.begin; ++i)
                sink = sink ^ first[i]; // ASan catches a read past the mapping
        }
    } catch (const core::Error&) {
    }
    return 0;
}
