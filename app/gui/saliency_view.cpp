#include "gui/saliency_view.h"

#include "heat_map_plot.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

namespace app {

SaliencyView::SaliencyView(QWidget* parent) : QWidget(parent)
{
    m_hessian = new QComboBox(this);
    m_hessian->setObjectName(QStringLiteral("saliency_hessian"));
    m_hessian->addItem(tr("2XXᵀ (layer-wise, GPTQ)"));
    m_hessian->addItem(tr("Ĥ (output-adaptive, OAC)"));
    m_hessian->setToolTip(tr("The Hessian the saliency is computed under; OAC's Ĥ is recorded for runs that "
                             "quantized with it"));
    m_agreement = new QLabel(this);
    m_agreement->setObjectName(QStringLiteral("saliency_agreement"));
    m_agreement->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* bar = new QHBoxLayout();
    bar->addWidget(new QLabel(tr("Hessian:"), this));
    bar->addWidget(m_hessian);
    bar->addWidget(m_agreement, 1);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    m_map = new widgets::HeatMapPlot(splitter);
    m_top = new QTableWidget(splitter);
    m_top->setColumnCount(3);
    m_top->setHorizontalHeaderLabels({tr("row"), tr("column"), tr("OBS saliency w²/[H⁻¹]ⱼⱼ")});
    m_top->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_top->horizontalHeader()->setStretchLastSection(true);
    splitter->addWidget(m_map);
    splitter->addWidget(m_top);
    splitter->setStretchFactor(0, 3);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(splitter, 1);
    connect(m_hessian, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
}

void SaliencyView::showLinear(const QString& layer, const core::LinearDiagnostics& diagnostics,
                              const std::map<std::string, double>& metrics)
{
    m_layer = layer;
    m_shown = diagnostics;
    const bool both = diagnostics.saliency && diagnostics.outputAdaptiveSaliency;
    m_hessian->setEnabled(both);
    if (!both && m_hessian->currentIndex() != 0) {
        const QSignalBlocker block(m_hessian);
        m_hessian->setCurrentIndex(0);
    }
    QString agreement;
    // The agreement as the run recorded it (diagnostics/diagnostics_recorder.cpp).
    const auto jaccard = metrics.find("saliency_topk_jaccard");
    const auto spearman = metrics.find("saliency_column_spearman");
    if (both && jaccard != metrics.end() && spearman != metrics.end())
        agreement = tr("2XXᵀ vs Ĥ: top-%1 Jaccard %2 · column-score Spearman %3")
                        .arg(diagnostics.saliency->topObs.size())
                        .arg(jaccard->second, 0, 'f', 3)
                        .arg(spearman->second, 0, 'f', 3);
    if (!diagnostics.outliers.empty())
        agreement += (agreement.isEmpty() ? QString() : QStringLiteral(" · ")) +
                     tr("%n outlier(s) kept in full precision (circles)", nullptr,
                        static_cast<int>(diagnostics.outliers.size()));
    m_agreement->setText(agreement);
    redraw();
}

void SaliencyView::clear(const QString& message)
{
    m_shown.reset();
    m_top->setRowCount(0);
    m_agreement->clear();
    m_map->clear(message);
}

void SaliencyView::redraw()
{
    m_top->setRowCount(0);
    if (!m_shown)
        return;
    const bool outputAdaptive = m_hessian->currentIndex() == 1 && m_shown->outputAdaptiveSaliency;
    const std::optional<core::SaliencySummary>& s =
        outputAdaptive ? m_shown->outputAdaptiveSaliency : m_shown->saliency;
    if (!s) {
        m_map->clear(tr("%1: no saliency recorded (the method has no Hessian)").arg(m_layer));
        return;
    }
    const core::FloatArray& values = s->obsMap;
    m_map->setMap(tr("%1: OBS saliency under %2 (max over %3×%4 weights)")
                      .arg(m_layer, outputAdaptive ? tr("Ĥ") : tr("2XXᵀ"))
                      .arg(s->poolRows)
                      .arg(s->poolColumns),
                  tr("w²/[H⁻¹]ⱼⱼ"), static_cast<int>(values.shape[0]), static_cast<int>(values.shape[1]),
                  QVector<double>(values.values.begin(), values.values.end()), static_cast<int>(s->poolRows),
                  static_cast<int>(s->poolColumns));
    QVector<QPoint> outliers;
    for (const auto& [row, column] : m_shown->outliers)
        outliers << QPoint(static_cast<int>(row), static_cast<int>(column));
    m_map->setMarkers(tr("outliers (full precision)"), outliers);
    m_top->setRowCount(static_cast<int>(s->topObs.size()));
    for (int i = 0; i < static_cast<int>(s->topObs.size()); ++i) {
        const auto& entry = s->topObs[static_cast<std::size_t>(i)];
        m_top->setItem(i, 0, new QTableWidgetItem(QString::number(entry.row)));
        m_top->setItem(i, 1, new QTableWidgetItem(QString::number(entry.column)));
        m_top->setItem(i, 2, new QTableWidgetItem(QString::number(entry.value, 'g', 5)));
    }
}

} // namespace app
