#pragma once
// One row per run of a workspace, as the runs panel shows it: plain Qt values read from the
// catalog in five queries whatever the number of runs (runs, tags, perplexities, bits, tasks).

#include <QDateTime>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QVector>

#include <limits>

namespace core {
class Catalog;
}

namespace app {

struct RunRow {
    qint64 id = 0;
    QString name;
    QString method;
    QString weights; ///< "w3g128", "w2 per-channel sym"
    QString bits;    ///< "W3A16", "W4A4KV4": weight, activation and KV-cache bits
    /// Bits per weight of the stored model (codes, grids, outliers, masks); NaN: not recorded
    double effectiveBits = std::numeric_limits<double>::quiet_NaN();
    QString loss;   ///< "mse+sw" for learning methods, "" otherwise
    QString status; ///< queued, running, finished, failed, cancelled
    QString model;  ///< the model directory's name
    QString modelPath;
    QDateTime created; ///< UTC
    QStringList tags;
    QString error;                      ///< the failure message of a failed run
    QMap<QString, double> perplexity;   ///< by dataset
    QMap<QString, double> taskAccuracy; ///< zero-shot acc by task (issue 19)
    /// Mean of taskAccuracy (the papers' "average accuracy"); NaN without tasks.
    double averageAccuracy() const;
    /// A run derived from another: "tta" (LRQuant's test-time adaptation: its perplexities come
    /// from the text it adapted to) or "preprocessed"; "" for a plain calibration.
    QString kind;
    qint64 parentId = 0; ///< the run it derives from (0: none)
    bool isTestTimeAdapted() const { return kind == QLatin1String("tta"); }
    /// Runs that differ only in calibration.seed share this (config/run_identity.h).
    QString seedGroup;
    quint64 seed = 0;
    /// A seed group's row (groupRowsBySeed): its runs and their seeds, and the sample standard
    /// deviation of each number whose mean the row holds. Empty for a single run.
    QVector<qint64> members;
    QVector<quint64> memberSeeds;
    QMap<QString, double> perplexitySpread, taskAccuracySpread;
    double effectiveBitsSpread = std::numeric_limits<double>::quiet_NaN();
    bool isSeedGroup() const { return !members.isEmpty(); }
};

/// Every run of `catalog`, ordered by id. Throws core::Error as the catalog does.
QVector<RunRow> loadRunRows(const core::Catalog& catalog);

/// `rows` with every set of two or more finished calibrations that differ only in their seed
/// replaced by one row (at the place of its first run): mean of each number, with the spread.
QVector<RunRow> groupRowsBySeed(const QVector<RunRow>& rows);

/// "w3g128", "w4 per-channel sym" from a stored run config (tolerant of old or partial configs).
QString weightsLabel(const QString& configJson);
/// "W4A4KV4" (KV only when quantized; configs from before activation quantization: A16).
QString bitsLabel(const QString& configJson);
/// "mse+sw" from a stored run config's loss terms ("" without a loss).
QString lossLabel(const QString& configJson);

} // namespace app
