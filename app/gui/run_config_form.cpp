#include "gui/run_config_form.h"

#include "eval/zero_shot_task.h"

#include "config/method_descriptor.h"
#include "gui/method_options_editor.h"
#include "gui/stream_quant_rows.h"
#include "jobs/model_info.h"
#include "jobs/resources.h"
#include "util/error.h"
#include "util/text_file.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

#include <nlohmann/json.hpp>

namespace app {
namespace {

using nlohmann::json;

struct Preset {
    const char* name;
    const char* method;
    int bits;
    int group;
    const char* loss;
    const char* section; ///< the method's options that differ from its defaults (JSON)
};

// The SW-alignment experiment's variants (experiments/sw-alignment), at W2 g64, with its
// reduced budget (the papers' defaults take hours on a CPU).
constexpr const char* kOmniQuantBudget = R"({"epochs": 5, "lwc_lr": 0.01})";
constexpr const char* kTesseraQBudget = R"({"lwc_epochs": 5, "iterations": 10, "lr": 0.001})";
constexpr Preset kPresets[] = {
    {"SW experiment: OmniQuant, MSE", "omniquant", 2, 64, "mse:1", kOmniQuantBudget},
    {"SW experiment: OmniQuant, MSE + SW", "omniquant", 2, 64, "mse:0.9,sw:0.1", kOmniQuantBudget},
    {"SW experiment: OmniQuant, MSE + NLC", "omniquant", 2, 64, "mse:1,nlc:1", kOmniQuantBudget},
    {"SW experiment: TesseraQ, L2", "tesseraq", 2, 64, "l2:1", kTesseraQBudget},
    {"SW experiment: TesseraQ, L2 + SW", "tesseraq", 2, 64, "l2:0.9,sw:0.1", kTesseraQBudget},
};

// "mse:1": a loss as the form's shorthand field shows it.
QString lossShorthand(const std::vector<core::LossTerm>& terms)
{
    QStringList items;
    for (const core::LossTerm& term : terms)
        items << QStringLiteral("%1:%2").arg(QString::fromStdString(core::lossTypeName(term.type))).arg(term.weight);
    return items.join(QLatin1Char(','));
}

bool takesLoss(const std::string& method)
{
    const core::MethodDescriptor* descriptor = core::findMethodDescriptor(method);
    return descriptor != nullptr && descriptor->capabilities.takesLoss;
}

QSpinBox* spinBox(QWidget* parent, int minimum, int maximum, int value)
{
    auto* box = new QSpinBox(parent);
    box->setRange(minimum, maximum);
    box->setValue(value);
    return box;
}

} // namespace

RunConfigForm::RunConfigForm(QWidget* parent) : QWidget(parent)
{
    auto* form = new QFormLayout(this);
    m_preset = new QComboBox(this);
    m_preset->addItem(tr("(none)"));
    m_preset->addItems(presetNames());
    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(tr("automatic: method and bits"));
    m_model = new QLineEdit(this);
    m_model->setPlaceholderText(tr("the bundled brown-llama"));
    m_method = new QComboBox(this);
    m_method->setObjectName(QStringLiteral("method"));
    for (const auto& name : core::runMethodNames())
        m_method->addItem(QString::fromStdString(name));
    m_method->setCurrentText(QStringLiteral("gptq"));
    m_bits = spinBox(this, 1, 16, 4);
    m_bits->setObjectName(QStringLiteral("bits"));
    m_group = new QComboBox(this);
    m_group->setEditable(true);
    m_group->addItems({QStringLiteral("128"), QStringLiteral("64"), QStringLiteral("32"), QStringLiteral("-1")});
    m_group->setToolTip(tr("Columns per quantization group; -1 = one group per output channel"));
    m_symmetric = new QCheckBox(tr("symmetric grid"), this);
    m_samples = spinBox(this, 0, 1000000, 128);
    m_seqLen = spinBox(this, 0, 1 << 20, 0);
    m_seqLen->setSpecialValueText(tr("model context"));
    m_seed = spinBox(this, 0, 1 << 30, 0);
    m_loss = new QLineEdit(QStringLiteral("mse:1"), this);
    m_loss->setToolTip(tr("TYPE[:WEIGHT],... with types mse, l2, sw, nlc, kl_top"));
    m_swProjections = spinBox(this, 0, 100000, 128);
    m_swP = new QComboBox(this);
    m_swP->addItems({QStringLiteral("1"), QStringLiteral("2")});
    m_klTopK = spinBox(this, 0, 1000000, 64);
    m_diagnostics = new QCheckBox(tr("record diagnostics"), this);
    m_diagnostics->setChecked(true);
    m_histogramBins = spinBox(this, 0, 100000, 256);
    m_histogramBins->setObjectName(QStringLiteral("histogram_bins"));
    m_diagnosticDirections = spinBox(this, 0, 100000, 64);
    m_diagnosticDirections->setToolTip(
        tr("Random directions on which each block's outputs are projected (projected SW); the same "
           "directions in every run, so runs compare"));
    m_qsur = new QCheckBox(tr("QSUR of Linear inputs and weights"), this);
    m_qsur->setChecked(true);
    m_saliency = new QCheckBox(tr("Hessian saliency maps"), this);
    m_saliency->setChecked(true);
    m_modelInfo = new QLabel(this);
    m_modelInfo->setObjectName(QStringLiteral("model_info"));
    m_modelInfo->setWordWrap(true);
    m_evalWindows = spinBox(this, 0, 1000000, 0);
    m_evalWindows->setSpecialValueText(tr("all"));
    m_bundledTasks = new QCheckBox(tr("Zero-shot tasks: the bundled Brown cloze and next sentence"), this);
    m_bundledTasks->setToolTip(tr("Scored as lm-evaluation-harness scores multiple choice, on the FP and the "
                                  "quantized model (`quantscope eval --task` scores any harness task file)"));
    m_bundledTasks->setChecked(true);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);

