#pragma once
// Every registered method with its options, as `quantscope methods` prints it: text for
// people, JSON for scripts, and the Markdown table the README carries (a test keeps the
// README's copy equal to it). Derived from the descriptors only. Torch-free.

#include <string>

namespace core {

/// One paragraph per method: name, description, reference, capabilities, then one line per
/// option (key, type, range, default, unit, help).
std::string methodsText();
/// An array of {"name", "description", "reference", "capabilities": {...}, "options": [{"key",
/// "type", "default", "minimum", "maximum", "range", "unit", "help"}], "default_loss"}.
std::string methodsJson(int indent = 2);
/// The README's method table: a row per method, its options with their defaults.
std::string methodsMarkdown();

} // namespace core
