#include "gui/run_rows.h"

#include "jobs/seed_groups.h"
#include "quant/activation_spec.h"
#include "store/catalog.h"

#include <QFileInfo>
#include <QRegularExpression>
#include <QSet>

#include <nlohmann/json.hpp>

namespace app {
namespace {

nlohmann::json parsed(const QString& configJson)
{
    return nlohmann::json::parse(configJson.toStdString(), nullptr, /*allow_exceptions=*/false);
}

} // namespace

QString weightsLabel(const QString& configJson)
{
    const nlohmann::json config = parsed(configJson);
    if (!config.is_object() || !config.contains("weights") || !config["weights"].is_object())
        return QStringLiteral("?");
    const nlohmann::json& weights = config["weights"];
    QString label = QStringLiteral("w%1").arg(weights.value("bits", 0));
    const std::int64_t group = weights.value("group_size", std::int64_t(-1));
    label += group > 0 ? QStringLiteral("g%1").arg(group) : QStringLiteral(" per-channel");
    if (weights.value("symmetric", false))
        label += QStringLiteral(" sym");
    return label;
}

QString bitsLabel(const QString& configJson)
{
    const nlohmann::json config = parsed(configJson);
    if (!config.is_object() || !config.contains("weights") || !config["weights"].is_object())
        return QStringLiteral("?");
    const auto bitsOf = [&](const char* section) {
        return config.contains(section) && config[section].is_object() ? config[section].value("bits", 16) : 16;
    };
    core::ActivationQuantSpec activations;
    activations.bits = bitsOf("activations");
    core::KvQuantSpec kv;
    kv.bits = bitsOf("kv");
    return QString::fromStdString(core::bitsLabel(config["weights"].value("bits", 0), activations, kv));
}

QString lossLabel(const QString& configJson)
{
    const nlohmann::json config = parsed(configJson);
    if (!config.is_object() || !config.contains("loss") || !config["loss"].is_array())
        return {};
    QStringList terms;
    for (const auto& term : config["loss"])
        if (term.is_object())
            terms << QString::fromStdString(term.value("type", std::string("?")));
    return terms.join(QLatin1Char('+'));
}

double RunRow::averageAccuracy() const
{
    if (taskAccuracy.isEmpty())
        return std::numeric_limits<double>::quiet_NaN();
    double sum = 0.0;
    for (const double value : taskAccuracy)
        sum += value;
    return sum / static_cast<double>(taskAccuracy.size());
}

QVector<RunRow> loadRunRows(const core::Catalog& catalog)
{
    const auto perplexities = catalog.datasetMetricOfAllRuns("perplexity");
    const auto tasks = catalog.taskMetricsOfAllRuns();
    const auto effectiveBits = catalog.runMetricOfAllRuns("effective_bits");
    const std::vector<core::RunRecord> runs = catalog.listRuns();
    const std::map<std::int64_t, std::string> seedGroups = core::seedGroupKeys(runs);
    QVector<RunRow> rows;
    for (const core::RunRecord& run : runs) {
        RunRow row;
        row.id = run.id;
        row.name = QString::fromStdString(run.name);
        row.method = QString::fromStdString(run.method);
        const QString config = QString::fromStdString(run.configJson);
        row.weights = weightsLabel(config);
        row.bits = bitsLabel(config);
        row.loss = lossLabel(config);
        row.status = QString::fromStdString(core::runStatusName(run.status));
        row.modelPath = QString::fromStdString(run.modelPath);
        row.model = QFileInfo(row.modelPath).fileName();
        row.created = QDateTime::fromString(QString::fromStdString(run.createdAt), Qt::ISODate);
        for (const auto& tag : run.tags)
            row.tags << QString::fromStdString(tag);
        row.error = QString::fromStdString(run.errorMessage);
        if (run.kind != core::RunKind::Ptq)
            row.kind = QString::fromStdString(core::runKindName(run.kind));
        row.parentId = run.parentRunId;
        row.seedGroup = QString::fromStdString(seedGroups.at(run.id));
        if (const nlohmann::json parsedConfig = parsed(config);
            parsedConfig.is_object() && parsedConfig.contains("calibration") && parsedConfig["calibration"].is_object())
            row.seed = parsedConfig["calibration"].value("seed", std::uint64_t(0));
        if (const auto bits = effectiveBits.find(run.id); bits != effectiveBits.end())
            row.effectiveBits = bits->second;
        const auto found = perplexities.find(run.id);
        if (found != perplexities.end())
            for (const auto& [dataset, value] : found->second)
                row.perplexity.insert(QString::fromStdString(dataset), value);
        if (const auto metrics = tasks.find(run.id); metrics != tasks.end())
            for (const auto& metric : metrics->second)
                if (metric.metric == "acc")
                    row.taskAccuracy.insert(QString::fromStdString(metric.task), metric.value);
        rows.push_back(std::move(row));
    }
    return rows;
}

namespace {

// Mean into `means`, spread into `spreads`, for every key any member has.
void summarizeMaps(const QVector<const RunRow*>& members, QMap<QString, double> RunRow::*values,
                   QMap<QString, double>& means, QMap<QString, double>& spreads)
{
    QMap<QString, std::vector<double>> series;
    for (const RunRow* run : members)
        for (auto it = (run->*values).cbegin(); it != (run->*values).cend(); ++it)
            series[it.key()].push_back(it.value());
    means.clear();
    for (auto it = series.cbegin(); it != series.cend(); ++it) {
        const core::MetricSummary summary = core::summarize(it.value());
        means.insert(it.key(), summary.mean);
        spreads.insert(it.key(), summary.standardDeviation);
    }
}

} // namespace

QVector<RunRow> groupRowsBySeed(const QVector<RunRow>& rows)
{
    // Members of each group: finished calibrations only (a running or failed run is no sample).
    // One sample per seed, as `compare --group-seeds` counts (core/jobs/seed_groups.h): the newest
    // run of a seed stands for it; an older re-run stays a row of its own.
    QMap<QString, QMap<quint64, const RunRow*>> newest;
    for (const RunRow& run : rows)
        if (run.status == QLatin1String("finished") && !run.isTestTimeAdapted()) {
            const RunRow*& slot = newest[run.seedGroup][run.seed];
            if (slot == nullptr || slot->id < run.id)
                slot = &run;
        }
    QMap<QString, QVector<const RunRow*>> groups;
    for (const RunRow& run : rows)
        if (newest.value(run.seedGroup).value(run.seed) == &run)
            groups[run.seedGroup].push_back(&run);
    QVector<RunRow> grouped;
    QSet<QString> placed;
    for (const RunRow& run : rows) {
        const auto group = groups.constFind(run.seedGroup);
        const bool member = group != groups.cend() && group->contains(&run);
        if (!member || group == groups.cend() || group->size() < 2) {
            grouped.push_back(run);
            continue;
        }
        if (placed.contains(run.seedGroup))
            continue;
        placed.insert(run.seedGroup);
        RunRow row = run; // the first run's labels (method, weights, model, ...)
        static const QRegularExpression seedSetting(QStringLiteral("\\s*calibration\\.seed=\\d+"));
        row.name = QString(run.name).remove(seedSetting);
        std::vector<double> bits;
        for (const RunRow* each : *group) {
            row.members << each->id;
            row.memberSeeds << each->seed;
            bits.push_back(each->effectiveBits);
        }
        summarizeMaps(*group, &RunRow::perplexity, row.perplexity, row.perplexitySpread);
        summarizeMaps(*group, &RunRow::taskAccuracy, row.taskAccuracy, row.taskAccuracySpread);
        const core::MetricSummary bitsSummary = core::summarize(bits);
        row.effectiveBits = bitsSummary.mean;
        row.effectiveBitsSpread = bitsSummary.standardDeviation;
        grouped.push_back(std::move(row));
    }
    return grouped;
}

} // namespace app
