#include "model_info_panel.h"

#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QRegularExpression>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace widgets {

ModelInfoPanel::ModelInfoPanel(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    m_status = new QLabel(tr("No model selected."), this);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);

    m_form = new QFormLayout();
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    addField("family", tr("Family"));
    addField("parameters", tr("Parameters"));
    addField("hidden", tr("Hidden / intermediate"));
    addField("layers", tr("Blocks"));
    addField("heads", tr("Attention heads"));
    addField("vocab", tr("Vocabulary"));
    addField("context", tr("Context"));
    addField("weights", tr("Weights on disk"));
    addField("tokenizer", tr("Tokenizer"));
    layout->addLayout(m_form);

    m_layers = new QTreeWidget(this);
    m_layers->setColumnCount(2);
    m_layers->setHeaderLabels({tr("Layer"), tr("Kind")});
    m_layers->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_layers->setUniformRowHeights(true);
    layout->addWidget(m_layers, 1);
}

QLabel* ModelInfoPanel::addField(const QString& key, const QString& label)
{
    auto* value = new QLabel(QStringLiteral("–"), this);
    value->setObjectName(key);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_form->addRow(label + ':', value);
    m_fields.insert(key, value);
    return value;
}

void ModelInfoPanel::setInfo(const core::ModelInfo& info)
{
    const QLocale locale = QLocale::system();
    const auto text = [](std::int64_t v) { return QString::number(v); };
    m_fields["family"]->setText(QString::fromStdString(info.family));
    m_fields["parameters"]->setText(QStringLiteral("%1 (%2 M)")
                                        .arg(locale.toString(static_cast<qlonglong>(info.parameterCount)))
                                        .arg(static_cast<double>(info.parameterCount) / 1e6, 0, 'f', 2));
    m_fields["hidden"]->setText(text(info.hiddenSize) + " / " + text(info.intermediateSize));
    m_fields["layers"]->setText(text(info.numLayers));
    m_fields["heads"]->setText(tr("%1 × %2 (KV heads: %3)").arg(info.numHeads).arg(info.headDim).arg(info.numKvHeads));
    m_fields["vocab"]->setText(text(info.vocabSize));
    m_fields["context"]->setText(tr("%1 tokens").arg(info.maxPositions));
    m_fields["weights"]->setText(tr("%1 in %2 file(s)%3")
                                     .arg(QString::fromStdString(info.storageType))
                                     .arg(info.shardCount)
                                     .arg(info.tiedEmbeddings ? tr(", tied lm_head") : QString()));
    m_fields["tokenizer"]->setText(info.tokenizerKind.empty() ? tr("missing")
                                                              : QString::fromStdString(info.tokenizerKind));

    QString status = QString::fromStdString(info.directory);
    for (const auto& warning : info.warnings)
        status += QStringLiteral("\n⚠ ") + QString::fromStdString(warning);
    m_status->setText(status);

    // Group "model.layers.3.self_attn.q_proj" under "model.layers.3".
    m_layers->clear();
    static const QRegularExpression blockPattern(QStringLiteral("^(.*\\.layers\\.\\d+)\\.(.+)$"));
    QTreeWidgetItem* currentBlock = nullptr;
    for (const auto& stdName : info.linearNames) {
        const QString name = QString::fromStdString(stdName);
        const auto match = blockPattern.match(name);
        if (!match.hasMatch()) {
            auto* item = new QTreeWidgetItem(m_layers, {name, tr("Linear")});
            item->setToolTip(0, name);
            currentBlock = nullptr;
            continue;
        }
        if (!currentBlock || currentBlock->text(0) != match.captured(1))
            currentBlock = new QTreeWidgetItem(m_layers, {match.captured(1), tr("block")});
        auto* item = new QTreeWidgetItem(currentBlock, {match.captured(2), tr("Linear")});
        item->setToolTip(0, name);
    }
}

void ModelInfoPanel::showError(const QString& message)
{
    for (auto* label : std::as_const(m_fields))
        label->setText(QStringLiteral("–"));
    m_layers->clear();
    m_status->setText(tr("Cannot open model: %1").arg(message));
}

void ModelInfoPanel::showLoading(const QString& directory)
{
    m_status->setText(tr("Reading %1 …").arg(directory));
}

QString ModelInfoPanel::fieldText(const QString& field) const
{
    const auto* label = m_fields.value(field);
    return label ? label->text() : QString();
}

int ModelInfoPanel::layerCount() const
{
    int count = 0;
    for (int i = 0; i < m_layers->topLevelItemCount(); ++i) {
        const auto* item = m_layers->topLevelItem(i);
        count += item->childCount() > 0 ? item->childCount() : 1;
    }
    return count;
}

} // namespace widgets
