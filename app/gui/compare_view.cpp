#include "gui/compare_view.h"

#include "eval/task_score.h"

#include "curve_plot.h"
#include "error_bar_plot.h"
#include "gui/plot_export.h"
#include "gui/run_layers.h"
#include "gui/seed_group_view.h"
#include "jobs/seed_groups.h"
#include "labelled_heat_map.h"
#include "metric_lines_plot.h"
#include "qcustomplot_include.h"
#include "store/artifact_file.h"
#include "store/loss_curve_artifacts.h"
#include "store/workspace.h"
#include "util/error.h"

#include <QComboBox>
#include <QDir>
#include <QFormLayout>
#include <QHeaderView>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <set>

namespace app {

namespace {

/// Metrics where a larger value means a better quantized model: their change is negated in
/// the difference map so that red always means worse.
bool higherIsBetter(const std::string& metric)
{
    return metric == "sqnr_db" || metric == "out_sqnr_db" || metric == "out_cosine" || metric.rfind("qsur_", 0) == 0 ||
           metric == "saliency_topk_jaccard" || metric == "saliency_column_spearman";
}

/// Per-layer metrics whose change between runs says something about quality: not timings,
/// and not training losses (runs with different loss terms optimize different numbers).
bool comparable(const std::string& metric)
{
    return metric != "seconds" && metric.rfind("loss_", 0) != 0;
}

} // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent)
{
    m_table = new QTableWidget(this);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
    m_table->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Maximum);
    m_metric = new QComboBox(this);
    m_plot = new widgets::MetricLinesPlot(this);
    m_block = new QComboBox(this);
    m_lossPlot = new widgets::CurvePlot(this);
    auto* chooser = new QFormLayout();
    chooser->addRow(tr("Per-layer &metric:"), m_metric);
    auto* lossChooser = new QFormLayout();
    lossChooser->addRow(tr("Training loss of &block:"), m_block);
    // Metric per layer on the left, training loss on the right: both get the full height.
    auto* metricPage = new QWidget(this);
    auto* metricLayout = new QVBoxLayout(metricPage);
    metricLayout->setContentsMargins(0, 0, 0, 0);
    metricLayout->addLayout(chooser);
    metricLayout->addWidget(m_plot, 1);
    m_layerViews = new QTabWidget(this);
    m_layerViews->addTab(metricPage, tr("Metric per layer"));
    m_layerViews->addTab(buildDifferencePage(), tr("Difference map"));
    m_seedGroups = new SeedGroupView(this);
    m_layerViews->addTab(m_seedGroups, tr("Seed groups"));
    auto* lossSide = new QWidget(this);
    auto* lossLayout = new QVBoxLayout(lossSide);
    lossLayout->setContentsMargins(0, 0, 0, 0);
    lossLayout->addLayout(lossChooser);
    lossLayout->addWidget(m_lossPlot, 1);
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_layerViews);
    splitter->addWidget(lossSide);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_table);
    layout->addWidget(splitter, 1);
    installPlotExport(m_plot->plot(), {});
    installPlotExport(m_lossPlot->plot(), {});
    installPlotExport(m_difference->plot(), [this] { return m_difference->toCsv(); });
    installPlotExport(m_seedGroups->plot()->plot(), [this] { return m_seedGroups->plot()->toCsv(); });
    connect(m_block, &QComboBox::currentTextChanged, this, [this](const QString& block) {
        if (!block.isEmpty())
            showLossCurves(block);
    });
    connect(m_metric, &QComboBox::currentTextChanged, this, [this](const QString& metric) {
        if (!metric.isEmpty())
            showMetric(metric);
    });
}

