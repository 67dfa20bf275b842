#include "gui/compare_view.h"

#include "curve_plot.h"
#include "gui/plot_export.h"
#include "metric_lines_plot.h"
#include "store/artifact_file.h"
#include "store/loss_curve_artifacts.h"
#include "store/workspace.h"
#include "util/error.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <set>

namespace app {

CompareView::CompareView(QWidget* parent) : QWidget(parent)
{
    m_table = new QTableWidget(this);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setMaximumHeight(160);
    m_metric = new QComboBox(this);
    m_plot = new widgets::MetricLinesPlot(this);
    m_block = new QComboBox(this);
    m_lossPlot = new widgets::CurvePlot(this);
    auto* chooser = new QFormLayout();
    chooser->addRow(tr("Per-layer &metric:"), m_metric);
    auto* lossChooser = new QFormLayout();
    lossChooser->addRow(tr("Training loss of &block:"), m_block);
    // Metric per layer on the left, training loss on the right: both get the full height.
    auto* metricSide = new QWidget(this);
    auto* metricLayout = new QVBoxLayout(metricSide);
    metricLayout->setContentsMargins(0, 0, 0, 0);
    metricLayout->addLayout(chooser);
    metricLayout->addWidget(m_plot, 1);
    auto* lossSide = new QWidget(this);
    auto* lossLayout = new QVBoxLayout(lossSide);
    lossLayout->setContentsMargins(0, 0, 0, 0);
    lossLayout->addLayout(lossChooser);
    lossLayout->addWidget(m_lossPlot, 1);
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(metricSide);
    splitter->addWidget(lossSide);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_table);
    layout->addWidget(splitter, 1);
    installPlotExport(m_plot->plot(), {});
    installPlotExport(m_lossPlot->plot(), {});
    connect(m_block, &QComboBox::currentTextChanged, this, [this](const QString& block) {
        if (!block.isEmpty())
            showLossCurves(block);
    });
    connect(m_metric, &QComboBox::currentTextChanged, this, [this](const QString& metric) {
        if (!metric.isEmpty())
            showMetric(metric);
    });
}

bool CompareView::showRuns(const QString& workspaceDirectory, const QList<qint64>& runIds)
{
    std::vector<RunData> runs;
    try {
        const core::Workspace workspace(workspaceDirectory.toStdString(), core::OpenMode::ReadOnly);
        for (const qint64 id : runIds) {
            RunData data;
            data.artifactPath = workspace.artifactPath(id);
            data.name = tr("run %1: %2").arg(id).arg(QString::fromStdString(workspace.catalog().run(id).name));
            for (const auto& d : workspace.catalog().datasetMetrics(id)) {
                if (d.metric == "perplexity")
                    data.perplexity[d.dataset] = d.value;
                if (d.metric == "fp_perplexity")
                    data.fpPerplexity[d.dataset] = d.value;
            }
            for (const auto& m : workspace.catalog().layerMetrics(id)) {
                if (!data.layers[m.metric].count(m.layer) && m.metric == "rel_error")
                    data.layerOrder.push_back(m.layer);
                data.layers[m.metric][m.layer] = m.value;
            }
            runs.push_back(std::move(data));
        }
    } catch (const core::Error& e) {
        Q_EMIT message(QString::fromStdString(e.what()), true);
        return false;
    }
    m_runIds = runIds;
    m_runs = std::move(runs);

    // Perplexity table: a row per dataset; FP, then each run with its change against the first.
    std::set<std::string> datasets;
    for (const auto& run : m_runs)
        for (const auto& [dataset, value] : run.perplexity)
            datasets.insert(dataset);
    m_table->clear();
    m_table->setRowCount(static_cast<int>(datasets.size()));
    m_table->setColumnCount(static_cast<int>(m_runs.size()) + 1);
    QStringList headers{tr("full precision")};
    for (const auto& run : m_runs)
        headers << run.name;
    m_table->setHorizontalHeaderLabels(headers);
    int row = 0;
    for (const auto& dataset : datasets) {
        m_table->setVerticalHeaderItem(row, new QTableWidgetItem(QString::fromStdString(dataset)));
        for (const auto& run : m_runs)
            if (run.fpPerplexity.count(dataset))
                m_table->setItem(row, 0, new QTableWidgetItem(QString::number(run.fpPerplexity.at(dataset), 'f', 3)));
        const auto first = m_runs.front().perplexity.find(dataset);
        for (std::size_t r = 0; r < m_runs.size(); ++r) {
            const auto value = m_runs[r].perplexity.find(dataset);
            if (value == m_runs[r].perplexity.end())
                continue;
            QString text = QString::number(value->second, 'f', 3);
            if (r > 0 && first != m_runs.front().perplexity.end())
                text += QStringLiteral("  (%1%2)")
                            .arg(value->second >= first->second ? "+" : "")
                            .arg(value->second - first->second, 0, 'f', 3);
            auto* item = new QTableWidgetItem(text);
            item->setData(Qt::UserRole, value->second);
            m_table->setItem(row, static_cast<int>(r) + 1, item);
        }
        ++row;
    }
    m_table->resizeColumnsToContents();

    const QString previous = m_metric->currentText();
    QSignalBlocker block(m_metric);
    m_metric->clear();
    m_metric->addItems(metrics());
    const int keep = m_metric->findText(previous.isEmpty() ? QStringLiteral("rel_error") : previous);
    m_metric->setCurrentIndex(std::max(0, keep));
    showMetric(m_metric->currentText());

    // Blocks that have a training loss in any run (learning methods record one per block).
    std::set<std::string> blocks;
    for (const auto& run : m_runs)
        if (const auto found = run.layers.find("loss_last_epoch"); found != run.layers.end())
            for (const auto& [block, value] : found->second)
                blocks.insert(block);
    const QString previousBlock = m_block->currentText();
    QSignalBlocker blockSignals(m_block);
    m_block->clear();
    for (const auto& block : blocks)
        m_block->addItem(QString::fromStdString(block));
    m_block->setCurrentIndex(std::max(0, m_block->findText(previousBlock)));
    m_lossPlot->setVisible(!blocks.empty());
    m_block->setVisible(!blocks.empty());
    if (!blocks.empty())
        showLossCurves(m_block->currentText());
    return true;
}

