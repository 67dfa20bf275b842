#pragma once
// What makes two runs the same run (issue 20): a sweep skips a run already finished with the
// same content, a checkpoint resumes only the run it was written for. Torch-free.

#include <string>
#include <vector>

namespace core {

/// The content hash of a canonical run config (runConfigToJson of a resolved config): 16 hex
/// digits of FNV-1a over the config without its display name, so renaming a run does not make
/// it another. Two configs that calibrate the same model the same way hash the same.
std::string runContentHash(const std::string& canonicalConfigJson);

/// The leaf keys ("weights.bits", "eval.texts") whose values differ between two config
/// documents, each as "key: A → B", in key order.
std::vector<std::string> changedConfigKeys(const std::string& beforeJson, const std::string& afterJson);

/// The content hash of a config ignoring `calibration.seed`: runs that differ only in their
/// seed share it (the seed groups of the runs table and `compare --group-seeds`).
std::string seedGroupHash(const std::string& canonicalConfigJson);

} // namespace core
