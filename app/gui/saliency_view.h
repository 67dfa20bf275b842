#pragma once
// The inspector's Saliency tab: a Linear's max-pooled OBS saliency map and its top-k salient
// weights, under 2XXᵀ or, for runs that quantized with OAC, under the output-adaptive Ĥ (a
// selector switches; a line states how far the two agree: top-k Jaccard and the Spearman
// correlation of the column scores). Weights the method kept in full precision (SpQR's
// outliers) are marked on the map.

#include "diagnostics/diagnostics_reader.h"

#include <QWidget>

#include <map>
#include <optional>
#include <string>

class QComboBox;
class QLabel;
class QTableWidget;

namespace widgets {
class HeatMapPlot;
}

namespace app {

class SaliencyView : public QWidget {
    Q_OBJECT
public:
    explicit SaliencyView(QWidget* parent = nullptr);

    /// `metrics`: the Linear's per-layer metrics from the catalog (the recorded agreement).
    void showLinear(const QString& layer, const core::LinearDiagnostics& diagnostics,
                    const std::map<std::string, double>& metrics);
    void clear(const QString& message);

    widgets::HeatMapPlot* map() const { return m_map; }
    QTableWidget* topSalient() const { return m_top; }
    QComboBox* hessianChoice() const { return m_hessian; }
    QLabel* agreement() const { return m_agreement; }

private:
    void redraw();

    widgets::HeatMapPlot* m_map = nullptr;
    QTableWidget* m_top = nullptr;
    QComboBox* m_hessian = nullptr;
    QLabel* m_agreement = nullptr;
    QString m_layer;
    std::optional<core::LinearDiagnostics> m_shown;
};

} // namespace app
