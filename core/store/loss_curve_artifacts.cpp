#include "store/loss_curve_artifacts.h"

#include "util/error.h"

namespace core {
namespace {

std::string pathOf(const std::string& block)
{
    return "/layers/" + block + "/loss";
}

} // namespace

void writeLossCurve(ArtifactFile& file, const std::string& block, const BlockLossCurve& curve)
{
    const std::int64_t columns = static_cast<std::int64_t>(curve.terms.size()) + 1;
    DoubleArray values{{static_cast<std::int64_t>(curve.steps.size()), columns}, {}};
    values.values.reserve(curve.steps.size() * static_cast<std::size_t>(columns));
    for (const auto& step : curve.steps) {
        if (static_cast<std::int64_t>(step.size()) != columns)
            throw Error("loss curve of " + block + ": a step has " + std::to_string(step.size()) +
                        " values, expected " + std::to_string(columns) + " (internal error)");
        values.values.insert(values.values.end(), step.begin(), step.end());
    }
    std::string names;
    for (const auto& term : curve.terms)
        names += term + ",";
    const std::string path = pathOf(block);
    file.write(path, values);
    file.setAttribute(path, "terms", names + "total");
    file.setAttribute(path, "steps_per_epoch", curve.stepsPerEpoch);
}

std::optional<BlockLossCurve> readLossCurve(const ArtifactFile& file, const std::string& block)
{
    const std::string path = pathOf(block);
    if (!file.exists(path))
        return std::nullopt;
    const DoubleArray values = file.readDouble(path);
    BlockLossCurve curve;
    const std::string names = file.stringAttribute(path, "terms");
    for (std::size_t begin = 0; begin <= names.size();) {
        const std::size_t end = std::min(names.find(',', begin), names.size());
        curve.terms.push_back(names.substr(begin, end - begin));
        begin = end + 1;
    }
    curve.terms.pop_back(); // "total"
    curve.stepsPerEpoch = file.int64Attribute(path, "steps_per_epoch");
    if (values.shape.size() != 2 || values.shape[1] != static_cast<std::int64_t>(curve.terms.size()) + 1)
        throw Error(file.path() + ": " + path + " does not match its terms attribute");
    const auto columns = static_cast<std::size_t>(values.shape[1]);
    for (std::size_t row = 0; row < static_cast<std::size_t>(values.shape[0]); ++row)
        curve.steps.emplace_back(values.values.begin() + static_cast<std::ptrdiff_t>(row * columns),
                                 values.values.begin() + static_cast<std::ptrdiff_t>((row + 1) * columns));
    return curve;
}

} // namespace core
