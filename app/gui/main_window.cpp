#include "gui/main_window.h"

#include "curve_plot.h"
#include "gui/calibration_runner.h"
#include "gui/compare_view.h"
#include "gui/layer_inspector.h"
#include "gui/live_run_view.h"
#include "gui/new_calibration_dialog.h"
#include "gui/palette.h"
#include "gui/plot_export.h"
#include "gui/runs_panel.h"
#include "io/model_config.h"
#include "jobs/export_job.h"
#include "jobs/resources.h"
#include "jobs/runtime.h"
#include "model_info_panel.h"
#include "store/workspace.h"
#include "util/error.h"

#include <algorithm>

#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace app {

namespace {

ModelInfoOutcome readModel(const QString& directory)
{
    ModelInfoOutcome outcome;
    try {
        outcome.info = core::inspectModel(directory.toStdString());
    } catch (const std::exception& e) {
        outcome.error = QString::fromStdString(e.what());
    }
    return outcome;
}

} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(tr("Quantscope"));
    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);

    auto* pickerRow = new QHBoxLayout();
    auto* label = new QLabel(tr("&Model:"), central);
    m_modelPicker = new QComboBox(central);
    m_modelPicker->setEditable(true);
    m_modelPicker->setInsertPolicy(QComboBox::NoInsert);
    m_modelPicker->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    m_modelPicker->setToolTip(tr("A Hugging Face model directory (config.json, *.safetensors, tokenizer)"));
    label->setBuddy(m_modelPicker);
    auto* browse = new QPushButton(tr("&Browse…"), central);
    pickerRow->addWidget(label);
    pickerRow->addWidget(m_modelPicker, 1);
    pickerRow->addWidget(browse);
    layout->addLayout(pickerRow);

    m_infoPanel = new widgets::ModelInfoPanel(central);
    layout->addWidget(m_infoPanel, 1);
    m_inspector = new LayerInspector(this);
    m_tabs = new QTabWidget(this);
    m_tabs->addTab(central, tr("&Model"));
    m_tabs->addTab(m_inspector, tr("&Inspector"));
    m_compare = new CompareView(this);
    m_tabs->addTab(m_compare, tr("&Compare"));
    setCentralWidget(m_tabs);

    m_runsPanel = new RunsPanel(this);
    auto* runsDock = new QDockWidget(tr("Runs"), this);
    runsDock->setObjectName(QStringLiteral("runsDock")); // saveState() needs names
    runsDock->setWidget(m_runsPanel);
    addDockWidget(Qt::BottomDockWidgetArea, runsDock);
    connect(m_runsPanel, &RunsPanel::message, this,
            [this](const QString& text, bool) { statusBar()->showMessage(text, 10000); });
    connect(m_inspector, &LayerInspector::message, this,
            [this](const QString& text, bool) { statusBar()->showMessage(text, 10000); });
    connect(m_compare, &CompareView::message, this,
            [this](const QString& text, bool) { statusBar()->showMessage(text, 10000); });
    // One selected run opens in the inspector, several in the compare view.
    connect(m_runsPanel, &RunsPanel::selectionChanged, this, [this](const QList<qint64>& ids) {
        if (ids.size() == 1 && ids.front() != m_inspector->runId()) {
            m_inspector->showRun(m_runsPanel->workspaceDirectory(), ids.front());
            m_tabs->setCurrentWidget(m_inspector);
        } else if (ids.size() >= 2 && ids != m_compare->runIds()) {
            m_compare->showRuns(m_runsPanel->workspaceDirectory(), ids);
            m_tabs->setCurrentWidget(m_compare);
        }
    });
    m_runner = new CalibrationRunner(this);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setMinimumWidth(260);
    m_progress->setMaximumWidth(320);
    m_progress->hide();
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->hide();
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancel);
    connect(m_cancel, &QPushButton::clicked, m_runner, &CalibrationRunner::cancel);
    connect(m_runsPanel, &RunsPanel::rerunRequested, this, &MainWindow::rerun);
    connect(m_runsPanel, &RunsPanel::exportRequested, this, &MainWindow::askExport);
    connect(m_runsPanel, &RunsPanel::adaptRequested, this, &MainWindow::askAdapt);
    connect(m_runsPanel, &RunsPanel::preprocessRequested, this, &MainWindow::startPreprocessing);
    connect(m_runsPanel, &RunsPanel::resumeRequested, this, &MainWindow::resumeRun);
    connect(m_runner, &CalibrationRunner::runCreated, m_runsPanel, [this](qint64) { m_runsPanel->refresh(); });
    m_live = new LiveRunView(this);
    auto* liveDock = new QDockWidget(tr("Running calibration"), this);
    liveDock->setObjectName(QStringLiteral("liveDock"));
    liveDock->setWidget(m_live);
    // Beside the runs table: the main area keeps the full width for the inspector's plots.
    addDockWidget(Qt::BottomDockWidgetArea, liveDock);
    splitDockWidget(runsDock, liveDock, Qt::Horizontal);
    connect(m_runner, &CalibrationRunner::runCreated, this,
            [this](qint64 id) { m_live->start(m_runsPanel->workspaceDirectory(), id); });
    connect(m_runner, &CalibrationRunner::progress, this,
            [this](const QString& stage, double fraction, const QString& message, const QStringList& names,
                   const QVector<double>& values) {
                m_progress->setValue(static_cast<int>(fraction * 1000.0));
                m_progress->setFormat(QStringLiteral("%1 %p%%2").arg(stage, etaText(fraction)));
                statusBar()->showMessage(message);
                m_live->onProgress(stage, message, names, values);
            });
    // queued → running → evaluating: the runs table follows the job's stages.
    connect(m_live, &LiveRunView::stageChanged, m_runsPanel, &RunsPanel::refresh);
    const auto done = [this](const QString& message) {
        m_live->refreshLayers();
        m_progress->hide();
        m_cancel->hide();
        m_runsPanel->refresh();
        statusBar()->showMessage(message);
    };
    connect(m_runner, &CalibrationRunner::finished, this, [done](qint64, const QString& summary) { done(summary); });
    connect(m_runner, &CalibrationRunner::failed, this,
            [done, this](const QString& error) { done(tr("Calibration failed: %1").arg(error)); });
    connect(m_runner, &CalibrationRunner::cancelled, this, [done, this] { done(tr("Calibration cancelled")); });
    buildMenus();

    const QString bundled = QDir::cleanPath(QString::fromStdString(core::defaultModelDirectory()));
    QStringList choices;
    if (QDir(bundled).exists())
        choices << bundled;
    for (const auto& recent : m_settings.recentModelDirectories())
        if (!choices.contains(recent))
            choices << recent;
    m_modelPicker->addItems(choices);

    connect(browse, &QPushButton::clicked, this, &MainWindow::browseForModel);
    connect(m_modelPicker, &QComboBox::activated, this,
            [this](int index) { openModel(m_modelPicker->itemText(index)); });
    connect(m_modelPicker->lineEdit(), &QLineEdit::returnPressed, this,
            [this] { openModel(m_modelPicker->currentText()); });
    connect(&m_infoWatcher, &QFutureWatcher<ModelInfoOutcome>::finished, this, &MainWindow::onModelRead);

    if (!restoreGeometry(m_settings.windowGeometry()))
        resize(1400, 900);
    if (!restoreState(m_settings.windowState())) {
        // First start: the plots get most of the height, the runs table two thirds of the docks' width.
        resizeDocks({runsDock}, {200}, Qt::Vertical);
        resizeDocks({runsDock, liveDock}, {900, 450}, Qt::Horizontal);
    }
    statusBar()->showMessage(tr("Ready"));
    const QString workspace = m_settings.lastWorkspaceDirectory();
    openWorkspace(workspace.isEmpty() ? QString::fromStdString(core::defaultWorkspaceDirectory()) : workspace);
}

