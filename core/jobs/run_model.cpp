#include "jobs/run_model.h"

#include "model/global_tensors.h"
#include "model/weight_layout.h"
#include "store/run_artifacts.h"

namespace core {

BlockWeights storedQuantizedBlock(const DecoderModel& fpModel, const ArtifactFile& artifacts, std::int64_t index)
{
    BlockWeights weights = fpModel.block(index);
    const std::string prefix = blockPrefix(fpModel.config(), index);
    for (const auto& name : linearShortNames(fpModel.config().family))
        weights.tensors[name + ".weight"] = readQuantizedLinear(artifacts, prefix + name).dequantize();
    for (const auto& [name, tensor] : readFoldedTensors(artifacts))
        if (name.rfind(prefix, 0) == 0)
            weights.tensors[name.substr(prefix.size())] = tensor;
    return weights;
}

void loadStoredModel(DecoderModel& model, const ArtifactFile& artifacts)
{
    model.replaceGlobals(withStoredGlobals(model.config(), model.globals(), readFoldedTensors(artifacts)));
    for (std::int64_t b = 0; b < model.config().numLayers; ++b)
        model.replaceBlock(b, storedQuantizedBlock(model, artifacts, b));
}

} // namespace core