QWidget* CompareView::buildDifferencePage()
{
    auto* page = new QWidget(this);
    m_differenceRun = new QComboBox(page);
    m_differenceRun->setToolTip(tr("The run whose changes the map shows"));
    m_differenceReference = new QComboBox(page);
    m_differenceReference->setToolTip(tr("The run it is compared with (e.g. MSE, to see what SW changes)"));
    m_differenceLevel = new QComboBox(page);
    m_differenceLevel->addItems({tr("Linears"), tr("blocks")});
    m_difference = new widgets::LabelledHeatMap(page);
    auto* form = new QFormLayout();
    form->addRow(tr("&Run:"), m_differenceRun);
    form->addRow(tr("A&gainst:"), m_differenceReference);
    form->addRow(tr("&Layers:"), m_differenceLevel);
    auto* layout = new QVBoxLayout(page);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(form);
    layout->addWidget(m_difference, 1);
    connect(m_differenceRun, &QComboBox::currentIndexChanged, this, &CompareView::showChosenDifference);
    connect(m_differenceReference, &QComboBox::currentIndexChanged, this, &CompareView::showChosenDifference);
    connect(m_differenceLevel, &QComboBox::currentIndexChanged, this, &CompareView::showChosenDifference);
    return page;
}

void CompareView::showChosenDifference()
{
    if (m_runs.size() >= 2)
        showDifference(m_differenceRun->currentIndex(), m_differenceLevel->currentIndex() == 1,
                       m_differenceReference->currentIndex());
}

bool CompareView::showDifference(int index, bool blocks, int referenceIndex)
{
    const int count = static_cast<int>(m_runs.size());
    if (index < 0 || index >= count || referenceIndex < 0 || referenceIndex >= count)
        return false;
    if (index == referenceIndex) {
        m_difference->clear(tr("Choose two different runs"));
        return false;
    }
    const RunData& reference = m_runs[static_cast<std::size_t>(referenceIndex)];
    const RunData& run = m_runs[static_cast<std::size_t>(index)];
    // Columns: the metrics both runs have at this level; rows: the reference's layers in order.
    QStringList columns;
    std::vector<std::string> metrics;
    for (const auto& [metric, layers] : reference.layers) {
        const auto other = run.layers.find(metric);
        if (!comparable(metric) || other == run.layers.end())
            continue;
        const bool atLevel = std::any_of(layers.begin(), layers.end(),
                                         [&](const auto& entry) { return isBlockName(entry.first) == blocks; });
        if (atLevel) {
            metrics.push_back(metric);
            columns << QString::fromStdString(metric);
        }
    }
    std::vector<std::string> layers;
    for (const auto& layer : reference.layerOrder)
        if (isBlockName(layer) == blocks)
            layers.push_back(layer);
    for (const auto& metric : metrics)
        for (const auto& [layer, value] : reference.layers.at(metric))
            if (isBlockName(layer) == blocks && std::find(layers.begin(), layers.end(), layer) == layers.end())
                layers.push_back(layer);
    if (metrics.empty() || layers.empty()) {
        m_difference->clear(tr("The runs share no per-%1 metric").arg(blocks ? tr("block") : tr("Linear")));
        return false;
    }
    QStringList rows;
    QVector<double> values;
    double largest = 0.0;
    for (const auto& layer : layers) {
        rows << shortLayerLabel(layer);
        for (const auto& metric : metrics) {
            const auto& a = reference.layers.at(metric);
            const auto& b = run.layers.at(metric);
            double change = NAN;
            if (a.count(layer) && b.count(layer)) {
                const double before = a.at(layer), after = b.at(layer);
                change = before == after ? 0.0 : 100.0 * (after - before) / std::abs(before);
                if (higherIsBetter(metric))
                    change = -change;
            }
            if (std::isfinite(change))
                largest = std::max(largest, std::abs(change));
            values << change;
        }
    }
    m_difference->setMap(tr("%1 vs %2").arg(run.name, reference.name), tr("change, % (red = worse)"), rows, columns,
                         values, std::min(largest, 100.0));
    return true;
}