MainWindow::~MainWindow()
{
    // Hiding the children during destruction makes the editable picker emit
    // `activated`; nothing may reach openModel() once members start to die.
    m_modelPicker->disconnect(this);
    m_modelPicker->lineEdit()->disconnect(this);
    m_infoWatcher.disconnect(this);
    m_infoWatcher.waitForFinished();
    m_exportWatcher.disconnect(this);
    m_exportWatcher.waitForFinished();
}

void MainWindow::buildMenus()
{
    auto* file = menuBar()->addMenu(tr("&File"));
    auto* open = file->addAction(tr("&Open Model…"), this, &MainWindow::browseForModel);
    open->setShortcut(QKeySequence::Open);
    auto* workspace = file->addAction(tr("Open &Workspace…"), this, &MainWindow::browseForWorkspace);
    workspace->setShortcut(QKeySequence(tr("Ctrl+Shift+O")));
    auto* refresh = file->addAction(tr("&Refresh Runs"), this, [this] { m_runsPanel->refresh(); });
    refresh->setShortcut(QKeySequence::Refresh);
    file->addSeparator();
    auto* calibrate = file->addAction(tr("&New Calibration…"), this, &MainWindow::showNewCalibration);
    calibrate->setShortcut(QKeySequence::New);
    file->addSeparator();
    auto* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    auto* view = menuBar()->addMenu(tr("&View"));
    auto* dark = view->addAction(tr("&Dark Palette"));
    dark->setCheckable(true);
    dark->setChecked(m_settings.darkPalette());
    connect(dark, &QAction::toggled, this, [this](bool on) {
        applyPalette(on);
        m_settings.setDarkPalette(on);
    });
    view->addAction(findChild<QDockWidget*>(QStringLiteral("runsDock"))->toggleViewAction());
    view->addAction(findChild<QDockWidget*>(QStringLiteral("liveDock"))->toggleViewAction());

    auto* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Quantscope"), this, &MainWindow::showAbout);
}

