#pragma once
// Command-line options of `quantscope gui`: what to open, and the two unattended modes —
// writing the compare view's plots as PNG (the main job without a display) and the scripted
// tour that drives the window through a calibration and a comparison, saving screenshots
// (tests/gui_tour.sh).

#include <QList>
#include <QString>
#include <QStringList>

namespace app {

struct GuiOptions {
    QString workspace;     ///< open this workspace instead of the last one
    QList<qint64> select;  ///< select these runs (one: inspector, several: compare view)
    QString exportPlotsTo; ///< write the compare view's plots there as PNG, then quit
    QString tourConfig;    ///< run config JSON for the tour's calibration
    QString screenshotsTo; ///< the tour's screenshots directory
    bool help = false;     ///< --help: `error` holds the help text (exit code 0)
    QString error;         ///< non-empty: the arguments are invalid (printed, exit code 2)
};

/// Parses `arguments` (argv as QStringList; a leading "gui" subcommand is skipped).
GuiOptions parseGuiOptions(const QStringList& arguments);

} // namespace app
