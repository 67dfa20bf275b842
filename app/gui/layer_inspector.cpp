#include "gui/layer_inspector.h"

#include "bar_plot.h"
#include "curve_plot.h"
#include "diagnostics/diagnostics_reader.h"
#include "gui/plot_export.h"
#include "gui/run_layers.h"
#include "gui/saliency_view.h"
#include "heat_map_plot.h"
#include "histogram_plot.h"
#include "metric_lines_plot.h"
#include "store/workspace.h"
#include "util/error.h"

#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

namespace app {

struct BlockDiagnosticsHolder {
    core::BlockDiagnostics data;
};

namespace {

// The metric columns of the tree, by catalog metric name.
const std::vector<std::pair<const char*, const char*>> kColumns = {
    {"rel_error", "rel. error"}, {"sqnr_db", "SQNR dB"}, {"input_kl", "input KL"},
    {"qsur_input_fp", "QSUR"},   {"sw1", "SW1"},         {"saliency_mean", "saliency"}};

const std::map<std::string, double> kNoMetrics; // a layer the catalog has no metrics for

QVector<double> counts(const std::vector<std::int64_t>& values)
{
    QVector<double> out;
    out.reserve(static_cast<qsizetype>(values.size()));
    for (const std::int64_t v : values)
        out << static_cast<double>(v);
    return out;
}

} // namespace

LayerInspector::LayerInspector(QWidget* parent) : QWidget(parent)
{
    m_header = new QLabel(tr("Select a run in the runs panel."), this);
    m_tree = new QTreeWidget(this);
    QStringList headers{tr("Layer")};
    for (const auto& [metric, title] : kColumns)
        headers << tr(title);
    m_tree->setHeaderLabels(headers);
    m_tree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_inputPlot = new widgets::HistogramPlot(this);
    m_weightPlot = new widgets::HistogramPlot(this);

    auto* plots = new QWidget(this);
    auto* plotLayout = new QVBoxLayout(plots);
    plotLayout->setContentsMargins(0, 0, 0, 0);
    plotLayout->addWidget(m_inputPlot, 1);
    plotLayout->addWidget(m_weightPlot, 1);
    m_rotationPlot = new widgets::HistogramPlot(this);
    m_rotationPlot->setSeriesNames(tr("original basis"), tr("after the transforms"));
    m_rotationPlot->setVisible(false);
    plotLayout->addWidget(m_rotationPlot, 1);
    m_channelPlot = new widgets::CurvePlot(this);
    m_views = new QTabWidget(this);
    m_views->addTab(plots, tr("Distributions"));
    m_views->addTab(buildProjectionTab(), tr("Projected SW"));
    m_views->addTab(m_channelPlot, tr("Channels"));
    m_saliency = new SaliencyView(this);
    m_views->addTab(m_saliency, tr("Saliency"));
    m_qsurPlot = new widgets::MetricLinesPlot(this);
    m_views->addTab(m_qsurPlot, tr("QSUR"));
    auto* splitter = new QSplitter(this);
    splitter->addWidget(m_tree);
    splitter->addWidget(m_views);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({480, 900}); // the tree wide enough for a Linear's name and two metric columns
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_header);
    layout->addWidget(splitter, 1);

    for (QCustomPlot* plot : {m_inputPlot->plot(), m_weightPlot->plot(), m_rotationPlot->plot(), m_channelPlot->plot(),
                              m_projectionPlot->plot(), m_qsurPlot->plot()})
        installPlotExport(plot, {});
    installPlotExport(m_swBars->plot(), [this] { return m_swBars->toCsv(); });
    installPlotExport(m_saliency->map()->plot(), [this] { return m_saliency->map()->toCsv(); });
    connect(m_tree, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (item)
            showLayer(item->text(0));
    });
}

LayerInspector::~LayerInspector() = default;

QWidget* LayerInspector::buildProjectionTab()
{
    auto* tab = new QWidget(this);
    m_direction = new QSpinBox(tab);
    m_direction->setRange(0, 0);
    m_direction->setToolTip(tr("Projection direction (the same directions in every block and run with the same seed)"));
    m_projectionPlot = new widgets::HistogramPlot(tab);
    m_swBars = new widgets::BarPlot(tab);
    auto* form = new QFormLayout();
    form->addRow(tr("&Direction:"), m_direction);
    auto* layout = new QVBoxLayout(tab);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(form);
    layout->addWidget(m_projectionPlot, 2);
    layout->addWidget(m_swBars, 1);
    connect(m_direction, &QSpinBox::valueChanged, this, &LayerInspector::showDirection);
    connect(m_swBars, &widgets::BarPlot::barClicked, m_direction, &QSpinBox::setValue);
    return tab;
}

