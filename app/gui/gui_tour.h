#pragma once
// The scripted tour of the real window (`quantscope gui --tour CONFIG --screenshots DIR`,
// run by tests/gui_tour.sh under Xvfb): opens the New Calibration dialog with CONFIG loaded,
// runs it, watches the live loss, then inspects the new run layer by layer and compares it
// with the run before it — saving a screenshot of the window at every stage. It goes through
// the same slots a user's clicks reach; it fails (exit code 1, reason on stderr) when a stage
// does not produce what it should.

#include <QObject>
#include <QString>
#include <QStringList>

namespace app {

class MainWindow;

class GuiTour : public QObject {
    Q_OBJECT
public:
    GuiTour(MainWindow* window, QString configPath, QString screenshotDirectory);
    /// Starts the tour once the event loop runs; it quits the application when done.
    void start();
    QStringList screenshots() const { return m_screenshots; }

private:
    void openDialogAndRun();
    void inspectAndCompare(qint64 runId);
    void shoot(QWidget* widget, const QString& name);
    void fail(const QString& reason);

    MainWindow* m_window;
    QString m_configPath;
    QString m_directory;
    QStringList m_screenshots;
    bool m_shotLive = false;
};

} // namespace app
