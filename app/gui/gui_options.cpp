#include "gui/gui_options.h"

#include <QCommandLineParser>
#include <QCoreApplication>

namespace app {

GuiOptions parseGuiOptions(const QStringList& arguments)
{
    QStringList args = arguments;
    if (args.size() > 1 && args[1] == QLatin1String("gui"))
        args.removeAt(1);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The Quantscope workbench"));
    const QCommandLineOption workspace(QStringLiteral("workspace"), QStringLiteral("Workspace directory to open"),
                                       QStringLiteral("dir"));
    const QCommandLineOption select(QStringLiteral("select"),
                                    QStringLiteral("Run ids to select, comma-separated (two or more: compare them)"),
                                    QStringLiteral("ids"));
    const QCommandLineOption exportPlots(
        QStringList{QStringLiteral("export-plots")},
        QStringLiteral("Write the compare view's plots of the selected runs as PNG into dir, then quit"),
        QStringLiteral("dir"));
    const QCommandLineOption tour(QStringLiteral("tour"),
                                  QStringLiteral("Drive the window through a calibration of this run config and a "
                                                 "comparison with the previous run, then quit"),
                                  QStringLiteral("config"));
    const QCommandLineOption screenshots(QStringLiteral("screenshots"),
                                         QStringLiteral("Where the tour saves its screenshots"), QStringLiteral("dir"));
    parser.addOptions({workspace, select, exportPlots, tour, screenshots});
    parser.addHelpOption();

    GuiOptions options;
    if (!parser.parse(args)) {
        options.error = parser.errorText();
        return options;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        options.error = parser.helpText();
        options.help = true;
        return options;
    }
    options.workspace = parser.value(workspace);
    options.exportPlotsTo = parser.value(exportPlots);
    options.tourConfig = parser.value(tour);
    options.screenshotsTo = parser.value(screenshots);
    for (const QString& id : parser.value(select).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const qint64 value = id.trimmed().toLongLong(&ok);
        if (!ok || value <= 0) {
            options.error = QStringLiteral("--select: '%1' is not a run id").arg(id);
            return options;
        }
        options.select << value;
    }
    if (!options.exportPlotsTo.isEmpty() && options.select.size() < 2)
        options.error = QStringLiteral("--export-plots needs --select with two or more run ids");
    if (!options.tourConfig.isEmpty() && options.screenshotsTo.isEmpty())
        options.error = QStringLiteral("--tour needs --screenshots DIR");
    if (!options.tourConfig.isEmpty() && options.workspace.isEmpty())
        options.error = QStringLiteral("--tour needs --workspace DIR (it adds a run there)");
    return options;
}

} // namespace app