void MainWindow::openModel(const QString& directory)
{
    const QString cleaned = QDir::cleanPath(directory.trimmed());
    if (cleaned.isEmpty())
        return;
    if (m_infoWatcher.isRunning()) {
        // Reading headers takes milliseconds; the newest request wins once the current one is done.
        m_pendingDirectory = cleaned;
        return;
    }
    m_modelPicker->setCurrentText(cleaned);
    m_infoPanel->showLoading(cleaned);
    statusBar()->showMessage(tr("Reading %1 …").arg(cleaned));
    m_infoWatcher.setFuture(QtConcurrent::run(readModel, cleaned));
}

void MainWindow::onModelRead()
{
    const ModelInfoOutcome outcome = m_infoWatcher.result();
    if (outcome.info) {
        const QString directory = QString::fromStdString(outcome.info->directory);
        m_infoPanel->setInfo(*outcome.info);
        m_settings.setLastModelDirectory(directory);
        m_settings.addRecentModelDirectory(directory);
        if (m_modelPicker->findText(directory) < 0)
            m_modelPicker->addItem(directory);
        statusBar()->showMessage(tr("Model %1: %2 blocks, %3 M parameters")
                                     .arg(directory)
                                     .arg(outcome.info->numLayers)
                                     .arg(static_cast<double>(outcome.info->parameterCount) / 1e6, 0, 'f', 2));
        Q_EMIT modelShown(directory);
    } else {
        m_infoPanel->showError(outcome.error);
        statusBar()->showMessage(outcome.error);
        Q_EMIT modelFailed(outcome.error);
    }
    if (!m_pendingDirectory.isEmpty()) {
        const QString next = std::exchange(m_pendingDirectory, QString());
        openModel(next);
    }
}

bool MainWindow::openWorkspace(const QString& directory)
{
    if (!m_runsPanel->openWorkspace(directory))
        return false;
    m_settings.setLastWorkspaceDirectory(m_runsPanel->workspaceDirectory());
    setWindowTitle(tr("Quantscope — %1").arg(m_runsPanel->workspaceDirectory()));
    return true;
}

