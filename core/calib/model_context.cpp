#include "calib/model_context.h"

#include "model/global_tensors.h"
#include "model/weight_layout.h"
#include "quant/quantized_linear.h"

namespace core {

ModelContext::ModelContext(DecoderModel& model, const torch::Tensor& calibrationIds, const WeightQuantSpec& spec,
                           const ForwardHooks& streamHooks, std::int64_t batchSize, const CancelToken& cancel,
                           Sink sink)
    : m_model(model), m_ids(calibrationIds), m_attention(model.config(), calibrationIds.size(1), model.device()),
      m_spec(spec), m_streamHooks(streamHooks), m_batchSize(batchSize), m_cancel(cancel), m_sink(std::move(sink))
{
}

torch::Tensor ModelContext::runBlocks(std::int64_t first, std::int64_t last, const torch::Tensor& hidden,
                                      const ForwardHooks* hooks, bool withGradients) const
{
    torch::AutoGradMode gradients(withGradients);
    torch::Tensor state = hidden;
    for (std::int64_t i = first; i < last; ++i) {
        m_cancel.throwIfCancelled();
        state = m_model.runBlock(i, state, m_attention, hooks);
    }
    return state;
}

torch::Tensor ModelContext::outputCrossEntropy(const torch::Tensor& hidden, const torch::Tensor& ids) const
{
    const std::int64_t tokens = ids.size(1);
    const torch::Tensor logits = m_model.logits(hidden).narrow(1, 0, tokens - 1);
    return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                                ids.narrow(1, 1, tokens - 1).reshape({-1}).to(logits.device()));
}

void ModelContext::replaceGlobals(GlobalWeights weights)
{
    const auto changed = changedGlobalTensors(config(), m_model.globals(), weights);
    m_model.replaceGlobals(std::move(weights));
    m_globalsReplaced = m_globalsReplaced || !changed.empty();
    if (m_sink.globalsReplaced && !changed.empty())
        m_sink.globalsReplaced(changed);
}

void ModelContext::replaceBlock(std::int64_t index, BlockWeights weights,
                                const std::map<std::string, QuantizedLinear>& stored)
{
    m_model.replaceBlock(index, std::move(weights));
    m_transformedBlocks.insert(index);
    if (m_sink.blockReplaced)
        m_sink.blockReplaced(index, m_model.block(index), stored);
}

void ModelContext::transformBlock(std::int64_t index, BlockWeights weights)
{
    m_model.replaceBlock(index, std::move(weights));
    m_transformedBlocks.insert(index);
    if (m_sink.blockTransformed)
        m_sink.blockTransformed(index, m_model.block(index));
}

void ModelContext::recordLossCurve(const std::string& name, const BlockLossCurve& curve) const
{
    if (m_sink.lossCurveRecorded)
        m_sink.lossCurveRecorded(name, curve);
}

void ModelContext::recordMetrics(const std::vector<LayerMetric>& metrics) const
{
    if (m_sink.metricsRecorded)
        m_sink.metricsRecorded(metrics);
}

} // namespace core
