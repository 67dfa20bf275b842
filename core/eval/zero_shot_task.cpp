#include "eval/zero_shot_task.h"

#include "eval/python_text.h"
#include "jobs/resources.h"
#include "util/error.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <sstream>

namespace core {
namespace {

using nlohmann::json;

// Where a document came from, for error messages.
struct Source {
    const std::string& path;
    std::size_t line;
    std::string at() const { return path + ":" + std::to_string(line); }
};

// The non-blank lines of a JSONL file, each parsed, with its line number.
std::vector<std::pair<std::size_t, json>> readJsonLines(const std::string& path)
{
    std::istringstream lines(readTextFile(path));
    std::vector<std::pair<std::size_t, json>> records;
    std::string line;
    for (std::size_t number = 1; std::getline(lines, line); ++number) {
        if (python::strip(line).empty())
            continue;
        json record = json::parse(line, nullptr, false);
        if (record.is_discarded() || !record.is_object())
            throw Error(path + ":" + std::to_string(number) + ": not a JSON object");
        records.emplace_back(number, std::move(record));
    }
    if (records.empty())
        throw Error(path + ": no documents");
    return records;
}

const json& field(const json& record, const std::string& key, const Source& source)
{
    if (!record.contains(key))
        throw Error(source.at() + ": no '" + key + "'");
    return record.at(key);
}

std::string text(const json& record, const std::string& key, const Source& source)
{
    const json& value = field(record, key, source);
    if (!value.is_string())
        throw Error(source.at() + ": '" + key + "' is not a string");
    const std::string s = value.get<std::string>();
    python::length(s); // throws on invalid UTF-8, which nlohmann lets through in a string
    return s;
}

// An integer label given as a number or as a digit string ("1"), as the datasets vary.
std::int64_t integer(const json& value, const std::string& key, const Source& source)
{
    if (value.is_number_integer())
        return value.get<std::int64_t>();
    if (value.is_string()) {
        const std::string s = python::strip(value.get<std::string>());
        // At most 18 digits: std::stoll would throw std::out_of_range, not a named error, beyond.
        if (!s.empty() && s.size() <= 18 &&
            std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::stoll(s);
    }
    throw Error(source.at() + ": '" + key + "' is not an integer");
}

// One request per choice on a shared context, the choice after the target delimiter " ".
TaskDocument sharedContext(const std::string& context, const std::vector<std::string>& choices, std::int64_t gold,
                           const Source& source)
{
    if (choices.size() < 2)
        throw Error(source.at() + ": " + std::to_string(choices.size()) + " choice(s); need at least 2");
    TaskDocument doc;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        if (choices[i].empty())
            throw Error(source.at() + ": choice " + std::to_string(i) + " is empty");
        doc.requests.push_back({context, " " + choices[i]});
    }
    doc.choices = choices;
    if (gold < 0 || gold >= static_cast<std::int64_t>(choices.size()))
        throw Error(source.at() + ": gold " + std::to_string(gold) + " is not one of the " +
                    std::to_string(choices.size()) + " choices");
    doc.gold = gold;
    return doc;
}

// ARC and OpenBookQA: the AI2 files ({"question": {"stem", "choices": [{"text", "label"}]},
// "answerKey"}) or the Hugging Face export ({"question" or "question_stem", "choices": {"text":
// [...], "label": [...]}, "answerKey"}).
struct Ai2Question {
    std::string stem;
    std::vector<std::string> texts, labels;
    std::string answerKey;
};

Ai2Question ai2Question(const json& record, const Source& source)
{
    Ai2Question q;
    const json* choices = nullptr;
    if (record.contains("question") && record["question"].is_object()) {
        q.stem = text(record["question"], "stem", source);
        choices = &field(record["question"], "choices", source);
    } else {
        q.stem =
            record.contains("question_stem") ? text(record, "question_stem", source) : text(record, "question", source);
        choices = &field(record, "choices", source);
    }
    if (choices->is_array()) {
        for (const json& choice : *choices) {
            q.texts.push_back(text(choice, "text", source));
            q.labels.push_back(text(choice, "label", source));
        }
    } else if (choices->is_object()) {
        for (const json& t : field(*choices, "text", source))
            q.texts.push_back(t.is_string() ? t.get<std::string>()
                                            : throw Error(source.at() + ": a choice is not a string"));
        for (const json& l : field(*choices, "label", source))
            q.labels.push_back(l.is_string() ? l.get<std::string>()
                                             : throw Error(source.at() + ": a label is not a string"));
    } else {
        throw Error(source.at() + ": 'choices' is neither a list nor an object");
    }
    if (q.texts.size() != q.labels.size())
        throw Error(source.at() + ": " + std::to_string(q.texts.size()) + " choices but " +
                    std::to_string(q.labels.size()) + " labels");
    q.answerKey = text(record, "answerKey", source);
    return q;
}

std::int64_t labelIndex(const Ai2Question& q, const std::string& key, const Source& source)
{
    const auto it = std::find(q.labels.begin(), q.labels.end(), key);
    if (it == q.labels.end())
        throw Error(source.at() + ": answerKey '" + key + "' is none of the choice labels");
    return it - q.labels.begin();
}

TaskDocument arcDocument(const json& record, const Source& source, const std::int64_t*)
{
    const Ai2Question q = ai2Question(record, source);
    return sharedContext("Question: " + q.stem + "\nAnswer:", q.texts, labelIndex(q, q.answerKey, source), source);
}

TaskDocument openBookQaDocument(const json& record, const Source& source, const std::int64_t*)
{
    const Ai2Question q = ai2Question(record, source);
    const std::string key = q.answerKey.substr(std::min(q.answerKey.find_first_not_of(" \t"), q.answerKey.size()));
    return sharedContext(q.stem, q.texts, labelIndex(q, key, source), source);
}

std::int64_t labelFrom(const json& record, const std::string& key, const Source& source, const std::int64_t* label)
{
    if (label != nullptr)
        return *label;
    if (!record.contains(key))
        throw Error(source.at() + ": no '" + key + "' (give the labels file with --labels)");
    return integer(record[key], key, source);
}

TaskDocument piqaDocument(const json& record, const Source& source, const std::int64_t* label)
{
    return sharedContext("Question: " + text(record, "goal", source) + "\nAnswer:",
                         {text(record, "sol1", source), text(record, "sol2", source)},
                         labelFrom(record, "label", source, label), source);
}

TaskDocument siqaDocument(const json& record, const Source& source, const std::int64_t* label)
{
    // Social IQa labels count from 1 (dev-labels.lst, the HF "label" field).
    return sharedContext(
        "Q: " + text(record, "context", source) + " " + text(record, "question", source) + "\nA:",
        {text(record, "answerA", source), text(record, "answerB", source), text(record, "answerC", source)},
        labelFrom(record, "label", source, label) - 1, source);
}

// The harness's hellaswag/utils.py preprocess: WikiHow's bracketed artifacts removed.
std::string hellaswagText(const std::string& s)
{
    std::string t = python::strip(s);
    t = python::replaceAll(t, " [title]", ". ");
    t = python::removeBracketed(t);
    return python::replaceAll(t, "  ", " ");
}

TaskDocument hellaswagDocument(const json& record, const Source& source, const std::int64_t*)
{
    const std::string context = text(record, "ctx_a", source) + " " + python::capitalize(text(record, "ctx_b", source));
    std::vector<std::string> endings;
    const json& list = field(record, "endings", source);
    if (!list.is_array())
        throw Error(source.at() + ": 'endings' is not a list");
    for (const json& ending : list) {
        if (!ending.is_string())
            throw Error(source.at() + ": an ending is not a string");
        endings.push_back(hellaswagText(ending.get<std::string>()));
    }
    return sharedContext(hellaswagText(text(record, "activity_label", source) + ": " + context), endings,
                         integer(field(record, "label", source), "label", source), source);
}

// WinoGrande, partial scoring: the option fills the blank inside the context; the rest of the
// sentence is the one continuation every choice scores.
TaskDocument winograndeDocument(const json& record, const Source& source, const std::int64_t*)
{
    const std::string sentence = text(record, "sentence", source);
    const auto blank = sentence.find('_');
    if (blank == std::string::npos)
        throw Error(source.at() + ": the sentence has no '_' blank");
    const std::string answer = text(record, "answer", source);
    if (answer != "1" && answer != "2")
        throw Error(source.at() + ": answer '" + answer + "' is neither \"1\" nor \"2\"");
    const std::string continuation = " " + python::strip(sentence.substr(blank + 1));
    TaskDocument doc;
    for (const std::string key : {"option1", "option2"}) {
        const std::string option = text(record, key, source);
        if (option.empty())
            throw Error(source.at() + ": " + key + " is empty");
        doc.choices.push_back(sentence.substr(0, blank) + option);
        doc.requests.push_back({doc.choices.back(), continuation});
    }
    doc.gold = answer == "1" ? 0 : 1;
    return doc;
}

TaskDocument boolqDocument(const json& record, const Source& source, const std::int64_t*)
{
    std::int64_t gold = 0;
    if (record.contains("answer") && record["answer"].is_boolean())
        gold = record["answer"].get<bool>() ? 1 : 0; // the original dev.jsonl
    else
        gold = integer(field(record, "label", source), "label", source); // SuperGLUE
    return sharedContext(text(record, "passage", source) + "\nQuestion: " + text(record, "question", source) +
                             "?\nAnswer:",
                         {"no", "yes"}, gold, source);
}

// LAMBADA (lambada_openai): the passage without its last word predicts " " + that word.
TaskDocument lambadaDocument(const std::string& passage, const Source& source)
{
    std::vector<std::string> words = python::splitOnSpace(passage);
    if (words.size() < 2 || words.back().empty())
        throw Error(source.at() + ": a LAMBADA passage needs a context and a last word");
    const std::string target = " " + words.back();
    words.pop_back();
    std::string context;
    for (std::size_t i = 0; i < words.size(); ++i)
        context += (i ? " " : "") + words[i];
    TaskDocument doc;
    doc.requests.push_back({context, target});
    doc.choices.push_back(target);
    return doc;
}

TaskDocument genericDocument(const json& record, const Source& source, const std::int64_t*)
{
    const json& list = field(record, "choices", source);
    if (!list.is_array())
        throw Error(source.at() + ": 'choices' is not a list");
    std::vector<std::string> choices;
    for (const json& choice : list) {
        if (!choice.is_string())
            throw Error(source.at() + ": a choice is not a string");
        choices.push_back(choice.get<std::string>());
    }
    return sharedContext(text(record, "context", source), choices,
                         integer(field(record, "gold", source), "gold", source), source);
}

using DocumentReader = std::function<TaskDocument(const json&, const Source&, const std::int64_t* label)>;

DocumentReader readerOf(const std::string& format)
{
    if (format == "arc_easy" || format == "arc_challenge")
        return arcDocument;
    if (format == "openbookqa")
        return openBookQaDocument;
    if (format == "piqa")
        return piqaDocument;
    if (format == "siqa")
        return siqaDocument;
    if (format == "hellaswag")
        return hellaswagDocument;
    if (format == "winogrande")
        return winograndeDocument;
    if (format == "boolq")
        return boolqDocument;
    return genericDocument;
}

std::vector<std::int64_t> readLabels(const std::string& path)
{
    std::istringstream lines(readTextFile(path));
    std::vector<std::int64_t> labels;
    std::string line;
    for (std::size_t number = 1; std::getline(lines, line); ++number) {
        const std::string s = python::strip(line);
        if (s.empty())
            continue;
        try {
            std::size_t used = 0;
            labels.push_back(std::stoll(s, &used));
            if (used != s.size())
                throw std::invalid_argument(s);
        } catch (const std::exception&) {
            throw Error(path + ":" + std::to_string(number) + ": '" + s + "' is not an integer label");
        }
    }
    return labels;
}

std::vector<TaskDocument> readLambada(const std::string& path, std::int64_t limit)
{
    std::vector<TaskDocument> docs;
    const std::string contents = readTextFile(path);
    const bool jsonl = python::strip(contents).starts_with("{");
    std::istringstream lines(contents);
    std::string line;
    for (std::size_t number = 1; std::getline(lines, line); ++number) {
        if (limit > 0 && static_cast<std::int64_t>(docs.size()) >= limit)
            break;
        if (python::strip(line).empty())
            continue;
        const Source source{path, number};
        std::string passage = line;
        if (jsonl) {
            const json record = json::parse(line, nullptr, false);
            if (record.is_discarded() || !record.is_object())
                throw Error(source.at() + ": not a JSON object");
            passage = text(record, "text", source);
        } else {
            python::length(passage);
        }
        docs.push_back(lambadaDocument(passage, source));
    }
    if (docs.empty())
        throw Error(path + ": no documents");
    return docs;
}

} // namespace

const std::vector<TaskFormat>& taskFormats()
{
    static const std::vector<TaskFormat> formats = {
        {"arc_easy",
         "arc_easy",
         TaskOutput::MultipleChoice,
         {"acc", "acc_norm"},
         false,
         "Question: {question.stem}\\nAnswer: + \" {choice}\""},
        {"arc_challenge",
         "arc_challenge",
         TaskOutput::MultipleChoice,
         {"acc", "acc_norm"},
         false,
         "Question: {question.stem}\\nAnswer: + \" {choice}\""},
        {"boolq",
         "boolq",
         TaskOutput::MultipleChoice,
         {"acc"},
         false,
         "{passage}\\nQuestion: {question}?\\nAnswer: + \" no\" | \" yes\""},
        {"hellaswag",
         "hellaswag",
         TaskOutput::MultipleChoice,
         {"acc", "acc_norm"},
         false,
         "preprocess({activity_label}: {ctx_a} {ctx_b.capitalize()}) + \" preprocess({ending})\""},
        {"lambada",
         "lambada_openai",
         TaskOutput::Loglikelihood,
         {"perplexity", "acc"},
         false,
         "{text without its last word} + \" {last word}\""},
        {"openbookqa",
         "openbookqa",
         TaskOutput::MultipleChoice,
         {"acc", "acc_norm"},
         false,
         "{question.stem} + \" {choice}\""},
        {"piqa",
         "piqa",
         TaskOutput::MultipleChoice,
         {"acc", "acc_norm"},
         true,
         "Question: {goal}\\nAnswer: + \" {sol1}\" | \" {sol2}\""},
        {"siqa",
         "social_iqa",
         TaskOutput::MultipleChoice,
         {"acc"},
         true,
         "Q: {context} {question}\\nA: + \" {answerA}\" | \" {answerB}\" | \" {answerC}\""},
        {"winogrande",
         "winogrande",
         TaskOutput::MultipleChoice,
         {"acc"},
         false,
         "{sentence up to _}{option} + \" {rest of the sentence}\" (partial scoring)"},
        {"jsonl", "", TaskOutput::MultipleChoice, {"acc", "acc_norm"}, false, "{context} + \" {choice}\""},
        {"brown_cloze", "", TaskOutput::MultipleChoice, {"acc", "acc_norm"}, false, "{context} + \" {choice}\""},
        {"brown_next_sentence",
         "",
         TaskOutput::MultipleChoice,
         {"acc", "acc_norm"},
         false,
         "{context} + \" {choice}\""},
    };
    return formats;
}

const TaskFormat& taskFormatOf(const std::string& name)
{
    const auto& formats = taskFormats();
    const auto it = std::find_if(formats.begin(), formats.end(), [&](const TaskFormat& f) { return f.name == name; });
    if (it != formats.end())
        return *it;
    static const TaskFormat* generic =
        &*std::find_if(formats.begin(), formats.end(), [](const TaskFormat& f) { return f.name == "jsonl"; });
    return *generic;
}

ZeroShotTask loadZeroShotTask(const std::string& name, const std::string& dataPath, const std::string& labelsPath,
                              std::int64_t limit)
{
    if (name.empty())
        throw Error("a zero-shot task needs a name");
    if (limit < 0)
        throw Error("task " + name + ": limit " + std::to_string(limit) + " is negative");
    ZeroShotTask task;
    task.name = name;
    task.format = taskFormatOf(name);
    task.dataPath = dataPath;
    if (!labelsPath.empty() && !task.format.takesLabels)
        throw Error("task " + name + ": a labels file is only read for piqa and siqa (" + labelsPath + ")");
    if (task.format.output == TaskOutput::Loglikelihood) {
        task.documents = readLambada(dataPath, limit);
        return task;
    }
    const auto records = readJsonLines(dataPath);
    std::vector<std::int64_t> labels;
    if (!labelsPath.empty()) {
        labels = readLabels(labelsPath);
        if (labels.size() != records.size())
            throw Error(labelsPath + ": " + std::to_string(labels.size()) + " labels for the " +
                        std::to_string(records.size()) + " documents of " + dataPath);
    }
    const DocumentReader read = readerOf(task.format.name);
    const std::size_t count = limit > 0 ? std::min(records.size(), static_cast<std::size_t>(limit)) : records.size();
    for (std::size_t i = 0; i < count; ++i) {
        const Source source{dataPath, records[i].first};
        try {
            task.documents.push_back(read(records[i].second, source, labels.empty() ? nullptr : &labels[i]));
        } catch (const json::exception& e) {
            throw Error(source.at() + ": " + e.what());
        } catch (const Error& e) {
            if (task.format.name == "jsonl" && name != "jsonl")
                throw Error(std::string(e.what()) + " (task '" + name +
                            "' is read as generic JSONL {\"context\", \"choices\", \"gold\"}; `quantscope eval "
                            "--list-tasks` lists the harness formats)");
            throw;
        }
    }
    return task;
}

std::vector<std::string> bundledTaskNames()
{
    return {"brown_cloze", "brown_next_sentence"};
}

std::string bundledTaskFile(const std::string& name)
{
    const auto names = bundledTaskNames();
    if (std::find(names.begin(), names.end(), name) == names.end())
        throw Error("'" + name + "' is not a bundled task (bundled: brown_cloze, brown_next_sentence)");
    return resourceDirectory() + "/data/" + name + ".jsonl";
}

} // namespace core
