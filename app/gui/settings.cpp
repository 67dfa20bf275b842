#include "gui/settings.h"

#include <QSettings>

namespace app {
namespace {

constexpr int kMaxRecentModels = 8;

QSettings store()
{
    return QSettings(QStringLiteral("Quantscope"), QStringLiteral("quantscope"));
}

} // namespace

QString Settings::lastModelDirectory() const
{
    return store().value("models/last").toString();
}

void Settings::setLastModelDirectory(const QString& directory)
{
    store().setValue("models/last", directory);
}

QStringList Settings::recentModelDirectories() const
{
    return store().value("models/recent").toStringList();
}

void Settings::addRecentModelDirectory(const QString& directory)
{
    QStringList recent = recentModelDirectories();
    recent.removeAll(directory);
    recent.prepend(directory);
    while (recent.size() > kMaxRecentModels)
        recent.removeLast();
    store().setValue("models/recent", recent);
}

QString Settings::lastWorkspaceDirectory() const
{
    return store().value("workspace/last").toString();
}

void Settings::setLastWorkspaceDirectory(const QString& directory)
{
    store().setValue("workspace/last", directory);
}

bool Settings::darkPalette() const
{
    return store().value("view/dark_palette", false).toBool();
}

void Settings::setDarkPalette(bool dark)
{
    store().setValue("view/dark_palette", dark);
}

QByteArray Settings::windowGeometry() const
{
    return store().value("window/geometry").toByteArray();
}

void Settings::setWindowGeometry(const QByteArray& geometry)
{
    store().setValue("window/geometry", geometry);
}

QByteArray Settings::windowState() const
{
    return store().value("window/state").toByteArray();
}

void Settings::setWindowState(const QByteArray& state)
{
    store().setValue("window/state", state);
}

} // namespace app
