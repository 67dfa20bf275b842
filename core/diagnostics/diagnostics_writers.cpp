#include "diagnostics/diagnostics_writers.h"

#include "store/tensor_arrays.h"

namespace core {

void writeHistogramPair(ArtifactFile& file, const std::string& path, const Histogram& first, const Histogram& second)
{
    const std::int64_t bins = first.edges.bins;
    Int64Array counts{{2, bins}, {}};
    counts.values.insert(counts.values.end(), first.counts.begin(), first.counts.end());
    counts.values.insert(counts.values.end(), second.counts.begin(), second.counts.end());
    file.write(path, counts);
    file.setAttribute(path, "lo", first.edges.lo);
    file.setAttribute(path, "hi", first.edges.hi);
    file.write(path + "_outside",
               Int64Array{{2, 3},
                          {first.underflow, first.overflow, first.nan, second.underflow, second.overflow, second.nan}});
}

Histogram histogramOf(const torch::Tensor& values, const HistogramEdges& edges)
{
    HistogramAccumulator accumulator(edges);
    accumulator.add(values);
    return accumulator.histogram();
}

void writeQsur(ArtifactFile& file, const std::string& group, const std::string& name, const QsurResult& result,
               std::int64_t samples)
{
    file.write(group + "/" + name + "_spectrum", toDoubleArray(result.eigenvalues));
    file.write(group + "/" + name + "_diagonal", toDoubleArray(result.diagonal));
    file.setAttribute(group + "/" + name + "_spectrum", "per_dim", result.perDim);
    file.setAttribute(group + "/" + name + "_spectrum", "per_dim_normalized", result.perDimNormalized);
    file.setAttribute(group + "/" + name + "_spectrum", "log10_qsur", result.log10Qsur);
    file.setAttribute(group + "/" + name + "_spectrum", "samples", samples);
}

} // namespace core
