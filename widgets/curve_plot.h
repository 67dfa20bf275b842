#pragma once
// Numeric x/y curves, one per series (QCustomPlot): loss against optimizer step, and the
// like. Title, axis labels, legend, log-y toggle, zoom and pan. Plain data in; no I/O.
// Optionally a strip under the curves marks positions of the x axis (PTQ1.61's salient input
// channels under the per-channel absmax), sharing the x range and the plot's margins.

#include <QVector>
#include <QWidget>

class QCheckBox;
class QCustomPlot;
class QCPTextElement;
class QCPAxisRect;
class QCPBars;
class QCPMarginGroup;

namespace widgets {

struct Curve {
    QString name;
    QVector<double> x, y;
};

class CurvePlot : public QWidget {
    Q_OBJECT
public:
    explicit CurvePlot(QWidget* parent = nullptr);
    void setCurves(const QString& title, const QString& xLabel, const QString& yLabel, const QVector<Curve>& curves);
    void setLogScale(bool logarithmic);
    /// Shows a strip named `label` under the curves with a mark at each x in `positions`
    /// (empty: no strip).
    void setMarkedPositions(const QString& label, const QVector<double>& positions);
    QVector<double> plottedValues(int curve) const; ///< tests
    int curveCount() const;
    int markedPositionCount() const; ///< tests
    QCustomPlot* plot() const { return m_plot; }

private:
    QCustomPlot* m_plot = nullptr;
    QCPTextElement* m_title = nullptr;
    QCheckBox* m_logScale = nullptr;
    QCPAxisRect* m_strip = nullptr;
    QCPBars* m_marks = nullptr;
    QCPMarginGroup* m_margins = nullptr;
};

} // namespace widgets
