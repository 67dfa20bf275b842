#include "gui/live_run_view.h"

#include "gui/plot_export.h"
#include "gui/run_layers.h"
#include "store/workspace.h"
#include "util/error.h"

#include <QHeaderView>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace app {

namespace {

// Columns of the layer table: the metrics a researcher watches while blocks finish.
const std::vector<std::pair<const char*, const char*>> kLiveColumns = {{"rel_error", "rel. error"},
                                                                       {"sqnr_db", "SQNR dB"},
                                                                       {"sw1", "SW1"},
                                                                       {"out_kl", "output KL"},
                                                                       {"loss_last_epoch", "last-epoch loss"}};

} // namespace

LiveRunView::LiveRunView(QWidget* parent) : QWidget(parent)
{
    m_lossPlot = new widgets::CurvePlot(this);
    installPlotExport(m_lossPlot->plot(), {});
    m_layers = new QTableWidget(this);
    m_layers->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_layers->setColumnCount(static_cast<int>(kLiveColumns.size()) + 1);
    QStringList headers{tr("layer")};
    for (const auto& [metric, title] : kLiveColumns)
        headers << tr(title);
    m_layers->setHorizontalHeaderLabels(headers);
    m_layers->verticalHeader()->hide();
    m_layers->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_lossPlot->setCurves(tr("No calibration running (File ▸ New Calibration…)"), tr("optimizer step"), tr("loss"), {});
    m_tabs = new QTabWidget(this);
    m_tabs->addTab(m_lossPlot, tr("Training loss"));
    m_tabs->addTab(m_layers, tr("Finished layers"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tabs);
}

void LiveRunView::start(const QString& workspaceDirectory, qint64 runId)
{
    m_workspace = workspaceDirectory;
    m_runId = runId;
    m_block.clear();
    m_stage.clear();
    m_lastStep = 0.0;
    m_curves.clear();
    m_layers->setRowCount(0);
}

void LiveRunView::onProgress(const QString& stage, const QString& message, const QStringList& names,
                             const QVector<double>& values)
{
    const QString block =
        message.startsWith(QLatin1String("block ")) ? message.section(QLatin1Char(':'), 0, 0) : QString();
    // The job writes a block's metrics when it ends: a new block or stage means one more is in.
    if ((!block.isEmpty() && block != m_block && !m_block.isEmpty()) || (stage != m_stage && !m_stage.isEmpty()))
        refreshLayers();
    if (!block.isEmpty())
        m_block = block;
    if (stage != m_stage) {
        m_stage = stage;
        Q_EMIT stageChanged(stage);
    }
    if (!names.isEmpty())
        addLossPoint(m_block, names, values);
}

void LiveRunView::addLossPoint(const QString& block, const QStringList& names, const QVector<double>& values)
{
    const int stepIndex = static_cast<int>(names.indexOf(QStringLiteral("step")));
    if (stepIndex < 0)
        return;
    const double step = values[stepIndex];
    if (step <= m_lastStep) // a new block starts its own curves
        m_curves.clear();
    m_lastStep = step;
    for (int i = 0; i < names.size(); ++i) {
        if (i == stepIndex)
            continue;
        auto curve =
            std::find_if(m_curves.begin(), m_curves.end(), [&](const widgets::Curve& c) { return c.name == names[i]; });
        if (curve == m_curves.end()) {
            m_curves.push_back({names[i], {}, {}});
            curve = m_curves.end() - 1;
        }
        curve->x << step;
        curve->y << values[i];
    }
    // A model-level stage (OSTQuant's training) reports before any block: its curve is the model's.
    m_lossPlot->setCurves(tr("%1: training loss (live)").arg(block.isEmpty() ? tr("model") : block),
                          tr("optimizer step"), tr("loss"), m_curves);
}

void LiveRunView::refreshLayers()
{
    if (m_runId == 0)
        return;
    RunLayerMetrics metrics;
    try {
        const core::Workspace workspace(m_workspace.toStdString(), core::OpenMode::ReadOnly);
        metrics = readRunLayerMetrics(workspace.catalog(), m_runId);
    } catch (const core::Error&) {
        return; // the catalog is busy or gone: the next block's refresh tries again
    }
    m_layers->setRowCount(static_cast<int>(metrics.order.size()));
    for (int row = 0; row < static_cast<int>(metrics.order.size()); ++row) {
        const std::string& layer = metrics.order[static_cast<std::size_t>(row)];
        const auto& values = metrics.values.at(layer);
        m_layers->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(layer)));
        for (int c = 0; c < static_cast<int>(kLiveColumns.size()); ++c) {
            const auto found = values.find(kLiveColumns[static_cast<std::size_t>(c)].first);
            auto* item =
                new QTableWidgetItem(found == values.end() ? QString() : QString::number(found->second, 'g', 4));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_layers->setItem(row, c + 1, item);
        }
    }
    m_layers->scrollToBottom();
}

} // namespace app