void LayerInspector::showDirection(int k)
{
    if (!m_block)
        return;
    const core::BlockDiagnostics& d = m_block->data;
    const std::int64_t directions = d.histFp.shape.empty() ? 0 : d.histFp.shape[0];
    if (k < 0 || k >= directions)
        return;
    const std::int64_t bins = d.histFp.shape[1];
    QVector<double> fp, quantized;
    for (std::int64_t b = 0; b < bins; ++b) {
        fp << static_cast<double>(d.histFp.values[static_cast<std::size_t>(k * bins + b)]);
        quantized << static_cast<double>(d.histQuantized.values[static_cast<std::size_t>(k * bins + b)]);
    }
    m_projectionPlot->setHistograms(tr("%1: outputs projected on direction %2 (W1 %3)")
                                        .arg(QString::fromStdString(d.block))
                                        .arg(k)
                                        .arg(d.w1[static_cast<std::size_t>(k)], 0, 'g', 4),
                                    tr("projection ⟨y, u⟩"), d.histEdges.values[static_cast<std::size_t>(2 * k)],
                                    d.histEdges.values[static_cast<std::size_t>(2 * k + 1)], fp, quantized);
    m_swBars->highlight(k);
    if (m_direction->value() != k)
        m_direction->setValue(k);
}

bool LayerInspector::showRun(const QString& workspaceDirectory, qint64 runId)
{
    m_tree->clear();
    m_layerMetrics.clear();
    m_reader.reset();
    m_runId = runId;
    m_inputPlot->clear(QString());
    m_weightPlot->clear(QString());
    RunLayerMetrics layers;
    try {
        const core::Workspace workspace(workspaceDirectory.toStdString(), core::OpenMode::ReadOnly);
        const core::RunRecord run = workspace.catalog().run(runId);
        m_header->setText(tr("Run %1: %2").arg(runId).arg(QString::fromStdString(run.name)));
        layers = readRunLayerMetrics(workspace.catalog(), runId);
        m_reader = std::make_unique<core::DiagnosticsReader>(workspace.artifactPath(runId));
    } catch (const core::Error& e) {
        const QString reason = QString::fromStdString(e.what());
        m_header->setText(tr("Run %1: no diagnostics to show (%2)").arg(runId).arg(reason));
        Q_EMIT message(reason, true);
        return false;
    }
    const auto fill = [&](QTreeWidgetItem* item, const std::string& layer) {
        const auto found = layers.values.find(layer);
        for (int c = 0; c < static_cast<int>(kColumns.size()); ++c)
            if (found != layers.values.end() && found->second.count(kColumns[c].first))
                item->setText(c + 1, QString::number(found->second.at(kColumns[c].first), 'g', 4));
    };
    std::map<std::string, QTreeWidgetItem*> blocks;
    for (const auto& block : m_reader->blocks()) {
        auto* item = new QTreeWidgetItem(m_tree, {QString::fromStdString(block)});
        fill(item, block);
        blocks[block] = item;
    }
    // Linears in the order the model runs them (q, k, v, o, gate, up, down), as every view lists them.
    // (A Linear the catalog does not list goes last.)
    std::map<std::string, std::size_t> rank;
    for (std::size_t i = 0; i < layers.order.size(); ++i)
        rank.emplace(layers.order[i], i);
    const auto rankOf = [&rank](const std::string& layer) {
        const auto found = rank.find(layer);
        return found == rank.end() ? rank.size() : found->second;
    };
    std::vector<std::string> linears = m_reader->linearLayers();
    std::stable_sort(linears.begin(), linears.end(),
                     [&](const std::string& a, const std::string& b) { return rankOf(a) < rankOf(b); });
    for (const auto& layer : linears) {
        const std::string block = blockOfLayer(layer);
        QTreeWidgetItem* parent = blocks.count(block) ? blocks[block] : nullptr;
        auto* item = parent ? new QTreeWidgetItem(parent, {QString::fromStdString(layer)})
                            : new QTreeWidgetItem(m_tree, {QString::fromStdString(layer)});
        fill(item, layer);
    }
    m_tree->expandAll();
    showQsur(linears, layers.values);
    m_layerMetrics = std::move(layers.values);
    return true;
}

void LayerInspector::showQsur(const std::vector<std::string>& linears,
                              const std::map<std::string, std::map<std::string, double>>& metrics)
{
    // QSUR (OSTQuant): how much of the quantization grid's hypercube the data's ellipsoid fills;
    // a per-layer picture of which inputs waste the grid.
    std::vector<std::pair<const char*, QString>> series = {{"qsur_input_fp", tr("inputs, full-precision model")},
                                                           {"qsur_input_quantized", tr("inputs, quantized model")},
                                                           {"qsur_weight", tr("weight rows")}};
    // Rotation methods also recorded the original basis: QSUR before the transforms beside after.
    const bool rotated = std::any_of(metrics.begin(), metrics.end(),
                                     [](const auto& layer) { return layer.second.count("qsur_input_before") != 0; });
    if (rotated) {
        series[0].second = tr("inputs, full-precision model (after the transforms)");
        series.push_back({"qsur_input_before", tr("inputs, before the transforms")});
        series.push_back({"qsur_weight_before", tr("weight rows, before the transforms")});
    }
    QStringList labels;
    QVector<widgets::MetricSeries> lines;
    for (const auto& [metric, title] : series)
        lines << widgets::MetricSeries{title, {}};
    for (const auto& layer : linears) {
        const auto found = metrics.find(layer);
        if (found == metrics.end() || !found->second.count("qsur_input_fp"))
            continue;
        labels << shortLayerLabel(layer);
        for (std::size_t s = 0; s < series.size(); ++s) {
            const auto value = found->second.find(series[s].first);
            lines[static_cast<qsizetype>(s)].values << (value == found->second.end() ? NAN : value->second);
        }
    }
    m_qsurPlot->setSeries(tr("QSUR per Linear (per dimension, QSUR^(1/d); higher = the grid is better used)"),
                          tr("QSUR^(1/d)"), labels, lines);
}