QStringList CompareView::exportPlots(const QString& directory, int width, int height)
{
    QStringList written;
    QDir().mkpath(directory);
    const auto save = [&](QCustomPlot* plot, const QString& name) {
        const QString path = QDir(directory).filePath(name + QStringLiteral(".png"));
        if (plot->savePng(path, width, height, 1.0))
            written << path;
        else
            Q_EMIT message(tr("Could not write %1").arg(path), true);
    };
    for (const QString& metric : metrics())
        if (showMetric(metric))
            save(m_plot->plot(), QStringLiteral("metric_") + metric);
    for (int run = 1; run < static_cast<int>(m_runs.size()); ++run)
        for (const bool blocks : {false, true})
            if (showDifference(run, blocks))
                save(m_difference->plot(), QStringLiteral("difference_run%1_%2")
                                               .arg(m_runIds.value(run))
                                               .arg(blocks ? QStringLiteral("blocks") : QStringLiteral("linears")));
    for (int i = 0; i < m_block->count(); ++i)
        if (showLossCurves(m_block->itemText(i)))
            save(m_lossPlot->plot(), QStringLiteral("loss_") + QString(m_block->itemText(i)).replace('.', '_'));
    // Seed groups: only when some group repeats a config over seeds (else there is no spread).
    const auto& groups = m_seedGroups->groups();
    if (std::any_of(groups.begin(), groups.end(), [](const auto& group) { return group.runIds.size() > 1; }))
        for (const QString& metric : m_seedGroups->metrics())
            if (m_seedGroups->showMetric(metric))
                save(m_seedGroups->plot()->plot(), QStringLiteral("seeds_") + QString(metric).replace(' ', '_'));
    return written;
}

// (task, metric) rows in the order of the first run that reports them.
std::vector<std::pair<std::string, std::string>> CompareView::taskRows() const
{
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& run : m_runs)
        for (const auto& [task, metrics] : run.reportedTaskMetrics)
            for (const auto& metric : metrics)
                if (std::find(rows.begin(), rows.end(), std::make_pair(task, metric)) == rows.end())
                    rows.emplace_back(task, metric);
    return rows;
}

void CompareView::fillTaskRows(int firstRow, const std::vector<std::pair<std::string, std::string>>& rows)
{
    if (rows.empty())
        return;
    const auto find = [](const RunData& run, const std::string& task, const std::string& metric) -> const auto*
    {
        const auto t = run.tasks.find(task);
        if (t == run.tasks.end())
            return static_cast<const std::pair<double, double>*>(nullptr);
        const auto m = t->second.find(metric);
        return m == t->second.end() ? nullptr : &m->second;
    };
    int row = firstRow;
    for (const auto& [task, metric] : rows) {
        m_table->setVerticalHeaderItem(row, new QTableWidgetItem(QString::fromStdString(task + " " + metric)));
        for (const auto& run : m_runs)
            if (const auto* fp = find(run, task, core::kFullPrecisionPrefix + metric)) {
                m_table->setItem(row, 0, new QTableWidgetItem(QString::number(fp->first, 'f', 3)));
                break;
            }
        const auto* first = find(m_runs.front(), task, metric);
        for (std::size_t r = 0; r < m_runs.size(); ++r) {
            const auto* value = find(m_runs[r], task, metric);
            if (value == nullptr)
                continue;
            QString text = QStringLiteral("%1 ± %2").arg(value->first, 0, 'f', 3).arg(value->second, 0, 'f', 3);
            if (r > 0 && first != nullptr)
                text += QStringLiteral("  (%1%2)")
                            .arg(value->first >= first->first ? "+" : "")
                            .arg(value->first - first->first, 0, 'f', 3);
            auto* item = new QTableWidgetItem(text);
            item->setData(Qt::UserRole, value->first);
            item->setToolTip(tr("Zero-shot %1 as lm-evaluation-harness reports it, ± its standard error")
                                 .arg(QString::fromStdString(metric)));
            m_table->setItem(row, static_cast<int>(r) + 1, item);
        }
        ++row;
    }
    // The average acc over the tasks, for the FP model and each run that scored all of them.
    m_table->setVerticalHeaderItem(row, new QTableWidgetItem(tr("average acc")));
    for (int column = 0; column <= static_cast<int>(m_runs.size()); ++column) {
        double sum = 0.0;
        int count = 0, expected = 0;
        for (const auto& [task, metric] : rows) {
            if (metric != "acc")
                continue;
            ++expected;
            const std::string name = column == 0 ? core::kFullPrecisionPrefix + metric : metric;
            for (std::size_t r = 0; r < m_runs.size(); ++r) {
                if (column > 0 && r != static_cast<std::size_t>(column - 1))
                    continue;
                if (const auto* value = find(m_runs[r], task, name)) {
                    sum += value->first;
                    ++count;
                    break;
                }
            }
        }
        if (expected > 0 && count == expected) {
            auto* item = new QTableWidgetItem(QString::number(sum / count, 'f', 3));
            item->setData(Qt::UserRole, sum / count);
            m_table->setItem(row, column, item);
        }
    }
}

