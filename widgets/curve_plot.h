#pragma once
// Numeric x/y curves, one per series (QCustomPlot): loss against optimizer step, and the
// like. Title, axis labels, legend, log-y toggle, zoom and pan. Plain data in; no I/O.

#include <QVector>
#include <QWidget>

class QCheckBox;
class QCustomPlot;
class QCPTextElement;

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
    QVector<double> plottedValues(int curve) const; ///< tests
    int curveCount() const;
    QCustomPlot* plot() const { return m_plot; }

private:
    QCustomPlot* m_plot = nullptr;
    QCPTextElement* m_title = nullptr;
    QCheckBox* m_logScale = nullptr;
};

} // namespace widgets