    form->addRow(tr("&Preset:"), m_preset);
    form->addRow(tr("&Name:"), m_name);
    auto* modelRow = new QHBoxLayout();
    auto* browseModel = new QPushButton(tr("Browse…"), this);
    modelRow->addWidget(m_model, 1);
    modelRow->addWidget(browseModel);
    connect(browseModel, &QPushButton::clicked, this, [this] {
        const QString directory =
            QFileDialog::getExistingDirectory(this, tr("Hugging Face model directory"), m_model->text());
        if (!directory.isEmpty())
            m_model->setText(directory);
    });
    form->addRow(tr("Model:"), modelRow);
    form->addRow(QString(), m_modelInfo);
    form->addRow(tr("&Method:"), m_method);
    form->addRow(tr("Weight &bits:"), m_bits);
    form->addRow(tr("&Group size:"), m_group);
    form->addRow(QString(), m_symmetric);
    m_streamQuant = new StreamQuantRows(form, this);
    connect(m_streamQuant, &StreamQuantRows::changed, this, &RunConfigForm::revalidate);
    form->addRow(tr("Calibration &samples:"), m_samples);
    form->addRow(tr("Se&quence length:"), m_seqLen);
    form->addRow(tr("S&eed:"), m_seed);
    form->addRow(tr("&Loss terms:"), m_loss);
    form->addRow(tr("SW projections:"), m_swProjections);
    form->addRow(tr("SW p:"), m_swP);
    form->addRow(tr("KL-Top k:"), m_klTopK);
    for (const core::MethodDescriptor* descriptor : core::methodDescriptors()) {
        m_method->setItemData(m_method->findText(QString::fromStdString(descriptor->name)),
                              QString::fromStdString(descriptor->description), Qt::ToolTipRole);
        auto* editor = new MethodOptionsEditor(*descriptor, form, this);
        m_optionEditors[descriptor->name] = editor;
        connect(editor, &MethodOptionsEditor::changed, this, &RunConfigForm::revalidate);
    }
    form->addRow(QString(), m_diagnostics);
    form->addRow(tr("Histogram bins:"), m_histogramBins);
    form->addRow(tr("SW directions (diagnostics):"), m_diagnosticDirections);
    form->addRow(QString(), m_qsur);
    form->addRow(QString(), m_saliency);
    form->addRow(tr("Eval windows per text:"), m_evalWindows);
    form->addRow(QString(), m_bundledTasks);
    form->addRow(m_message);