QString MainWindow::etaText(double fraction) const
{
    // Linear extrapolation of the whole job's progress; meaningless in the first seconds.
    const double elapsed = static_cast<double>(m_runClock.elapsed()) / 1000.0;
    if (fraction < 0.02 || elapsed < 3.0)
        return {};
    const auto remaining = static_cast<qint64>(elapsed * (1.0 - fraction) / fraction);
    return tr(" · ETA %1:%2").arg(remaining / 60).arg(remaining % 60, 2, 10, QLatin1Char('0'));
}

widgets::CurvePlot* MainWindow::liveLossPlot() const
{
    return m_live->lossPlot();
}

bool MainWindow::startCalibration(const core::RunConfig& config)
{
    if (m_runsPanel->workspaceDirectory().isEmpty() || !m_runner->start(m_runsPanel->workspaceDirectory(), config))
        return false;
    showJobStarted(tr("Calibrating %1 …").arg(QString::fromStdString(core::runDisplayName(config))));
    return true;
}

void MainWindow::showNewCalibration()
{
    openCalibrationDialog(std::nullopt);
}

void MainWindow::openCalibrationDialog(const std::optional<core::RunConfig>& initial)
{
    if (m_runner->isRunning()) {
        statusBar()->showMessage(tr("A calibration is running; cancel it or wait for it to finish."));
        return;
    }
    NewCalibrationDialog dialog(this);
    if (initial)
        dialog.form()->setConfig(*initial);
    else
        dialog.form()->setModelDirectory(m_modelPicker->currentText());
    if (dialog.exec() != QDialog::Accepted)
        return;
    if (const auto config = dialog.form()->config())
        startCalibration(*config);
}

void MainWindow::rerun(qint64 runId)
{
    try {
        const core::Workspace workspace(m_runsPanel->workspaceDirectory().toStdString(), core::OpenMode::ReadOnly);
        const core::RunRecord run = workspace.catalog().run(runId);
        openCalibrationDialog(core::parseRunConfig(run.configJson, "run " + std::to_string(runId) + " config"));
    } catch (const core::Error& e) {
        statusBar()->showMessage(tr("Cannot re-run run %1: %2").arg(runId).arg(QString::fromUtf8(e.what())));
    }
}

void MainWindow::askExport(qint64 runId)
{
    const QString directory = QFileDialog::getSaveFileName(
        this, tr("Export run %1 as a Hugging Face model directory").arg(runId),
        QDir(m_runsPanel->workspaceDirectory()).filePath(QStringLiteral("export-run%1").arg(runId)));
    if (!directory.isEmpty())
        exportRunModel(runId, directory);
}

void MainWindow::askAdapt(qint64 runId)
{
    const QString text = QFileDialog::getOpenFileName(
        this, tr("Adapt run %1 to an evaluation text (test-time adaptation)").arg(runId),
        QDir(QString::fromStdString(core::resourceDirectory())).filePath(QStringLiteral("data")),
        tr("Text files (*.txt);;All files (*)"));
    if (!text.isEmpty())
        startAdaptation(runId, text);
}

void MainWindow::showJobStarted(const QString& message)
{
    m_runClock.start();
    m_progress->setValue(0);
    m_progress->show();
    m_cancel->show();
    statusBar()->showMessage(message);
}

bool MainWindow::startAdaptation(qint64 runId, const QString& textPath)
{
    core::AdaptJobParams params;
    params.parentRunId = runId;
    params.adaptation.text = textPath.toStdString();
    if (m_runsPanel->workspaceDirectory().isEmpty() ||
        !m_runner->startAdaptation(m_runsPanel->workspaceDirectory(), params)) {
        statusBar()->showMessage(tr("A job is running; wait for it to finish."));
        return false;
    }
    showJobStarted(tr("Adapting run %1 to %2 (TTA) …").arg(runId).arg(QFileInfo(textPath).fileName()));
    return true;
}

