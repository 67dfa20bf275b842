#include "eval/loglikelihood.h"

#include "util/error.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace core {
namespace {

// Rows of a batch are padded with this token; padded positions attend only to themselves and
// are never read.
constexpr std::int64_t kPaddingToken = 0;

// A request placed in a row: its continuation's tokens but the last sit at [start, start +
// length) behind the row's prefix (the last token is only predicted, never fed).
struct PackedRequest {
    std::size_t request = 0;
    std::int64_t start = 0;
    std::int64_t length = 0;
};

// One row of a forward: a context, then the continuations that share it.
struct PackedRow {
    std::vector<std::int64_t> prefix;
    std::vector<PackedRequest> requests;
    std::int64_t length() const
    {
        return requests.empty() ? static_cast<std::int64_t>(prefix.size())
                                : requests.back().start + requests.back().length;
    }
};

// The harness's input for a request is (context + continuation)[-(maxLength+1):][:-1]: its
// prefix is what stays of the context once the first tokens are cut to fit.
std::vector<std::int64_t> truncatedContext(const LoglikelihoodRequest& request, std::int64_t maxLength,
                                           std::size_t index)
{
    const auto contextLength = static_cast<std::int64_t>(request.context.size());
    const auto continuationLength = static_cast<std::int64_t>(request.continuation.size());
    if (contextLength == 0 || continuationLength == 0)
        throw Error("request " + std::to_string(index) + ": empty " +
                    (contextLength == 0 ? "context" : "continuation"));
    if (continuationLength > maxLength)
        throw Error("request " + std::to_string(index) + ": a continuation of " + std::to_string(continuationLength) +
                    " tokens does not fit the model's context of " + std::to_string(maxLength));
    const std::int64_t kept = std::min(contextLength, maxLength + 1 - continuationLength);
    return {request.context.end() - kept, request.context.end()};
}

std::vector<PackedRow> packRows(const std::vector<LoglikelihoodRequest>& requests, const LoglikelihoodOptions& options)
{
    std::vector<PackedRow> rows;
    std::map<std::vector<std::int64_t>, std::size_t> rowOfPrefix; // the open row of each context
    for (std::size_t i = 0; i < requests.size(); ++i) {
        std::vector<std::int64_t> prefix = truncatedContext(requests[i], options.maxLength, i);
        const auto tail = static_cast<std::int64_t>(requests[i].continuation.size()) - 1;
        const auto prefixLength = static_cast<std::int64_t>(prefix.size());
        PackedRow* row = nullptr;
        if (options.shareContexts) {
            // A row grows up to the model's context (or one request past it): the attention
            // cost of a row is quadratic in its length.
            const auto open = rowOfPrefix.find(prefix);
            if (open != rowOfPrefix.end() &&
                rows[open->second].length() + tail <= std::max(options.maxLength, prefixLength + tail))
                row = &rows[open->second];
        }
        if (row == nullptr) {
            rows.push_back({prefix, {}});
            if (options.shareContexts)
                rowOfPrefix[std::move(prefix)] = rows.size() - 1;
            row = &rows.back();
        }
        row->requests.push_back({i, row->length(), tail});
    }
    return rows;
}

// ids, positions [B, T] and allowed [B, T, T] of rows `order[first, first+count)`.
struct PackedBatch {
    torch::Tensor ids, positions, allowed;
};

PackedBatch buildBatch(const std::vector<PackedRow>& rows, const std::vector<std::size_t>& order, std::size_t first,
                       std::size_t count, const std::vector<LoglikelihoodRequest>& requests)
{
    std::int64_t width = 0;
    for (std::size_t r = first; r < first + count; ++r)
        width = std::max(width, rows[order[r]].length());
    const auto batch = static_cast<std::int64_t>(count);
    torch::Tensor ids = torch::full({batch, width}, kPaddingToken, torch::kInt64);
    torch::Tensor positions = torch::zeros({batch, width}, torch::kInt64);
    torch::Tensor allowed = torch::eye(width, torch::kBool).unsqueeze(0).repeat({batch, 1, 1});
    auto idsA = ids.accessor<std::int64_t, 2>();
    auto positionsA = positions.accessor<std::int64_t, 2>();
    auto allowedA = allowed.accessor<bool, 3>();
    for (std::int64_t b = 0; b < batch; ++b) {
        const PackedRow& row = rows[order[first + static_cast<std::size_t>(b)]];
        const auto prefixLength = static_cast<std::int64_t>(row.prefix.size());
        for (std::int64_t t = 0; t < prefixLength; ++t) {
            idsA[b][t] = row.prefix[static_cast<std::size_t>(t)];
            positionsA[b][t] = t;
            for (std::int64_t j = 0; j <= t; ++j)
                allowedA[b][t][j] = true;
        }
        for (const PackedRequest& packed : row.requests) {
            const auto& continuation = requests[packed.request].continuation;
            for (std::int64_t k = 0; k < packed.length; ++k) {
                const std::int64_t t = packed.start + k;
                idsA[b][t] = continuation[static_cast<std::size_t>(k)];
                positionsA[b][t] = prefixLength + k;
                for (std::int64_t j = 0; j < prefixLength; ++j)
                    allowedA[b][t][j] = true;
                for (std::int64_t j = packed.start; j <= t; ++j)
                    allowedA[b][t][j] = true;
            }
        }
    }
    return {ids, positions, allowed};
}

} // namespace

