#include "gui/method_options_editor.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QSpinBox>

#include <climits>
#include <cmath>

namespace app {
namespace {

using nlohmann::json;

// The spec's label, or "lwc_epochs" → "Lwc epochs"; integers with a unit: "Epochs (epochs)"
// is avoided, "Batch size (windows)" kept.
QString rowLabel(const core::OptionSpec& spec)
{
    QString label = QString::fromStdString(spec.label.empty() ? spec.key : spec.label);
    if (spec.label.empty()) {
        label.replace(QLatin1Char('_'), QLatin1Char(' '));
        label[0] = label[0].toUpper();
    }
    const QString unit = QString::fromStdString(spec.unit);
    if (!unit.isEmpty() && !label.toLower().contains(unit.toLower()))
        label += QStringLiteral(" (%1)").arg(unit);
    return label;
}

QString tooltip(const core::OptionSpec& spec)
{
    QString text = QString::fromStdString(spec.help);
    const std::string range = core::optionRangeText(spec);
    if (!range.empty())
        text += QStringLiteral(" (%1%2)").arg(
            QString::fromStdString(range),
            spec.unit.empty() ? QString() : QStringLiteral(" ") + QString::fromStdString(spec.unit));
    return text + QStringLiteral("; default %1").arg(QString::fromStdString(core::optionValueText(spec.defaultValue)));
}

// Integer boxes accept one step beyond the schema's range, so that the parser, not the
// widget, rejects an out-of-range value and the message names the key.
int clampToInt(double value)
{
    return static_cast<int>(std::clamp(value, static_cast<double>(INT_MIN + 1), static_cast<double>(INT_MAX - 1)));
}

QString listText(const std::vector<double>& values)
{
    QStringList items;
    for (double value : values)
        items << QString::number(value, 'g', 12);
    return items.join(QStringLiteral(", "));
}

} // namespace

MethodOptionsEditor::MethodOptionsEditor(const core::MethodDescriptor& method, QFormLayout* form, QWidget* parent)
    : QObject(parent), m_method(method), m_form(form)
{
    for (const core::OptionSpec& spec : method.options) {
        QWidget* field = nullptr;
        switch (spec.type) {
        case core::OptionType::Integer: {
            auto* box = new QSpinBox(parent);
            box->setRange(clampToInt(spec.minimum - 1), clampToInt(spec.maximum + 1));
            connect(box, &QSpinBox::valueChanged, this, &MethodOptionsEditor::changed);
            field = box;
            break;
        }
        case core::OptionType::Number: {
            auto* box = new QDoubleSpinBox(parent);
            box->setDecimals(6);
            box->setRange(spec.minimum - 1.0, spec.maximum + 1.0);
            box->setSingleStep(std::pow(10.0, std::floor(std::log10(std::max(1e-6, spec.maximum))) - 2));
            connect(box, &QDoubleSpinBox::valueChanged, this, &MethodOptionsEditor::changed);
            field = box;
            break;
        }
        case core::OptionType::Boolean: {
            auto* box = new QCheckBox(rowLabel(spec), parent);
            connect(box, &QCheckBox::toggled, this, &MethodOptionsEditor::changed);
            field = box;
            break;
        }
        case core::OptionType::NumberList: {
            auto* edit = new QLineEdit(parent);
            connect(edit, &QLineEdit::textChanged, this, &MethodOptionsEditor::changed);
            field = edit;
            break;
        }
        case core::OptionType::Choice: {
            auto* box = new QComboBox(parent);
            for (const std::string& choice : spec.choices)
                box->addItem(QString::fromStdString(choice));
            connect(box, &QComboBox::currentTextChanged, this, &MethodOptionsEditor::changed);
            field = box;
            break;
        }
        }
        field->setObjectName(QString::fromStdString(method.name + "." + spec.key));
        field->setToolTip(tooltip(spec));
        if (spec.type == core::OptionType::Boolean)
            form->addRow(QString(), field);
        else
            form->addRow(rowLabel(spec) + QLatin1Char(':'), field);
        m_fields[spec.key] = field;
    }
    setOptions(core::defaultOptions(method.options));
}

void MethodOptionsEditor::setRowsVisible(bool visible)
{
    for (const auto& [key, field] : m_fields)
        m_form->setRowVisible(field, visible);
}

json MethodOptionsEditor::section() const
{
    json section = json::object();
    for (const core::OptionSpec& spec : m_method.options) {
        QWidget* field = m_fields.at(spec.key);
        switch (spec.type) {
        case core::OptionType::Integer:
            section[spec.key] = static_cast<QSpinBox*>(field)->value();
            break;
        case core::OptionType::Number:
            section[spec.key] = static_cast<QDoubleSpinBox*>(field)->value();
            break;
        case core::OptionType::Boolean:
            section[spec.key] = static_cast<QCheckBox*>(field)->isChecked();
            break;
        case core::OptionType::NumberList: {
            const QString text = static_cast<QLineEdit*>(field)->text();
            json list = json::array();
            bool valid = true;
            for (const QString& item : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                bool ok = false;
                list.push_back(item.trimmed().toDouble(&ok));
                valid = valid && ok;
            }
            section[spec.key] = valid ? list : json(text.toStdString());
            break;
        }
        case core::OptionType::Choice:
            section[spec.key] = static_cast<QComboBox*>(field)->currentText().toStdString();
            break;
        }
    }
    return section;
}

void MethodOptionsEditor::setOptions(const core::MethodOptions& options)
{
    for (const auto& [key, value] : options.values())
        std::visit([&, key = key](const auto& v) { setOption(key, json(v)); }, value);
}

void MethodOptionsEditor::setOption(const std::string& key, const json& value)
{
    const auto it = m_fields.find(key);
    if (it == m_fields.end())
        return;
    if (auto* box = qobject_cast<QSpinBox*>(it->second); box && value.is_number())
        box->setValue(clampToInt(value.get<double>()));
    else if (auto* decimal = qobject_cast<QDoubleSpinBox*>(it->second); decimal && value.is_number())
        decimal->setValue(value.get<double>());
    else if (auto* check = qobject_cast<QCheckBox*>(it->second); check && value.is_boolean())
        check->setChecked(value.get<bool>());
    else if (auto* edit = qobject_cast<QLineEdit*>(it->second); edit && value.is_array())
        edit->setText(listText(value.get<std::vector<double>>()));
    else if (auto* combo = qobject_cast<QComboBox*>(it->second); combo && value.is_string())
        combo->setCurrentText(QString::fromStdString(value.get<std::string>()));
}

} // namespace app
