#include "model/online_rotation.h"

namespace core {

torch::Tensor foldInputRotation(const torch::Tensor& weight, const torch::Tensor& rotation)
{
    return torch::matmul(weight.to(torch::kFloat64), rotation.to(torch::kFloat64).t()).to(torch::kFloat32);
}

BlockWeights withoutOnlineRotations(BlockWeights block)
{
    if (const auto rotation = block.tensors.find(kDownProjInputRotation); rotation != block.tensors.end()) {
        torch::Tensor& down = block.tensors.at("mlp.down_proj.weight");
        down = foldInputRotation(down, rotation->second);
        block.tensors.erase(rotation);
    }
    block.tensors.erase(kQueryKeyRotation);
    return block;
}

} // namespace core
