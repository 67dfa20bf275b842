#pragma once
// Torch-free entry points of the test fixtures, for GUI and CLI tests that must not include torch.

#include <string>

namespace testsupport {

/// A 2-block random LLaMA (hidden 48, GQA 6/2, vocab 264) with the byte-level
/// BPE tokenizer of writeByteLevelTokenizer(), in the HF layout.
void writeTinyLlamaWithTokenizer(const std::string& dir, unsigned seed = 0);

/// The same shape as an OPT model (tied lm_head, biases).
void writeTinyOptWithTokenizer(const std::string& dir, unsigned seed = 0);

/// A 2-block random LLaMA with a sentencepiece tokenizer.model (150 pieces) trained on sample text.
void writeTinyLlamaWithSentencePiece(const std::string& dir, unsigned seed = 0);

/// A fresh empty directory under the system temp dir.
std::string makeTempDir(const std::string& tag);

} // namespace testsupport