bool LayerInspector::selectLayer(const QString& layer)
{
    const auto found = m_tree->findItems(layer, Qt::MatchExactly | Qt::MatchRecursive);
    if (found.isEmpty())
        return false;
    m_tree->setCurrentItem(found.first());
    return true;
}

QString LayerInspector::selectedLayer() const
{
    return m_tree->currentItem() ? m_tree->currentItem()->text(0) : QString();
}

void LayerInspector::showLayer(const QString& layer)
{
    if (!m_reader)
        return;
    const std::string name = layer.toStdString();
    try {
        if (m_reader->hasBlock(name)) {
            m_block = std::make_unique<BlockDiagnosticsHolder>(BlockDiagnosticsHolder{m_reader->block(name)});
            const core::BlockDiagnostics& d = m_block->data;
            m_inputPlot->setHistograms(tr("%1: block output").arg(layer), tr("activation value"), d.output.lo,
                                       d.output.hi, counts(d.output.fp), counts(d.output.quantized));
            m_weightPlot->clear(tr("(weights: select a Linear)"));
            m_swBars->setBars(tr("%1: W1 per direction (SW1 = mean)").arg(layer), tr("direction"), tr("W1"),
                              QVector<double>(d.w1.begin(), d.w1.end()));
            m_direction->setRange(0, std::max(0, static_cast<int>(d.w1.size()) - 1));
            showDirection(m_direction->value());
        } else {
            const core::LinearDiagnostics d = m_reader->linear(name);
            m_inputPlot->setHistograms(tr("%1: input activations").arg(layer), tr("activation value"), d.input.lo,
                                       d.input.hi, counts(d.input.fp), counts(d.input.quantized));
            m_weightPlot->setHistograms(tr("%1: weights").arg(layer), tr("weight value"), d.weight.lo, d.weight.hi,
                                        counts(d.weight.fp), counts(d.weight.quantized));
            widgets::Curve fp{tr("full precision"), {}, {}}, quantized{tr("quantized"), {}, {}};
            for (std::size_t c = 0; c < d.channels[0].size(); ++c) {
                fp.x << static_cast<double>(c);
                fp.y << d.channels[0][c];
                quantized.x << static_cast<double>(c);
                quantized.y << d.channels[3][c];
            }
            QVector<widgets::Curve> curves{fp, quantized};
            // Rotation methods: the FP input before and after the transforms (outlier channels flatten).
            m_rotationPlot->setVisible(d.rotationInput.has_value());
            if (d.rotationInput) {
                m_rotationPlot->setHistograms(tr("%1: FP input before / after the transforms").arg(layer),
                                              tr("activation value"), d.rotationInput->lo, d.rotationInput->hi,
                                              counts(d.rotationInput->fp), counts(d.rotationInput->quantized));
                const QString names[2] = {tr("FP, original basis"), tr("FP, after the transforms")};
                for (int k = 0; k < 2; ++k) {
                    widgets::Curve curve{names[k], {}, {}};
                    for (std::size_t c = 0; c < d.rotationAbsMax[static_cast<std::size_t>(k)].size(); ++c) {
                        curve.x << static_cast<double>(c);
                        curve.y << d.rotationAbsMax[static_cast<std::size_t>(k)][c];
                    }
                    curves << curve;
                }
            }
            m_channelPlot->setCurves(tr("%1: input absmax per channel").arg(layer), tr("input channel"), tr("max |x|"),
                                     curves);
            // PTQ1.61: the channels its structured mask keeps at 4 bits, under their absmax.
            QVector<double> salient;
            for (const std::int64_t c : m_reader->salientColumns(name))
                salient << static_cast<double>(c);
            m_channelPlot->setMarkedPositions(tr("salient"), salient);
            const auto metrics = m_layerMetrics.find(name);
            m_saliency->showLinear(layer, d, metrics != m_layerMetrics.end() ? metrics->second : kNoMetrics);
        }
    } catch (const core::Error& e) {
        Q_EMIT message(QString::fromStdString(e.what()), true);
    }
}

} // namespace app
