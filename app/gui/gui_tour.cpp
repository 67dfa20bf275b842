#include "gui/gui_tour.h"

#include "gui/calibration_runner.h"
#include "gui/compare_view.h"
#include "gui/layer_inspector.h"
#include "gui/live_run_view.h"
#include "gui/main_window.h"
#include "gui/new_calibration_dialog.h"
#include "gui/runs_panel.h"
#include "gui/runs_table_model.h"
#include "gui/seed_group_view.h"

#include <QApplication>
#include <QDir>
#include <QPixmap>
#include <QTabWidget>
#include <QTimer>
#include <QTreeWidget>

#include <cstdio>

namespace app {

namespace {

/// Lets pending layouts and replots land before a screenshot.
void settle()
{
    for (int i = 0; i < 5; ++i)
        QApplication::processEvents();
}

} // namespace

GuiTour::GuiTour(MainWindow* window, QString configPath, QString screenshotDirectory)
    : QObject(window), m_window(window), m_configPath(std::move(configPath)),
      m_directory(std::move(screenshotDirectory))
{
}

void GuiTour::start()
{
    QDir().mkpath(m_directory);
    // The model summary is read in the background: give it a moment, then begin.
    QTimer::singleShot(1500, this, [this] {
        shoot(m_window, QStringLiteral("01-main-window"));
        openDialogAndRun();
    });
}

void GuiTour::shoot(QWidget* widget, const QString& name)
{
    settle();
    const QString path = QDir(m_directory).filePath(name + QStringLiteral(".png"));
    if (!widget->grab().save(path))
        return fail(QStringLiteral("could not write %1").arg(path));
    m_screenshots << path;
    std::fprintf(stderr, "tour: %s\n", qPrintable(path));
}

void GuiTour::fail(const QString& reason)
{
    std::fprintf(stderr, "tour failed: %s\n", qPrintable(reason));
    QApplication::exit(1);
}

void GuiTour::openDialogAndRun()
{
    // The dialog File ▸ New Calibration opens, filled from the config as its Load… button does.
    auto* dialog = new NewCalibrationDialog(m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (!dialog->form()->loadFile(m_configPath))
        return fail(QStringLiteral("the form rejected %1: %2").arg(m_configPath, dialog->form()->errorMessage()));
    dialog->show();
    shoot(dialog, QStringLiteral("02-new-calibration"));
    const auto config = dialog->form()->config();
    if (!config)
        return fail(QStringLiteral("the form's config is invalid: %1").arg(dialog->form()->errorMessage()));
    dialog->accept();

    CalibrationRunner* runner = m_window->runner();
    connect(runner, &CalibrationRunner::progress, this,
            [this](const QString&, double fraction, const QString&, const QStringList& names, const QVector<double>&) {
                // One picture of the running job once the live loss has a few points.
                if (!m_shotLive && !names.isEmpty() && fraction > 0.3) {
                    m_shotLive = true;
                    auto* liveTabs = m_window->liveView()->findChild<QTabWidget*>();
                    shoot(m_window, QStringLiteral("03-calibrating-loss"));
                    liveTabs->setCurrentIndex(1);
                    shoot(m_window, QStringLiteral("04-calibrating-layers"));
                    liveTabs->setCurrentIndex(0);
                }
            });
    connect(runner, &CalibrationRunner::finished, this, [this](qint64 runId, const QString&) {
        // Let the window's own finished handler refresh the runs panel first.
        QTimer::singleShot(200, this, [this, runId] { inspectAndCompare(runId); });
    });
    connect(runner, &CalibrationRunner::failed, this,
            [this](const QString& error) { fail(QStringLiteral("calibration failed: %1").arg(error)); });
    if (!m_window->startCalibration(*config))
        fail(QStringLiteral("the window did not start the calibration"));
}

void GuiTour::inspectAndCompare(qint64 runId)
{
    RunsPanel* runs = m_window->runsPanel();
    runs->selectRuns({runId});
    LayerInspector* inspector = m_window->inspector();
    if (inspector->runId() != runId)
        return fail(QStringLiteral("selecting run %1 did not open it in the inspector").arg(runId));
    const QString linear = QStringLiteral("model.layers.1.mlp.down_proj");
    if (!inspector->selectLayer(linear))
        return fail(QStringLiteral("the inspector has no %1").arg(linear));
    auto* views = inspector->findChild<QTabWidget*>();
    int shot = 5;
    for (int t = 0; t < views->count(); ++t) {
        const QString tab = views->tabText(t);
        // The projected-SW view is a block's; every other view shows the Linear.
        inspector->selectLayer(tab == QLatin1String("Projected SW") ? QStringLiteral("model.layers.1") : linear);
        views->setCurrentIndex(t);
        shoot(m_window, QStringLiteral("%1-inspector-%2")
                            .arg(shot++, 2, 10, QLatin1Char('0'))
                            .arg(tab.toLower().replace(' ', '-')));
    }

    // Compare with the run listed before the new one (the tour script makes a baseline first).
    const auto& rows = runs->model()->runs();
    qint64 previous = 0;
    for (const auto& row : rows)
        if (row.id < runId && row.status == QLatin1String("finished"))
            previous = std::max(previous, row.id);
    if (previous == 0)
        return fail(QStringLiteral("no finished run before run %1 to compare with").arg(runId));
    runs->selectRuns({previous, runId});
    CompareView* compare = m_window->compareView();
    if (compare->runIds().size() != 2)
        return fail(QStringLiteral("selecting runs %1 and %2 did not open the compare view").arg(previous).arg(runId));
    auto* layerViews = compare->findChild<QTabWidget*>();
    for (int t = 0; t < layerViews->count(); ++t) {
        layerViews->setCurrentIndex(t);
        shoot(m_window, QStringLiteral("%1-compare-%2")
                            .arg(shot++, 2, 10, QLatin1Char('0'))
                            .arg(layerViews->tabText(t).toLower().replace(' ', '-')));
    }

    // Seed groups (issue 20): the runs table grouped, every run selected, the groups with their
    // error bars (the tour script calibrates its baseline with three seeds).
    runs->setGroupSeeds(true);
    QList<qint64> all;
    for (const auto& row : rows)
        all << row.id;
    runs->selectRuns(all);
    const auto& groups = compare->seedGroups()->groups();
    if (std::none_of(groups.begin(), groups.end(), [](const auto& group) { return group.runIds.size() > 1; }))
        return fail(QStringLiteral("the compare view found no seed group among runs %1").arg(all.size()));
    layerViews->setCurrentWidget(compare->seedGroups());
    shoot(m_window, QStringLiteral("%1-runs-grouped-by-seed").arg(shot++, 2, 10, QLatin1Char('0')));
    QApplication::exit(0);
}

} // namespace app
