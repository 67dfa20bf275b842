#include "tiny_model_files.h"

#include "tiny_models.h"

namespace testsupport {

void writeTinyLlamaWithTokenizer(const std::string& dir, unsigned seed)
{
    TinyModelSpec spec;
    spec.vocab = writeByteLevelTokenizer(dir);
    spec.seed = seed;
    writeTinyModel(dir, spec);
}

void writeTinyLlamaWithSentencePiece(const std::string& dir, unsigned seed)
{
    TinyModelSpec spec;
    spec.vocab = 150;
    spec.seed = seed;
    writeSentencePieceTokenizer(dir, sampleEnglishText(), static_cast<int>(spec.vocab));
    writeTinyModel(dir, spec);
}

void writeTinyOptWithTokenizer(const std::string& dir, unsigned seed)
{
    TinyModelSpec spec;
    spec.family = core::ModelFamily::Opt;
    spec.tied = true;
    spec.vocab = writeByteLevelTokenizer(dir);
    spec.seed = seed;
    writeTinyModel(dir, spec);
}

} // namespace testsupport