bool MainWindow::resumeRun(qint64 runId)
{
    if (m_runsPanel->workspaceDirectory().isEmpty() ||
        !m_runner->startResume(m_runsPanel->workspaceDirectory(), runId)) {
        statusBar()->showMessage(tr("A job is running; wait for it to finish."));
        return false;
    }
    showJobStarted(tr("Resuming run %1 from its last finished block …").arg(runId));
    return true;
}

bool MainWindow::startPreprocessing(qint64 runId)
{
    core::PreprocessJobParams params;
    params.parentRunId = runId;
    try {
        // The authors' rank 64, capped at the model's narrowest Linear (k/v on a small model).
        const core::Workspace workspace(m_runsPanel->workspaceDirectory().toStdString(), core::OpenMode::ReadOnly);
        const core::ModelConfig model = core::loadModelConfig(workspace.catalog().run(runId).modelPath);
        params.lora.rank =
            std::min({params.lora.rank, model.hiddenSize, model.intermediateSize, model.numKvHeads * model.headDim});
    } catch (const core::Error& e) {
        statusBar()->showMessage(tr("Cannot preprocess run %1: %2").arg(runId).arg(QString::fromUtf8(e.what())));
        return false;
    }
    if (m_runsPanel->workspaceDirectory().isEmpty() ||
        !m_runner->startPreprocessing(m_runsPanel->workspaceDirectory(), params)) {
        statusBar()->showMessage(tr("A job is running; wait for it to finish."));
        return false;
    }
    showJobStarted(tr("Preprocessing run %1 (LoRA, merge) and calibrating it again …").arg(runId));
    return true;
}

void MainWindow::exportRunModel(qint64 runId, const QString& directory)
{
    if (m_exportWatcher.isRunning()) {
        statusBar()->showMessage(tr("An export is running; wait for it to finish."));
        return;
    }
    const QString workspaceDirectory = m_runsPanel->workspaceDirectory();
    statusBar()->showMessage(tr("Exporting run %1 to %2 …").arg(runId).arg(directory));
    m_exportWatcher.disconnect(this);
    connect(&m_exportWatcher, &QFutureWatcher<QString>::finished, this, [this, runId, directory] {
        const QString error = m_exportWatcher.result();
        statusBar()->showMessage(error.isEmpty() ? tr("Exported run %1 to %2").arg(runId).arg(directory)
                                                 : tr("Export of run %1 failed: %2").arg(runId).arg(error));
        Q_EMIT exportDone(runId, directory, error);
    });
    m_exportWatcher.setFuture(QtConcurrent::run([workspaceDirectory, runId, directory]() -> QString {
        try {
            const core::Workspace workspace(workspaceDirectory.toStdString(), core::OpenMode::ReadOnly);
            core::exportRun(workspace, runId, directory.toStdString());
            return {};
        } catch (const std::exception& e) {
            return QString::fromUtf8(e.what());
        }
    }));
}

void MainWindow::browseForWorkspace()
{
    const QString directory =
        QFileDialog::getExistingDirectory(this, tr("Open workspace directory"), m_runsPanel->workspaceDirectory());
    if (!directory.isEmpty())
        openWorkspace(directory);
}

void MainWindow::browseForModel()
{
    const QString start = m_modelPicker->currentText();
    const QString directory = QFileDialog::getExistingDirectory(this, tr("Open Hugging Face model directory"), start);
    if (!directory.isEmpty())
        openModel(directory);
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About Quantscope"),
                       tr("<h3>Quantscope %1</h3><p>A workbench for post-training quantization of LLMs.</p>"
                          "<p>Qt %2 · %3</p>")
                           .arg(QApplication::applicationVersion(), QString::fromLatin1(qVersion()),
                                QString::fromStdString(core::runtimeDescription())));
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (m_runner->isRunning()) {
        const auto answer =
            QMessageBox::question(this, tr("Calibration running"), tr("A calibration is running. Cancel it and quit?"));
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
        m_runner->cancel(); // the runner's destructor waits for the job to stop
    }
    m_settings.setWindowGeometry(saveGeometry());
    m_settings.setWindowState(saveState());
    event->accept();
}

} // namespace app
