#include "gui/stream_quant_rows.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSpinBox>

namespace app {
namespace {

// 1..16 so that an out-of-range width reaches the config parser, which names the key; 16
// reads as "off".
QSpinBox* bitsBox(QWidget* parent, const QString& objectName, const QString& tooltip)
{
    auto* box = new QSpinBox(parent);
    box->setRange(1, core::kUnquantizedBits);
    box->setValue(core::kUnquantizedBits);
    box->setSuffix(QObject::tr(" bits"));
    box->setObjectName(objectName);
    box->setToolTip(tooltip);
    return box;
}

QDoubleSpinBox* clipBox(QWidget* parent, const QString& objectName)
{
    auto* box = new QDoubleSpinBox(parent);
    box->setRange(0.0, 1.0);
    box->setDecimals(3);
    box->setSingleStep(0.05);
    box->setValue(1.0);
    box->setObjectName(objectName);
    box->setToolTip(QObject::tr("The dynamic range is scaled by this before the grid is fitted, (0, 1]"));
    return box;
}

} // namespace

StreamQuantRows::StreamQuantRows(QFormLayout* form, QWidget* parent) : QObject(parent)
{
    m_activationBits =
        bitsBox(parent, QStringLiteral("activations.bits"),
                tr("Bits of every block Linear's input, quantized dynamically at run time (16: not quantized)"));
    m_granularity = new QComboBox(parent);
    m_granularity->setObjectName(QStringLiteral("activations.granularity"));
    m_granularity->addItems({QStringLiteral("per_token"), QStringLiteral("per_tensor")});
    m_activationSymmetric = new QCheckBox(tr("symmetric activation grid"), parent);
    m_activationClip = clipBox(parent, QStringLiteral("activations.clip_ratio"));
    m_kvBits = bitsBox(parent, QStringLiteral("kv.bits"),
                       tr("Bits of K (after RoPE) and V of every block, per head (16: not quantized)"));
    m_kvGroup = new QSpinBox(parent);
    m_kvGroup->setObjectName(QStringLiteral("kv.group_size"));
    m_kvGroup->setRange(0, 4096);
    m_kvGroup->setSpecialValueText(tr("head dimension"));
    m_kvGroup->setToolTip(tr("Channels of the head dimension per KV group; must divide it"));
    m_kvSymmetric = new QCheckBox(tr("symmetric KV grid"), parent);
    m_kvClip = clipBox(parent, QStringLiteral("kv.clip_ratio"));

    form->addRow(tr("&Activation bits:"), m_activationBits);
    form->addRow(tr("Activation ranges:"), m_granularity);
    form->addRow(QString(), m_activationSymmetric);
    form->addRow(tr("Activation clip ratio:"), m_activationClip);
    form->addRow(tr("&KV-cache bits:"), m_kvBits);
    form->addRow(tr("KV group size:"), m_kvGroup);
    form->addRow(QString(), m_kvSymmetric);
    form->addRow(tr("KV clip ratio:"), m_kvClip);

    for (QSpinBox* box : {m_activationBits, m_kvBits, m_kvGroup})
        connect(box, &QSpinBox::valueChanged, this, [this] {
            updateEnabled();
            Q_EMIT changed();
        });
    for (QDoubleSpinBox* box : {m_activationClip, m_kvClip})
        connect(box, &QDoubleSpinBox::valueChanged, this, &StreamQuantRows::changed);
    for (QCheckBox* box : {m_activationSymmetric, m_kvSymmetric})
        connect(box, &QCheckBox::toggled, this, &StreamQuantRows::changed);
    connect(m_granularity, &QComboBox::currentTextChanged, this, &StreamQuantRows::changed);
    updateEnabled();
}

void StreamQuantRows::updateEnabled()
{
    // The grid options mean nothing for an unquantized stream.
    const bool activations = m_activationBits->value() < core::kUnquantizedBits;
    for (QWidget* field : std::initializer_list<QWidget*>{m_granularity, m_activationSymmetric, m_activationClip})
        field->setEnabled(activations);
    const bool kv = m_kvBits->value() < core::kUnquantizedBits;
    for (QWidget* field : std::initializer_list<QWidget*>{m_kvGroup, m_kvSymmetric, m_kvClip})
        field->setEnabled(kv);
}

void StreamQuantRows::write(nlohmann::json& document) const
{
    document["activations"] = {{"bits", m_activationBits->value()},
                               {"granularity", m_granularity->currentText().toStdString()},
                               {"symmetric", m_activationSymmetric->isChecked()},
                               {"clip_ratio", m_activationClip->value()}};
    document["kv"] = {{"bits", m_kvBits->value()},
                      {"group_size", m_kvGroup->value()},
                      {"symmetric", m_kvSymmetric->isChecked()},
                      {"clip_ratio", m_kvClip->value()}};
}

void StreamQuantRows::setConfig(const core::RunConfig& config)
{
    m_activationBits->setValue(config.activations.bits);
    m_granularity->setCurrentText(QString::fromStdString(core::granularityName(config.activations.granularity)));
    m_activationSymmetric->setChecked(config.activations.symmetric);
    m_activationClip->setValue(config.activations.clipRatio);
    m_kvBits->setValue(config.kv.bits);
    m_kvGroup->setValue(static_cast<int>(config.kv.groupSize));
    m_kvSymmetric->setChecked(config.kv.symmetric);
    m_kvClip->setValue(config.kv.clipRatio);
    updateEnabled();
}

} // namespace app
