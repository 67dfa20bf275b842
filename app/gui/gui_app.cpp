#include "gui/gui_app.h"

#include "gui/main_window.h"
#include "gui/palette.h"
#include "jobs/resources.h"

#include <QApplication>
#include <QDir>
#include <QStyleFactory>

namespace app {

int runGui(int argc, char** argv)
{
    QApplication application(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Quantscope"));
    QApplication::setOrganizationName(QStringLiteral("Quantscope"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    Settings settings;
    applyPalette(settings.darkPalette());

    MainWindow window;
    window.show();
    QString initial = settings.lastModelDirectory();
    if (initial.isEmpty() || !QDir(initial).exists())
        initial = QString::fromStdString(core::defaultModelDirectory());
    if (QDir(initial).exists())
        window.openModel(initial);
    return QApplication::exec();
}

} // namespace app
