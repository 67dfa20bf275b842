#pragma once
// The rows of one method's options in the New Calibration form, built from the method's
// descriptor (config/method_descriptor.h): a spin box per integer, a decimal box per number,
// a check box per boolean, a text field per number list, added to the form's own layout (so
// they align with its other rows) and shown only while the method is chosen. Nothing here
// names a method or an option: a method registered anywhere gets its rows.

#include "config/method_descriptor.h"

#include <QObject>

#include <nlohmann/json.hpp>

#include <map>

class QFormLayout;
class QWidget;

namespace app {

class MethodOptionsEditor : public QObject {
    Q_OBJECT
public:
    /// Appends the method's rows to `form`; their widgets belong to `parent`.
    MethodOptionsEditor(const core::MethodDescriptor& method, QFormLayout* form, QWidget* parent);

    /// Shows or hides every row of the method.
    void setRowsVisible(bool visible);

    /// The section as the run config writes it; a list that does not read as numbers is
    /// passed on as its text, so that the config parser names the key.
    nlohmann::json section() const;
    /// Shows `options` (the keys of the schema that `options` holds).
    void setOptions(const core::MethodOptions& options);
    /// Sets one option from a JSON value (presets); unknown keys are ignored.
    void setOption(const std::string& key, const nlohmann::json& value);

Q_SIGNALS:
    void changed();

private:
    const core::MethodDescriptor& m_method;
    QFormLayout* m_form;
    std::map<std::string, QWidget*> m_fields; ///< by option key; object name "<method>.<key>"
};

} // namespace app
