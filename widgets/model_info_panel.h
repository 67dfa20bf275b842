#pragma once
// Shows a model's summary (family, sizes, tokenizer) and its layers as a
// block → Linear tree. Takes plain data; does no I/O.

#include "jobs/model_info.h"

#include <QWidget>

class QLabel;
class QTreeWidget;
class QFormLayout;

namespace widgets {

class ModelInfoPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelInfoPanel(QWidget* parent = nullptr);

    void setInfo(const core::ModelInfo& info);
    /// Clears the panel and shows `message` in place of the summary.
    void showError(const QString& message);
    void showLoading(const QString& directory);

    /// The value shown for a summary field ("family", "parameters", ...), for tests and accessibility.
    QString fieldText(const QString& field) const;
    int layerCount() const;

private:
    QLabel* addField(const QString& key, const QString& label);

    QFormLayout* m_form = nullptr;
    QLabel* m_status = nullptr;
    QTreeWidget* m_layers = nullptr;
    QHash<QString, QLabel*> m_fields;
};

} // namespace widgets