bool CompareView::showLossCurves(const QString& block)
{
    {
        const QSignalBlocker blockSignals(m_block);
        m_block->setCurrentText(block);
    }
    QVector<widgets::Curve> curves;
    for (const auto& run : m_runs) {
        try {
            const core::ArtifactFile file(run.artifactPath, core::ArtifactMode::ReadOnly);
            const auto curve = core::readLossCurve(file, block.toStdString());
            if (!curve)
                continue;
            widgets::Curve line{run.name, {}, {}};
            for (std::size_t step = 0; step < curve->steps.size(); ++step) {
                line.x << static_cast<double>(step + 1);
                line.y << curve->steps[step].back(); // the weighted total
            }
            curves << line;
        } catch (const core::Error& e) {
            Q_EMIT message(QString::fromStdString(e.what()), true);
        }
    }
    if (curves.isEmpty())
        return false;
    m_lossPlot->setCurves(tr("%1: training loss").arg(block), tr("optimizer step"), tr("loss (weighted total)"),
                          curves);
    return true;
}

QStringList CompareView::metrics() const
{
    std::set<std::string> names;
    for (const auto& run : m_runs)
        for (const auto& [metric, layers] : run.layers)
            if (metric != "seconds")
                names.insert(metric);
    QStringList out;
    for (const auto& name : names)
        out << QString::fromStdString(name);
    return out;
}

bool CompareView::showMetric(const QString& metric)
{
    const std::string key = metric.toStdString();
    // Layers in model order: Linears as the catalog lists them, else the blocks.
    std::vector<std::string> layers;
    for (const auto& run : m_runs) {
        const auto found = run.layers.find(key);
        if (found == run.layers.end())
            continue;
        for (const auto& layer : run.layerOrder)
            if (found->second.count(layer) && std::find(layers.begin(), layers.end(), layer) == layers.end())
                layers.push_back(layer);
        for (const auto& [layer, value] : found->second)
            if (std::find(layers.begin(), layers.end(), layer) == layers.end())
                layers.push_back(layer);
    }
    if (layers.empty())
        return false;
    QStringList labels;
    for (const auto& layer : layers) {
        // "model.layers.3.mlp.down_proj" → "3.down_proj": short enough for a tick label.
        const auto at = layer.find("layers.");
        std::string label = at == std::string::npos ? layer : layer.substr(at + 7);
        for (const char* part : {"self_attn.", "mlp."})
            if (const auto p = label.find(part); p != std::string::npos)
                label.erase(p, std::string(part).size());
        labels << QString::fromStdString(label);
    }
    QVector<widgets::MetricSeries> series;
    for (const auto& run : m_runs) {
        widgets::MetricSeries line{run.name, {}};
        const auto found = run.layers.find(key);
        for (const auto& layer : layers)
            line.values << (found != run.layers.end() && found->second.count(layer) ? found->second.at(layer) : NAN);
        series << line;
    }
    m_plot->setSeries(tr("%1 per layer").arg(metric), metric, labels, series);
    return true;
}

} // namespace app
