#pragma once
// The "new calibration" form: every field of a run config a researcher sets often, validated
// as the user types by the same parser the CLI uses (the form builds the config's JSON and
// parses it), a message naming the bad key, presets for the SW-alignment experiment, and
// load/save of the run config JSON. The method's own rows come from its descriptor
// (gui/method_options_editor.h).

#include "config/run_config.h"
#include "config/run_presets.h"

#include <QWidget>

#include <map>
#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace app {

class MethodOptionsEditor;
class StreamQuantRows;

class RunConfigForm : public QWidget {
    Q_OBJECT
public:
    explicit RunConfigForm(QWidget* parent = nullptr);

    /// The run config JSON the fields describe (only what the form sets; parseRunConfig
    /// fills the defaults), exactly what `quantscope calibrate --config` accepts.
    std::string configJson() const;
    /// The parsed config, or nullopt when the fields are invalid (see errorMessage()).
    std::optional<core::RunConfig> config() const;
    QString errorMessage() const;
    /// Fills the fields from `config`; the keys the form has no field for are kept as they are
    /// in `config` and come back in configJson().
    void setConfig(const core::RunConfig& config);
    void setModelDirectory(const QString& directory);

    /// Names of the presets, and applying one by name.
    static QStringList presetNames();
    void applyPreset(const QString& name);

    /// Load/save the JSON; errors go to the message line (no modal dialog).
    bool loadFile(const QString& path);
    bool saveFile(const QString& path);

Q_SIGNALS:
    /// After every edit: whether the fields form a valid run config.
    void validityChanged(bool valid);

private:
    void revalidate();
    void applyRunPreset(const core::RunPreset& preset);
    void updateMethodFields();
    void describeModel();

    QLineEdit* m_name = nullptr;
    QLineEdit* m_model = nullptr;
    QComboBox* m_preset = nullptr;
    QComboBox* m_method = nullptr;
    QSpinBox* m_bits = nullptr;
    QComboBox* m_group = nullptr;
    QCheckBox* m_symmetric = nullptr;
    StreamQuantRows* m_streamQuant = nullptr;
    QSpinBox* m_samples = nullptr;
    QSpinBox* m_seqLen = nullptr;
    QSpinBox* m_seed = nullptr;
    QLineEdit* m_loss = nullptr;
    QSpinBox* m_swProjections = nullptr;
    QComboBox* m_swP = nullptr;
    QSpinBox* m_klTopK = nullptr;
    /// One editor per registered method, built from its descriptor; the current method's rows show.
    std::map<std::string, MethodOptionsEditor*> m_optionEditors;
    std::string m_shownMethod; ///< the method whose default loss the loss field may still hold
    QCheckBox* m_diagnostics = nullptr;
    QSpinBox* m_histogramBins = nullptr;
    QSpinBox* m_diagnosticDirections = nullptr;
    QCheckBox* m_qsur = nullptr;
    QCheckBox* m_saliency = nullptr;
    QCheckBox* m_bundledTasks = nullptr; ///< eval.tasks: the bundled zero-shot tasks
    /// eval.tasks of a loaded config that are not bundled (a re-run keeps them; no field edits them)
    std::vector<core::EvalTaskConfig> m_otherTasks;
    QLabel* m_modelInfo = nullptr; ///< the chosen model's summary, or why it cannot be read
    QSpinBox* m_evalWindows = nullptr;
    QLabel* m_message = nullptr;
    QString m_error;
    /// The canonical JSON of the config last set (loaded file, preset, re-run): the keys the form
    /// has no field for (calibration text, batch sizes, eval texts, LET options, …) come from
    /// it, so that re-running a run changes nothing the user did not edit.
    std::string m_baseJson;
};

} // namespace app
