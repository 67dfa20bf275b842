#pragma once
// Every persisted user preference, typed, in one place (no QSettings keys elsewhere).

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace app {

class Settings {
public:
    QString lastModelDirectory() const;
    void setLastModelDirectory(const QString& directory);
    QStringList recentModelDirectories() const;
    void addRecentModelDirectory(const QString& directory);
    /// The workspace opened last; "" when none was (the caller falls back to the default).
    QString lastWorkspaceDirectory() const;
    void setLastWorkspaceDirectory(const QString& directory);
    bool darkPalette() const;
    void setDarkPalette(bool dark);
    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray& geometry);
    QByteArray windowState() const;
    void setWindowState(const QByteArray& state);
};

} // namespace app
