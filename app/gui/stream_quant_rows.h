#pragma once
// The New Calibration form's rows for the run config's "activations" and "kv" sections
// (issue 15 §4): activation bits (16 = off), granularity, symmetric grid and clip ratio of
// every block Linear's input; KV-cache bits and group size. Added to the form's own layout so
// they align with its other rows.

#include "config/run_config.h"

#include <QObject>

#include <nlohmann/json.hpp>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QSpinBox;
class QWidget;

namespace app {

class StreamQuantRows : public QObject {
    Q_OBJECT
public:
    /// Appends the rows to `form`; their widgets belong to `parent`.
    StreamQuantRows(QFormLayout* form, QWidget* parent);

    /// Writes both sections into `document` (a run config).
    void write(nlohmann::json& document) const;
    /// Shows `config`'s sections.
    void setConfig(const core::RunConfig& config);

Q_SIGNALS:
    void changed();

private:
    void updateEnabled();

    QSpinBox* m_activationBits = nullptr;
    QComboBox* m_granularity = nullptr;
    QCheckBox* m_activationSymmetric = nullptr;
    QDoubleSpinBox* m_activationClip = nullptr;
    QSpinBox* m_kvBits = nullptr;
    QSpinBox* m_kvGroup = nullptr;
    QCheckBox* m_kvSymmetric = nullptr;
    QDoubleSpinBox* m_kvClip = nullptr;
};

} // namespace app
