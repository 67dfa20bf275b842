#pragma once
// The layer inspector: the model's blocks and Linears of one run as a tree with its metric
// columns, and for the selected layer (diagnostics of runs/<id>/artifacts.h5, read lazily one
// layer at a time):
//   Distributions — a Linear's input activations and weights, a block's outputs, FP vs quantized;
//   Projected SW  — a block's outputs projected on one stored direction (step through them),
//                   and W1 per direction;
//   Channels      — per input channel absmax of a Linear's inputs, FP vs quantized (outliers);
//   Saliency      — a Linear's max-pooled OBS saliency map with its top-k salient weights, under
//                   2XXᵀ or OAC's Ĥ, SpQR's outliers marked (gui/saliency_view.h);
//   QSUR          — quantization space utilization of every Linear across the model.

#include <QWidget>

#include <map>
#include <memory>
#include <string>
#include <vector>

class QLabel;
class QSpinBox;
class QTabWidget;
class QTableWidget;
class QTreeWidget;

namespace core {
class DiagnosticsReader;
}
namespace widgets {
class BarPlot;
class HeatMapPlot;
class CurvePlot;
class HistogramPlot;
class MetricLinesPlot;
} // namespace widgets

namespace app {
class SaliencyView;

class LayerInspector : public QWidget {
    Q_OBJECT
public:
    explicit LayerInspector(QWidget* parent = nullptr);
    ~LayerInspector() override;

    /// Shows run `runId` of the workspace at `workspaceDirectory`; false (with the reason on
    /// the panel and in message()) when the run has no readable diagnostics.
    bool showRun(const QString& workspaceDirectory, qint64 runId);
    /// Selects a Linear ("model.layers.1.mlp.down_proj") or block ("model.layers.1").
    bool selectLayer(const QString& layer);
    QString selectedLayer() const;
    qint64 runId() const { return m_runId; }

    widgets::HistogramPlot* inputPlot() const { return m_inputPlot; }
    widgets::HistogramPlot* weightPlot() const { return m_weightPlot; }
    /// A rotation method's Linear input before and after the transforms (hidden for other runs).
    widgets::HistogramPlot* rotationPlot() const { return m_rotationPlot; }
    widgets::HistogramPlot* projectionPlot() const { return m_projectionPlot; }
    widgets::BarPlot* swBars() const { return m_swBars; }
    widgets::CurvePlot* channelPlot() const { return m_channelPlot; }
    SaliencyView* saliency() const { return m_saliency; }
    widgets::MetricLinesPlot* qsurPlot() const { return m_qsurPlot; }
    /// Shows projection direction `k` of the selected block.
    void showDirection(int k);
    QTreeWidget* tree() const { return m_tree; }

Q_SIGNALS:
    void message(const QString& text, bool error);

private:
    void showLayer(const QString& layer);
    /// The QSUR chart of `linears` (in the order given) from the run's per-layer metrics.
    void showQsur(const std::vector<std::string>& linears,
                  const std::map<std::string, std::map<std::string, double>>& metrics);
    QWidget* buildProjectionTab();

    QLabel* m_header = nullptr;
    QTreeWidget* m_tree = nullptr;
    widgets::HistogramPlot* m_inputPlot = nullptr;
    widgets::HistogramPlot* m_weightPlot = nullptr;
    widgets::HistogramPlot* m_rotationPlot = nullptr;
    widgets::HistogramPlot* m_projectionPlot = nullptr;
    widgets::BarPlot* m_swBars = nullptr;
    widgets::CurvePlot* m_channelPlot = nullptr;
    SaliencyView* m_saliency = nullptr;
    /// The shown run's per-layer metrics from the catalog, by layer.
    std::map<std::string, std::map<std::string, double>> m_layerMetrics;
    widgets::MetricLinesPlot* m_qsurPlot = nullptr;
    QSpinBox* m_direction = nullptr;
    QTabWidget* m_views = nullptr;
    std::unique_ptr<struct BlockDiagnosticsHolder> m_block; ///< the selected block's data
    std::unique_ptr<core::DiagnosticsReader> m_reader;
    qint64 m_runId = 0;
};

} // namespace app