std::vector<Loglikelihood> scoreLoglikelihoods(const DecoderModel& model,
                                               const std::vector<LoglikelihoodRequest>& requests,
                                               const LoglikelihoodOptions& options, const ProgressCallback& onProgress,
                                               const CancelToken& cancel)
{
    torch::NoGradGuard noGrad;
    if (options.maxLength < 1)
        throw Error("log-likelihood scoring needs the model's context length (max_length), got " +
                    std::to_string(options.maxLength));
    const ModelConfig& config = model.config();
    const std::vector<PackedRow> rows = packRows(requests, options);
    // Longest rows first, as the harness orders its requests: a batch pads to its first row.
    std::vector<std::size_t> order(rows.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return rows[a].length() > rows[b].length(); });
    const std::int64_t budget =
        options.tokensPerBatch > 0 ? options.tokensPerBatch : std::max<std::int64_t>(options.maxLength, 2048);

    std::vector<Loglikelihood> results(requests.size());
    std::size_t scored = 0;
    for (std::size_t first = 0; first < order.size();) {
        const std::int64_t width = rows[order[first]].length();
        std::size_t count = 1;
        while (first + count < order.size() && static_cast<std::int64_t>(count + 1) * width <= budget &&
               (options.maxRowsPerBatch <= 0 || static_cast<std::int64_t>(count) < options.maxRowsPerBatch))
            ++count;
        const PackedBatch batch = buildBatch(rows, order, first, count, requests);
        const torch::Device device = model.device();
        const torch::Tensor positions = batch.positions.to(device);
        const AttentionContext attention(config, positions, batch.allowed.to(device));
        torch::Tensor hidden = model.embed(batch.ids, positions);
        for (std::int64_t layer = 0; layer < config.numLayers; ++layer) {
            cancel.throwIfCancelled();
            hidden = model.runBlock(layer, hidden, attention, &options.hooks);
        }
        cancel.throwIfCancelled();

        // Only the positions that predict a continuation token go through the head.
        std::vector<std::int64_t> rowIndex, positionIndex, targets;
        std::vector<std::pair<std::size_t, std::size_t>> spans; // request, first scored token
        for (std::size_t r = 0; r < count; ++r) {
            const PackedRow& row = rows[order[first + r]];
            const auto prefixLength = static_cast<std::int64_t>(row.prefix.size());
            for (const PackedRequest& packed : row.requests) {
                spans.emplace_back(packed.request, targets.size());
                const auto& continuation = requests[packed.request].continuation;
                for (std::size_t k = 0; k < continuation.size(); ++k) {
                    rowIndex.push_back(static_cast<std::int64_t>(r));
                    positionIndex.push_back(k == 0 ? prefixLength - 1
                                                   : packed.start + static_cast<std::int64_t>(k) - 1);
                    targets.push_back(continuation[k]);
                }
            }
        }
        const auto indexTensor = [&](const std::vector<std::int64_t>& values) {
            return torch::tensor(values, torch::kInt64).to(device);
        };
        const torch::Tensor selected = hidden.index({indexTensor(rowIndex), indexTensor(positionIndex)});
        const torch::Tensor logProbabilities = torch::log_softmax(model.logits(selected.unsqueeze(0)).squeeze(0), -1);
        const torch::Tensor targetTensor = indexTensor(targets);
        const torch::Tensor tokenLl =
            logProbabilities.gather(1, targetTensor.unsqueeze(1)).squeeze(1).to(torch::kCPU).contiguous();
        const torch::Tensor tokenGreedy = logProbabilities.argmax(-1).eq(targetTensor).to(torch::kCPU).contiguous();
        const float* ll = tokenLl.data_ptr<float>();
        const bool* greedy = tokenGreedy.data_ptr<bool>();
        for (const auto& [request, start] : spans) {
            Loglikelihood& result = results[request];
            result.greedy = true;
            for (std::size_t k = 0; k < requests[request].continuation.size(); ++k) {
                result.logLikelihood += ll[start + k];
                result.greedy = result.greedy && greedy[start + k];
            }
        }
        scored += spans.size();
        first += count;
        reportProgress(onProgress, {"eval", static_cast<double>(scored) / static_cast<double>(requests.size()),
                                    std::to_string(scored) + "/" + std::to_string(requests.size()) + " choices"});
    }
    return results;
}

} // namespace core
