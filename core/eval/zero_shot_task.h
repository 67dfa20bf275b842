#pragma once
// Zero-shot tasks as lm-evaluation-harness builds their requests (METHODS.md §10.2): each
// document is one (context, continuation) request per choice, or one request for a
// log-likelihood task (LAMBADA). Torch-free.

#include <cstdint>
#include <string>
#include <vector>

namespace core {

enum class TaskOutput {
    MultipleChoice, ///< the choice with the highest log-likelihood is the prediction
    Loglikelihood,  ///< one continuation per document: accuracy = greedy, plus perplexity
};

struct TaskRequest {
    std::string context;
    std::string continuation; ///< with the task's target delimiter in front (" " by default)
};

struct TaskDocument {
    std::vector<TaskRequest> requests; ///< one per choice (multiple choice) or exactly one
    /// The harness's doc_to_choice strings, whose lengths acc_norm divides by (WinoGrande: the
    /// per-choice contexts, since its choice sits in the context).
    std::vector<std::string> choices;
    std::int64_t gold = 0; ///< index of the correct choice
};

/// A file format with the harness's prompt for it.
struct TaskFormat {
    std::string name;        ///< the --task value: "hellaswag", "arc_easy", ...
    std::string harnessTask; ///< the lm-evaluation-harness task it matches ("" for our own formats)
    TaskOutput output = TaskOutput::MultipleChoice;
    std::vector<std::string> reportedMetrics; ///< what the harness reports (and averages count)
    bool takesLabels = false;                 ///< answers may come in a separate labels file
    std::string prompt;                       ///< the prompt, for the README and `--help`
};

/// Every format, harness tasks first, then "jsonl" (generic) and the bundled tasks.
const std::vector<TaskFormat>& taskFormats();
/// The format of task `name`: a listed format, or the generic JSONL one for any other name
/// (a user's own task).
const TaskFormat& taskFormatOf(const std::string& name);

struct ZeroShotTask {
    std::string name;
    TaskFormat format;
    std::string dataPath;
    std::vector<TaskDocument> documents;
};

/// Reads `dataPath` (and `labelsPath` where the format takes one; "" = labels in the file) in
/// the format of task `name`, keeping the first `limit` documents (0 = all). Throws
/// core::Error naming the file and line: unreadable file, invalid JSON or UTF-8, a missing
/// field, an empty choice, a gold index out of range, a labels file of the wrong length.
ZeroShotTask loadZeroShotTask(const std::string& name, const std::string& dataPath, const std::string& labelsPath = {},
                              std::int64_t limit = 0);

/// The bundled tasks' names ("brown_cloze", "brown_next_sentence") and the file of one
/// (resources/data/<name>.jsonl); bundledTaskFile throws core::Error for another name.
std::vector<std::string> bundledTaskNames();
std::string bundledTaskFile(const std::string& name);

} // namespace core
