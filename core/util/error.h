#pragma once
// Error types thrown by core. Every message names the thing at fault (file, key,
// tensor, layer or value) so that the CLI can print it as one line.

#include <stdexcept>
#include <string>

namespace core {

/// A user-visible failure: bad input, inconsistent files, out-of-range options.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Thrown when a CancelToken was triggered; long operations unwind with it.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

} // namespace core
