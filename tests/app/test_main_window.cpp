// The window as a user meets it: pick a model, see its summary and layers;
// pick a broken one, see the error instead of a crash or a frozen window.

#include "gui/main_window.h"
#include "gui/runs_panel.h"
#include "gui/settings.h"
#include "model_info_panel.h"
#include "tiny_model_files.h"

#include <QSignalSpy>
#include <QtTest>

#include <filesystem>

class TestMainWindow : public QObject {
    Q_OBJECT
private:
    std::string m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true); // keep the user's settings untouched
        m_dir = testsupport::makeTempDir("gui");
        // The window opens the default workspace: a fresh one here, never the user's.
        qputenv("QUANTSCOPE_WORKSPACE", QByteArray::fromStdString(m_dir + "/workspace"));
        app::Settings().setLastWorkspaceDirectory({}); // an earlier test run's workspace must not open
        testsupport::writeTinyLlamaWithTokenizer(m_dir + "/llama");
    }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void showsModelSummary()
    {
        app::MainWindow window;
        window.show();
        QSignalSpy shown(&window, &app::MainWindow::modelShown);
        window.openModel(QString::fromStdString(m_dir + "/llama"));
        QVERIFY(shown.wait(10000));
        QCOMPARE(window.infoPanel()->fieldText("family"), QString("llama"));
        QCOMPARE(window.infoPanel()->fieldText("layers"), QString("2"));
        QVERIFY(window.infoPanel()->fieldText("heads").contains("KV heads: 2"));
        QCOMPARE(window.infoPanel()->layerCount(), 2 * 7 + 1);
        QCOMPARE(window.runsPanel()->workspaceDirectory(), QString::fromStdString(m_dir + "/workspace"));
    }

    void reportsBrokenModel()
    {
        app::MainWindow window;
        QSignalSpy failed(&window, &app::MainWindow::modelFailed);
        window.openModel(QString::fromStdString(m_dir + "/does-not-exist"));
        QVERIFY(failed.wait(10000));
        QVERIFY(failed.first().first().toString().contains("model directory not found"));
        QCOMPARE(window.infoPanel()->fieldText("family"), QString("–"));
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
