#pragma once
// What the running calibration shows while it runs (a dock of the main window): the current
// block's training loss per term, step by step, and the per-layer metrics of every block
// finished so far — read from the catalog, where the job writes them as each block ends.

#include "curve_plot.h"

#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QTabWidget;
class QTableWidget;

namespace app {

class LiveRunView : public QWidget {
    Q_OBJECT
public:
    explicit LiveRunView(QWidget* parent = nullptr);

    /// A new run starts: clears both views.
    void start(const QString& workspaceDirectory, qint64 runId);
    /// A progress event of the running job (CalibrationRunner::progress).
    void onProgress(const QString& stage, const QString& message, const QStringList& names,
                    const QVector<double>& values);
    /// Reads the run's per-layer metrics again (also called when the job ends).
    void refreshLayers();

    widgets::CurvePlot* lossPlot() const { return m_lossPlot; }
    QTableWidget* layerTable() const { return m_layers; }

Q_SIGNALS:
    /// The running job entered another stage (load, calibrate, eval).
    void stageChanged(const QString& stage);

private:
    void addLossPoint(const QString& block, const QStringList& names, const QVector<double>& values);

    widgets::CurvePlot* m_lossPlot = nullptr;
    QTableWidget* m_layers = nullptr;
    QTabWidget* m_tabs = nullptr;
    QString m_workspace;
    qint64 m_runId = 0;
    QString m_block; ///< "block 3/6" of the last event
    QString m_stage;
    double m_lastStep = 0.0;
    QVector<widgets::Curve> m_curves; ///< the running block's loss terms
};

} // namespace app
