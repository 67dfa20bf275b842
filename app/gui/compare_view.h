#pragma once
// The compare view: two or more runs side by side — per-dataset perplexity and zero-shot task
// accuracy with the change against the first run, any per-layer metric against the layer (one line per run), a
// difference heat map (layers × metrics, a run against the first) and the training loss of a
// block overlaid (the "MSE vs MSE+SW at a glance" view).

#include <QWidget>

#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

class QComboBox;
class QTabWidget;
class QTableWidget;

namespace widgets {
class CurvePlot;
class LabelledHeatMap;
class MetricLinesPlot;
} // namespace widgets

namespace app {

class SeedGroupView;

class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(QWidget* parent = nullptr);

    /// Reads the runs from the workspace's catalog; false (and message()) when it cannot.
    bool showRuns(const QString& workspaceDirectory, const QList<qint64>& runIds);
    /// Plots `metric` ("rel_error", "sw1", ...) per layer; false if no run has it.
    bool showMetric(const QString& metric);
    QStringList metrics() const;
    /// Overlays the training loss (weighted total per step) of `block` for every run that
    /// learned it; false if none did.
    bool showLossCurves(const QString& block);
    /// Difference map of run `index` against run `referenceIndex` (positions in runIds()), for
    /// the Linears (`blocks` false) or the blocks: the relative change of every metric, in %,
    /// signed so that positive = worse. False for the same run twice or when the runs share no
    /// metric at that level.
    bool showDifference(int index, bool blocks, int referenceIndex = 0);
    /// Writes the view's plots as PNG files of `width` × `height` pixels into `directory`
    /// (per-layer metrics, difference maps, each block's loss curves); the paths written.
    QStringList exportPlots(const QString& directory, int width, int height);
    QList<qint64> runIds() const { return m_runIds; }

    QTableWidget* perplexityTable() const { return m_table; }
    widgets::MetricLinesPlot* metricPlot() const { return m_plot; }
    widgets::CurvePlot* lossPlot() const { return m_lossPlot; }
    widgets::LabelledHeatMap* differenceMap() const { return m_difference; }
    SeedGroupView* seedGroups() const { return m_seedGroups; }

Q_SIGNALS:
    void message(const QString& text, bool error);

private:
    QWidget* buildDifferencePage();
    void showChosenDifference();

    struct RunData {
        QString name;
        std::map<std::string, double> perplexity, fpPerplexity;
        std::map<std::string, std::map<std::string, double>> layers; ///< metric → layer → value
        std::vector<std::string> layerOrder;                         ///< as the catalog returns them
        std::string artifactPath;
        double effectiveBits = std::numeric_limits<double>::quiet_NaN(); ///< the run's bits per weight
        /// Zero-shot metrics by task, then metric ("acc", "fp_acc", ...): value and stderr
        std::map<std::string, std::map<std::string, std::pair<double, double>>> tasks;
        std::map<std::string, std::vector<std::string>> reportedTaskMetrics; ///< what the harness reports
    };
    /// Rows of the zero-shot tasks under the perplexities: each reported metric with its stderr
    /// and change against the first run, then the average acc.
    void fillTaskRows(int firstRow, const std::vector<std::pair<std::string, std::string>>& rows);
    /// The (task, metric) rows: each metric the harness reports, in the order the runs list them.
    std::vector<std::pair<std::string, std::string>> taskRows() const;

    QList<qint64> m_runIds;
    std::vector<RunData> m_runs;
    QComboBox* m_metric = nullptr;
    QComboBox* m_block = nullptr;
    widgets::CurvePlot* m_lossPlot = nullptr;
    QTableWidget* m_table = nullptr;
    widgets::MetricLinesPlot* m_plot = nullptr;
    QTabWidget* m_layerViews = nullptr;
    QComboBox* m_differenceRun = nullptr;
    QComboBox* m_differenceReference = nullptr;
    QComboBox* m_differenceLevel = nullptr;
    widgets::LabelledHeatMap* m_difference = nullptr;
    SeedGroupView* m_seedGroups = nullptr; ///< the runs grouped by all but their seed, with error bars
};

} // namespace app
