#pragma once
// Mean ± sample standard deviation over seeds, as the experiments' tables print them.

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace experiments {

struct Summary {
    double mean = NAN, std = NAN;
    int count = 0;
};

inline Summary summarize(const std::vector<double>& values)
{
    Summary s;
    s.count = static_cast<int>(values.size());
    if (values.empty())
        return s;
    double sum = 0;
    for (double v : values)
        sum += v;
    s.mean = sum / s.count;
    if (s.count > 1) {
        double squares = 0;
        for (double v : values)
            squares += (v - s.mean) * (v - s.mean);
        s.std = std::sqrt(squares / (s.count - 1));
    }
    return s;
}

inline std::string format(const Summary& s, const char* spec = "%.3f")
{
    if (s.count == 0)
        return "–";
    char mean[32], spread[32];
    std::snprintf(mean, sizeof mean, spec, s.mean);
    if (s.count == 1)
        return mean;
    std::snprintf(spread, sizeof spread, spec, s.std);
    return std::string(mean) + " ± " + spread;
}

} // namespace experiments