bool CompareView::showRuns(const QString& workspaceDirectory, const QList<qint64>& runIds)
{
    std::vector<RunData> runs;
    std::vector<core::SeedGroup> groups;
    try {
        const core::Workspace workspace(workspaceDirectory.toStdString(), core::OpenMode::ReadOnly);
        std::vector<std::int64_t> ids(runIds.begin(), runIds.end());
        groups = core::groupRunsBySeed(workspace.catalog(), ids);
        for (const qint64 id : runIds) {
            RunData data;
            data.artifactPath = workspace.artifactPath(id);
            const core::RunRecord record = workspace.catalog().run(id);
            data.name = tr("run %1: %2").arg(id).arg(QString::fromStdString(record.name));
            // Derived runs say so wherever they are named: TTA numbers are never PTQ numbers.
            if (record.kind == core::RunKind::TestTimeAdapted)
                data.name += tr(" [TTA of run %1]").arg(record.parentRunId);
            else if (record.kind == core::RunKind::Preprocessed)
                data.name += tr(" [preprocessed, from run %1]").arg(record.parentRunId);
            for (const auto& d : workspace.catalog().datasetMetrics(id)) {
                if (d.metric == "perplexity")
                    data.perplexity[d.dataset] = d.value;
                if (d.metric == "fp_perplexity")
                    data.fpPerplexity[d.dataset] = d.value;
            }
            for (const auto& m : workspace.catalog().taskMetrics(id)) {
                data.tasks[m.task][m.metric] = {m.value, m.standardError};
                if (m.reported && !m.metric.starts_with(core::kFullPrecisionPrefix))
                    data.reportedTaskMetrics[m.task].push_back(m.metric);
            }
            const auto runMetrics = workspace.catalog().runMetrics(id);
            if (const auto bits = runMetrics.find("effective_bits"); bits != runMetrics.end())
                data.effectiveBits = bits->second;
            RunLayerMetrics layers = readRunLayerMetrics(workspace.catalog(), id);
            for (const auto& [layer, values] : layers.values)
                for (const auto& [metric, value] : values)
                    data.layers[metric][layer] = value;
            data.layerOrder = std::move(layers.order);
            runs.push_back(std::move(data));
        }
    } catch (const core::Error& e) {
        Q_EMIT message(QString::fromStdString(e.what()), true);
        return false;
    }
    m_runIds = runIds;
    m_runs = std::move(runs);
    m_seedGroups->setGroups(std::move(groups));

    // Perplexity table: a row per dataset; FP, then each run with its change against the first.
    std::set<std::string> datasets;
    for (const auto& run : m_runs)
        for (const auto& [dataset, value] : run.perplexity)
            datasets.insert(dataset);
    m_table->clear();
    // One row per dataset's perplexity, then the runs' effective bits per weight.
    const auto tasks = taskRows();
    // Then one row per reported task metric and the average acc.
    m_table->setRowCount(static_cast<int>(datasets.size()) + 1 +
                         (tasks.empty() ? 0 : static_cast<int>(tasks.size()) + 1));
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
    m_table->setVerticalHeaderItem(row, new QTableWidgetItem(tr("bits/weight")));
    m_table->setItem(row, 0, new QTableWidgetItem(QStringLiteral("32")));
    for (std::size_t r = 0; r < m_runs.size(); ++r)
        if (std::isfinite(m_runs[r].effectiveBits))
            m_table->setItem(row, static_cast<int>(r) + 1,
                             new QTableWidgetItem(QString::number(m_runs[r].effectiveBits, 'f', 3)));
    fillTaskRows(row + 1, tasks);
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

    // Difference map: by default the last selected run against the first.
    for (QComboBox* box : {m_differenceRun, m_differenceReference}) {
        const QSignalBlocker blockRuns(box);
        box->clear();
        for (const auto& run : m_runs)
            box->addItem(run.name);
    }
    m_differenceRun->setCurrentIndex(static_cast<int>(m_runs.size()) - 1);
    m_differenceReference->setCurrentIndex(0);
    showChosenDifference();
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
    for (const auto& layer : layers)
        labels << shortLayerLabel(layer);
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