    for (QLineEdit* edit : {m_name, m_model, m_loss})
        connect(edit, &QLineEdit::textChanged, this, &RunConfigForm::revalidate);
    for (QSpinBox* box : {m_bits, m_samples, m_seqLen, m_seed, m_swProjections, m_klTopK, m_evalWindows,
                          m_histogramBins, m_diagnosticDirections})
        connect(box, &QSpinBox::valueChanged, this, &RunConfigForm::revalidate);
    for (QComboBox* box : {m_group, m_swP})
        connect(box, &QComboBox::currentTextChanged, this, &RunConfigForm::revalidate);
    for (QCheckBox* box : {m_symmetric, m_diagnostics, m_qsur, m_saliency, m_bundledTasks})
        connect(box, &QCheckBox::toggled, this, &RunConfigForm::revalidate);
    for (QWidget* option : std::initializer_list<QWidget*>{m_histogramBins, m_diagnosticDirections, m_qsur, m_saliency})
        connect(m_diagnostics, &QCheckBox::toggled, option, &QWidget::setEnabled);
    connect(m_model, &QLineEdit::textChanged, this, &RunConfigForm::describeModel);
    connect(m_method, &QComboBox::currentTextChanged, this, [this] {
        updateMethodFields();
        revalidate();
    });
    connect(m_preset, &QComboBox::textActivated, this, &RunConfigForm::applyPreset);
    updateMethodFields();
    describeModel();
    revalidate();
}

void RunConfigForm::describeModel()
{
    // Reading config.json and the checkpoint headers takes milliseconds: done as the user types.
    const QString text = m_model->text().trimmed();
    const std::string directory = text.isEmpty() ? core::defaultModelDirectory() : text.toStdString();
    try {
        const core::ModelInfo info = core::inspectModel(directory);
        m_modelInfo->setText(tr("%1, %2 blocks, hidden %3, %4 M parameters (%5)")
                                 .arg(QString::fromStdString(info.family))
                                 .arg(info.numLayers)
                                 .arg(info.hiddenSize)
                                 .arg(static_cast<double>(info.parameterCount) / 1e6, 0, 'f', 2)
                                 .arg(QString::fromStdString(info.storageType)));
        m_modelInfo->setStyleSheet(QString());
    } catch (const core::Error& e) {
        m_modelInfo->setText(QString::fromStdString(e.what()));
        m_modelInfo->setStyleSheet(QStringLiteral("color: #c62828;"));
    }
}

QStringList RunConfigForm::presetNames()
{
    QStringList names;
    for (const core::RunPreset& preset : core::runPresets())
        names << QString::fromStdString(preset.name);
    for (const Preset& preset : kPresets)
        names << QString::fromLatin1(preset.name);
    return names;
}

void RunConfigForm::applyRunPreset(const core::RunPreset& preset)
{
    // The form as it is, with the preset's keys written over it: the model, calibration and
    // evaluation fields stay. Another method's section would be refused, so it goes.
    json document = json::parse(configJson());
    for (const std::string& method : core::runMethodNames())
        document.erase(method);
    const json keys = json::parse(preset.json);
    if (!takesLoss(keys.value("method", std::string())))
        document.erase("loss");
    document.merge_patch(keys);
    try {
        setConfig(core::parseRunConfig(document.dump(), "preset " + preset.name));
    } catch (const core::Error&) {
        // The form held something invalid: the preset on the method's defaults instead.
        json defaults = json::parse(core::runConfigToJson(core::defaultRunConfig(document.value("method", ""))));
        defaults.merge_patch(keys);
        setConfig(core::parseRunConfig(defaults.dump(), "preset " + preset.name));
    }
}

void RunConfigForm::applyPreset(const QString& name)
{
    for (const core::RunPreset& preset : core::runPresets())
        if (name.toStdString() == preset.name)
            return applyRunPreset(preset);
    for (const Preset& preset : kPresets) {
        if (name != QLatin1String(preset.name))
            continue;
        m_method->setCurrentText(QString::fromLatin1(preset.method));
        m_bits->setValue(preset.bits);
        m_group->setCurrentText(QString::number(preset.group));
        m_symmetric->setChecked(false);
        m_loss->setText(QString::fromLatin1(preset.loss));
        m_swProjections->setValue(128);
        m_swP->setCurrentText(QStringLiteral("1"));
        m_samples->setValue(32);
        m_seqLen->setValue(256);
        MethodOptionsEditor* editor = m_optionEditors.at(preset.method);
        const json budget = json::parse(preset.section);
        for (const auto& [key, value] : budget.items())
            editor->setOption(key, value);
    }
}

