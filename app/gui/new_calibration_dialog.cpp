#include "gui/new_calibration_dialog.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace app {

NewCalibrationDialog::NewCalibrationDialog(QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("New Calibration"));
    m_form = new RunConfigForm(this);
    auto* scroll = new QScrollArea(this);
    scroll->setWidget(m_form);
    scroll->setWidgetResizable(true);
    auto* buttons = new QDialogButtonBox(this);
    m_run = buttons->addButton(tr("&Run"), QDialogButtonBox::AcceptRole);
    buttons->addButton(QDialogButtonBox::Cancel);
    auto* load = buttons->addButton(tr("&Load…"), QDialogButtonBox::ActionRole);
    auto* save = buttons->addButton(tr("&Save…"), QDialogButtonBox::ActionRole);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(scroll, 1);
    layout->addWidget(buttons);
    resize(560, 720);

    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(load, &QPushButton::clicked, this, &NewCalibrationDialog::load);
    connect(save, &QPushButton::clicked, this, &NewCalibrationDialog::save);
    connect(m_form, &RunConfigForm::validityChanged, m_run, &QPushButton::setEnabled);
    m_run->setEnabled(m_form->config().has_value());
}

void NewCalibrationDialog::load()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Load run config"), {}, tr("Run configs (*.json)"));
    if (!path.isEmpty())
        m_form->loadFile(path);
}

void NewCalibrationDialog::save()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save run config"), {}, tr("Run configs (*.json)"));
    if (!path.isEmpty())
        m_form->saveFile(path);
}

} // namespace app
