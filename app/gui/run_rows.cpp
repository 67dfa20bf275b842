#include "gui/run_rows.h"

#include "quant/activation_spec.h"
#include "store/catalog.h"

#include <QFileInfo>

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
    QVector<RunRow> rows;
    for (const core::RunRecord& run : catalog.listRuns()) {
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

} // namespace app