void RunConfigForm::updateMethodFields()
{
    const std::string method = m_method->currentText().toStdString();
    for (QWidget* field : std::initializer_list<QWidget*>{m_loss, m_swProjections, m_swP, m_klTopK})
        field->setEnabled(takesLoss(method));
    for (const auto& [name, editor] : m_optionEditors)
        editor->setRowsVisible(name == method);
    // A loss field still showing the previous method's default shows the new method's.
    const auto newDefault = core::defaultRunConfig(method).loss;
    const bool untouched =
        m_shownMethod.empty() || m_loss->text() == lossShorthand(core::defaultRunConfig(m_shownMethod).loss);
    if (!newDefault.empty() && untouched)
        m_loss->setText(lossShorthand(newDefault));
    m_shownMethod = method;
}

std::string RunConfigForm::configJson() const
{
    json document = m_baseJson.empty() ? json::object() : json::parse(m_baseJson);
    const std::string method = m_method->currentText().toStdString();
    const bool learns = takesLoss(method);
    document["method"] = method;
    // Optional strings: empty fields mean "the default", so the key goes.
    const auto setOrErase = [&document](const char* key, const QString& text) {
        if (text.trimmed().isEmpty())
            document.erase(key);
        else
            document[key] = text.trimmed().toStdString();
    };
    setOrErase("name", m_name->text());
    setOrErase("model", m_model->text());
    bool groupOk = false;
    const qlonglong group = m_group->currentText().trimmed().toLongLong(&groupOk);
    document["weights"]["bits"] = m_bits->value();
    document["weights"]["symmetric"] = m_symmetric->isChecked();
    // A non-number is passed on as text so that the parser names the key.
    document["weights"]["group_size"] = groupOk ? json(group) : json(m_group->currentText().toStdString());
    m_streamQuant->write(document);
    document["calibration"]["samples"] = m_samples->value();
    document["calibration"]["seq_len"] = m_seqLen->value();
    document["calibration"]["seed"] = m_seed->value();
    document["eval"]["max_windows"] = m_evalWindows->value();
    json tasks = json::array();
    for (const core::EvalTaskConfig& task : m_otherTasks)
        tasks.push_back({{"name", task.name}, {"file", task.file}, {"labels", task.labels}, {"limit", task.limit}});
    if (m_bundledTasks->isChecked())
        for (const std::string& name : core::bundledTaskNames())
            tasks.push_back({{"name", name}});
    document["eval"]["tasks"] = tasks;
    document["diagnostics"]["enabled"] = m_diagnostics->isChecked();
    document["diagnostics"]["histogram_bins"] = m_histogramBins->value();
    document["diagnostics"]["projections"] = m_diagnosticDirections->value();
    document["diagnostics"]["qsur"] = m_qsur->isChecked();
    document["diagnostics"]["saliency"] = m_saliency->isChecked();
    // The current method's section only (a section left from a re-run of another method
    // would make the config invalid with no field to clear it).
    for (const core::MethodDescriptor* descriptor : core::methodDescriptors())
        document.erase(descriptor->name);
    if (const auto editor = m_optionEditors.find(method); editor != m_optionEditors.end()) {
        const json section = editor->second->section(); // every option of the method's schema
        if (!section.empty())
            document[method] = section;
    }
    if (learns) {
        try {
            // The shorthand gives types and weights; the SW and KL-Top fields give their options.
            std::vector<core::LossTerm> terms = core::parseLossShorthand(m_loss->text().trimmed().toStdString());
            for (core::LossTerm& term : terms) {
                term.projections = m_swProjections->value();
                term.p = m_swP->currentText().toInt();
                term.topK = m_klTopK->value();
            }
            document["loss"] = json::parse(core::lossTermsToJson(terms));
        } catch (const core::Error&) {
            document["loss"] = m_loss->text().toStdString(); // invalid: the parser reports it
        }
    } else {
        document.erase("loss");
    }
    return document.dump(2);
}

