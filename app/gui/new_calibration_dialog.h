#pragma once
// The "New calibration" dialog: the run config form with Load…, Save… and Run.

#include "gui/run_config_form.h"

#include <QDialog>

class QPushButton;

namespace app {

class NewCalibrationDialog : public QDialog {
    Q_OBJECT
public:
    explicit NewCalibrationDialog(QWidget* parent = nullptr);
    RunConfigForm* form() const { return m_form; }

private:
    void load();
    void save();

    RunConfigForm* m_form = nullptr;
    QPushButton* m_run = nullptr;
};

} // namespace app
