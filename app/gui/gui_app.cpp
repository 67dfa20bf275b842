#include "gui/gui_app.h"

#include "gui/compare_view.h"
#include "gui/gui_options.h"
#include "gui/gui_tour.h"
#include "gui/main_window.h"
#include "gui/palette.h"
#include "gui/runs_panel.h"
#include "jobs/resources.h"

#include <QApplication>
#include <QDir>
#include <QStyleFactory>

#include <algorithm>
#include <cstdio>

namespace app {

namespace {

QStringList argumentList(int argc, char** argv)
{
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    return arguments;
}

/// Writes the compare view's plots of the selected runs (no window is shown).
int exportPlots(MainWindow& window, const GuiOptions& options)
{
    CompareView* compare = window.compareView();
    QList<qint64> shown = compare->runIds(), asked = options.select;
    std::sort(shown.begin(), shown.end());
    std::sort(asked.begin(), asked.end());
    if (shown != asked) {
        std::fprintf(stderr, "quantscope gui: cannot compare runs of %s (see the messages above)\n",
                     qPrintable(window.runsPanel()->workspaceDirectory()));
        return 1;
    }
    const QStringList written = compare->exportPlots(options.exportPlotsTo, 1000, 620);
    for (const QString& path : written)
        std::printf("%s\n", qPrintable(path));
    return written.isEmpty() ? 1 : 0;
}

} // namespace

int runGui(int argc, char** argv)
{
    const GuiOptions options = parseGuiOptions(argumentList(argc, argv));
    if (!options.error.isEmpty()) {
        std::fprintf(options.help ? stdout : stderr, "%s\n", qPrintable(options.error));
        return options.help ? 0 : 2;
    }
    // Writing plots needs no screen: without a display, render offscreen.
    if (!options.exportPlotsTo.isEmpty() && qEnvironmentVariableIsEmpty("DISPLAY") &&
        qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");

    QApplication application(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Quantscope"));
    QApplication::setOrganizationName(QStringLiteral("Quantscope"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    Settings settings;
    applyPalette(settings.darkPalette());

    MainWindow window;
    if (!options.workspace.isEmpty() && !window.openWorkspace(options.workspace)) {
        std::fprintf(stderr, "quantscope gui: cannot open workspace %s\n", qPrintable(options.workspace));
        return 1;
    }
    if (!options.select.isEmpty())
        window.runsPanel()->selectRuns(options.select);
    if (!options.exportPlotsTo.isEmpty())
        return exportPlots(window, options);

    window.show();
    QString initial = settings.lastModelDirectory();
    if (initial.isEmpty() || !QDir(initial).exists())
        initial = QString::fromStdString(core::defaultModelDirectory());
    if (QDir(initial).exists())
        window.openModel(initial);
    if (!options.tourConfig.isEmpty()) {
        auto* tour = new GuiTour(&window, options.tourConfig, options.screenshotsTo);
        tour->start();
    }
    return QApplication::exec();
}

} // namespace app
