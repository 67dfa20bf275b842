#include "calib/ptq161.h"

#include "calib/block_training.h"
#include "model/weight_layout.h"

namespace core {

StructuredMaskBlockTrainer::StructuredMaskBlockTrainer(const ModelConfig& config, const BlockWeights& fpWeights,
                                                       const std::string& layerPrefix,
                                                       const std::map<std::string, torch::Tensor>& salient,
                                                       int salientBits, double scaleLearningRate,
                                                       double rankLearningRate)
    : m_config(config), m_fpWeights(fpWeights), m_prefix(layerPrefix), m_salientBits(salientBits),
      m_names(linearShortNames(config.family))
{
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> scales, rankFactors;
    for (const auto& name : m_names) {
        MaskedLinear linear;
        linear.weight = m_fpWeights.at(name + ".weight");
        linear.salient = salient.at(name);
        linear.salientPart = quantizeRtn(linear.weight, salientPartSpec(salientBits));
        linear.statistics = binaryStatistics(linear.weight, linear.salient);
        linear.signs = torch::sign(linear.weight - linear.statistics.mean.unsqueeze(1));
        linear.statistics.scale = linear.statistics.scale.clone().set_requires_grad(true);
        linear.rowScale = torch::ones({linear.weight.size(0)}).set_requires_grad(true);
        linear.columnScale = torch::ones({linear.weight.size(1)}).set_requires_grad(true);
        scales.push_back(linear.statistics.scale);
        rankFactors.push_back(linear.rowScale);
        rankFactors.push_back(linear.columnScale);
        m_linears.emplace(name, std::move(linear));
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(scales, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(scaleLearningRate).weight_decay(0.0)));
    groups.emplace_back(rankFactors, std::make_unique<torch::optim::AdamWOptions>(
                                         torch::optim::AdamWOptions(rankLearningRate).weight_decay(0.0)));
    m_optimizer = std::make_unique<torch::optim::AdamW>(std::move(groups));
}

torch::Tensor StructuredMaskBlockTrainer::quantizedWeight(const MaskedLinear& linear) const
{
    return combineStructuredMask(linear.salient, linear.salientPart,
                                 binarizedPart(linear.signs, linear.statistics.mean, linear.statistics.scale,
                                               linear.rowScale, linear.columnScale));
}

BlockWeights StructuredMaskBlockTrainer::quantizedBlock() const
{
    BlockWeights block = m_fpWeights;
    for (const auto& name : m_names)
        block.tensors[name + ".weight"] = quantizedWeight(m_linears.at(name));
    return block;
}

LossEvaluation StructuredMaskBlockTrainer::step(const CompositeLoss& loss, const torch::Tensor& inputs,
                                                const torch::Tensor& targets, const torch::Tensor& augTargets,
                                                const AttentionContext& attention, const ForwardHooks* streamHooks,
                                                std::int64_t blockIndex, std::int64_t stepIndex)
{
    return blockTrainingStep(
        *m_optimizer, [this] { return quantizedBlock(); }, m_config, m_prefix, loss, inputs, targets, augTargets,
        attention, streamHooks, blockIndex, stepIndex, "ptq161");
}

QuantizedLinear StructuredMaskBlockTrainer::stored(const std::string& shortName) const
{
    const MaskedLinear& linear = m_linears.at(shortName);
    return structuredMaskStored(linear.weight, linear.salient, m_salientBits, linear.statistics, linear.rowScale,
                                linear.columnScale, m_prefix + shortName);
}

} // namespace core