std::optional<core::RunConfig> RunConfigForm::config() const
{
    try {
        return core::parseRunConfig(configJson(), "form");
    } catch (const core::Error&) {
        return std::nullopt;
    }
}

QString RunConfigForm::errorMessage() const
{
    return m_error;
}

void RunConfigForm::revalidate()
{
    try {
        core::parseRunConfig(configJson(), "form");
        if (m_loss->isEnabled())
            core::parseLossShorthand(m_loss->text().trimmed().toStdString());
        m_error.clear();
    } catch (const core::Error& e) {
        m_error = QString::fromStdString(e.what());
    }
    m_message->setText(m_error.isEmpty() ? tr("Valid run config.") : m_error);
    m_message->setStyleSheet(m_error.isEmpty() ? QString() : QStringLiteral("color: #c62828;"));
    Q_EMIT validityChanged(m_error.isEmpty());
}

void RunConfigForm::setModelDirectory(const QString& directory)
{
    m_model->setText(directory);
}

void RunConfigForm::setConfig(const core::RunConfig& config)
{
    m_baseJson = core::runConfigToJson(config);
    m_name->setText(QString::fromStdString(config.name));
    m_model->setText(QString::fromStdString(config.model));
    m_method->setCurrentText(QString::fromStdString(config.method));
    m_bits->setValue(config.weights.bits);
    m_group->setCurrentText(QString::number(config.weights.groupSize));
    m_symmetric->setChecked(config.weights.symmetric);
    m_streamQuant->setConfig(config);
    m_samples->setValue(static_cast<int>(config.calibration.samples));
    m_seqLen->setValue(static_cast<int>(config.calibration.seqLen));
    m_seed->setValue(static_cast<int>(config.calibration.seed));
    m_evalWindows->setValue(static_cast<int>(config.eval.maxWindows));
    m_otherTasks.clear();
    bool bundled = false;
    const auto bundledNames = core::bundledTaskNames();
    for (const core::EvalTaskConfig& task : config.eval.tasks) {
        if (std::find(bundledNames.begin(), bundledNames.end(), task.name) != bundledNames.end() && task.limit == 0)
            bundled = true;
        else
            m_otherTasks.push_back(task);
    }
    m_bundledTasks->setChecked(bundled);
    m_diagnostics->setChecked(config.diagnostics.enabled);
    m_histogramBins->setValue(static_cast<int>(config.diagnostics.histogramBins));
    m_diagnosticDirections->setValue(static_cast<int>(config.diagnostics.projections));
    m_qsur->setChecked(config.diagnostics.qsur);
    m_saliency->setChecked(config.diagnostics.saliency);
    for (const core::LossTerm& term : config.loss) {
        if (term.type == core::LossType::SlicedWasserstein) {
            m_swProjections->setValue(static_cast<int>(term.projections));
            m_swP->setCurrentText(QString::number(term.p));
        }
        if (term.type == core::LossType::KlTop)
            m_klTopK->setValue(static_cast<int>(term.topK));
    }
    if (!config.loss.empty())
        m_loss->setText(lossShorthand(config.loss));
    if (const auto editor = m_optionEditors.find(config.method); editor != m_optionEditors.end())
        editor->second->setOptions(config.options);
    revalidate();
}

bool RunConfigForm::loadFile(const QString& path)
{
    try {
        setConfig(core::parseRunConfig(core::readTextFile(path.toStdString()), path.toStdString()));
        return true;
    } catch (const core::Error& e) {
        m_message->setText(QString::fromStdString(e.what()));
        m_message->setStyleSheet(QStringLiteral("color: #c62828;"));
        return false;
    }
}

bool RunConfigForm::saveFile(const QString& path)
{
    try {
        core::writeFileAtomically(path.toStdString(), configJson() + "\n");
        return true;
    } catch (const core::Error& e) {
        m_message->setText(QString::fromStdString(e.what()));
        m_message->setStyleSheet(QStringLiteral("color: #c62828;"));
        return false;
    }
}

} // namespace app
