#include "config/learning_sections.h"

#include "config/run_config.h"

namespace core::config_detail {
namespace {

// The host methods' own losses: OmniQuant minimizes the mean MSE (METHODS.md §3.4),
// TesseraQ the per-token sum of squares (§4.2).
std::vector<LossTerm> defaultLoss(const std::string& method)
{
    return {LossTerm{method == "tesseraq" ? LossType::L2 : LossType::Mse, 1.0}};
}

} // namespace

json termToJson(const LossTerm& term)
{
    json object = {{"type", lossTypeName(term.type)}, {"weight", term.weight}};
    if (term.type == LossType::SlicedWasserstein) {
        object["projections"] = term.projections;
        object["p"] = term.p;
    }
    if (term.type == LossType::KlTop)
        object["k"] = term.topK;
    return object;
}

namespace {

LossTerm readTerm(const json& item, const std::string& path, const std::string& source)
{
    ObjectReader reader(item, path, source);
    std::string type;
    reader.readString("type", type);
    if (type.empty())
        reader.fail(path + ".type is required (one of: mse, l2, sw, nlc, kl_top)");
    LossTerm term;
    try {
        term.type = lossTypeFromName(type);
    } catch (const Error& e) {
        reader.fail(path + ".type: " + e.what());
    }
    reader.readNumber("weight", term.weight);
    // Options of one type only: "projections" on an mse term is a mistake, not a no-op.
    if (term.type == LossType::SlicedWasserstein) {
        reader.readInteger("projections", term.projections);
        reader.readInteger("p", term.p);
    }
    if (term.type == LossType::KlTop)
        reader.readInteger("k", term.topK);
    reader.rejectUnknownKeys();
    return term;
}

} // namespace

bool methodLearnsBlocks(const std::string& method)
{
    return method == "omniquant" || method == "tesseraq";
}

void applyLearningDefaults(RunConfig& config)
{
    if (!methodLearnsBlocks(config.method))
        return;
    config.loss = defaultLoss(config.method);
    if (config.method == "omniquant")
        config.omniquant = OmniQuantConfig{};
    if (config.method == "tesseraq")
        config.tesseraq = TesseraQConfig{};
}

void readLearningSections(ObjectReader& parent, RunConfig& config, const std::string& source)
{
    applyLearningDefaults(config);
    const bool learns = methodLearnsBlocks(config.method);
    if (const json* loss = parent.find("loss")) {
        if (!learns)
            parent.fail("'loss' applies to block-reconstruction methods (omniquant, tesseraq) only (method is '" +
                        config.method + "')");
        if (!loss->is_array() || loss->empty())
            parent.fail("loss must be a non-empty array of terms, e.g. [{\"type\": \"mse\", \"weight\": 1}]");
        config.loss.clear();
        for (std::size_t i = 0; i < loss->size(); ++i)
            config.loss.push_back(readTerm((*loss)[i], "loss[" + std::to_string(i) + "]", source));
    }
    readMethodSection(parent, "omniquant", config.method, source, [&](ObjectReader& reader) {
        OmniQuantConfig& o = *config.omniquant;
        reader.readInteger("epochs", o.epochs);
        reader.readInteger("batch_size", o.batchSize);
        reader.readNumber("lwc_lr", o.lwcLearningRate);
        reader.readBool("aug_loss", o.augLoss);
        reader.readBool("let", o.let);
        reader.readNumber("let_lr", o.letLearningRate);
        reader.readNumber("let_alpha", o.letAlpha);
    });
    readMethodSection(parent, "tesseraq", config.method, source, [&](ObjectReader& reader) {
        TesseraQConfig& t = *config.tesseraq;
        reader.readInteger("lwc_epochs", t.lwcEpochs);
        reader.readNumber("lwc_lr", t.lwcLearningRate);
        reader.readNumbers("thresholds", t.thresholds);
        reader.readInteger("iterations", t.iterations);
        reader.readInteger("batch_size", t.batchSize);
        reader.readNumber("lr", t.learningRate);
        reader.readNumber("scale_lr", t.scaleLearningRate);
    });
}

void validateLearningSections(const RunConfig& config, const std::string& source)
{
    const bool learns = methodLearnsBlocks(config.method);
    require(learns || config.loss.empty(), source,
            "'loss' applies to block-reconstruction methods (omniquant, tesseraq) only (method is '" + config.method +
                "')");
    require(config.method == "omniquant" || !config.omniquant, source,
            "section 'omniquant' applies to method 'omniquant' only (method is '" + config.method + "')");
    require(config.method == "tesseraq" || !config.tesseraq, source,
            "section 'tesseraq' applies to method 'tesseraq' only (method is '" + config.method + "')");
    if (learns)
        require(!config.loss.empty(), source, "loss must have at least one term");
    double total = 0.0;
    for (std::size_t i = 0; i < config.loss.size(); ++i) {
        const LossTerm& term = config.loss[i];
        const std::string path = "loss[" + std::to_string(i) + "]";
        requireInRange(term.weight, 0.0, 1e6, source, path + ".weight");
        total += term.weight;
        if (term.type == LossType::SlicedWasserstein) {
            requireInRange<std::int64_t>(term.projections, 1, 4096, source, path + ".projections");
            require(term.p == 1 || term.p == 2, source, path + ".p must be 1 or 2, got " + std::to_string(term.p));
        }
        if (term.type == LossType::KlTop)
            require(term.topK >= 1 && term.topK <= 1000000, source,
                    path + ".k must be in 1..1000000 (and at most the vocabulary), got " + std::to_string(term.topK));
    }
    require(!learns || total > 0.0, source, "loss: at least one term needs a weight > 0");
    if (config.omniquant) {
        const OmniQuantConfig& o = *config.omniquant;
        requireInRange<std::int64_t>(o.epochs, 1, 10000, source, "omniquant.epochs");
        requireInRange<std::int64_t>(o.batchSize, 1, 4096, source, "omniquant.batch_size");
        requireLearningRate(o.lwcLearningRate, source, "omniquant.lwc_lr");
        requireLearningRate(o.letLearningRate, source, "omniquant.let_lr");
        requireInRange(o.letAlpha, 0.0, 1.0, source, "omniquant.let_alpha");
    }
    if (config.tesseraq) {
        const TesseraQConfig& t = *config.tesseraq;
        requireInRange<std::int64_t>(t.lwcEpochs, 0, 10000, source, "tesseraq.lwc_epochs");
        requireLearningRate(t.lwcLearningRate, source, "tesseraq.lwc_lr");
        require(!t.thresholds.empty(), source, "tesseraq.thresholds must not be empty");
        for (std::size_t i = 0; i < t.thresholds.size(); ++i) {
            require(t.thresholds[i] >= 0.0 && t.thresholds[i] < 1.0, source,
                    "tesseraq.thresholds[" + std::to_string(i) + "] must be in [0, 1) (the fraction still soft)");
            require(i == 0 || t.thresholds[i] < t.thresholds[i - 1], source,
                    "tesseraq.thresholds must decrease (each stage hardens more), see item " + std::to_string(i));
        }
        requireInRange<std::int64_t>(t.iterations, 1, 1000000, source, "tesseraq.iterations");
        requireInRange<std::int64_t>(t.batchSize, 1, 4096, source, "tesseraq.batch_size");
        requireLearningRate(t.learningRate, source, "tesseraq.lr");
        requireLearningRate(t.scaleLearningRate, source, "tesseraq.scale_lr");
    }
}

void writeLearningSections(const RunConfig& config, json& document)
{
    if (!config.loss.empty()) {
        json terms = json::array();
        for (const LossTerm& term : config.loss)
            terms.push_back(termToJson(term));
        document["loss"] = terms;
    }
    if (config.omniquant)
        document["omniquant"] = {{"epochs", config.omniquant->epochs},
                                 {"batch_size", config.omniquant->batchSize},
                                 {"lwc_lr", config.omniquant->lwcLearningRate},
                                 {"aug_loss", config.omniquant->augLoss},
                                 {"let", config.omniquant->let},
                                 {"let_lr", config.omniquant->letLearningRate},
                                 {"let_alpha", config.omniquant->letAlpha}};
    if (config.tesseraq)
        document["tesseraq"] = {
            {"lwc_epochs", config.tesseraq->lwcEpochs},      {"lwc_lr", config.tesseraq->lwcLearningRate},
            {"thresholds", config.tesseraq->thresholds},     {"iterations", config.tesseraq->iterations},
            {"batch_size", config.tesseraq->batchSize},      {"lr", config.tesseraq->learningRate},
            {"scale_lr", config.tesseraq->scaleLearningRate}};
}

std::string lossLabel(const RunConfig& config)
{
    const std::vector<LossTerm> defaults = defaultLoss(config.method);
    const bool isDefault = config.loss.size() == defaults.size() && config.loss.front().type == defaults.front().type;
    if (config.loss.empty() || isDefault)
        return "";
    std::string label;
    for (const LossTerm& term : config.loss)
        label += (label.empty() ? "" : "+") + lossTypeName(term.type);
    return label;
}

} // namespace core::config_detail

namespace core {

std::vector<LossTerm> parseLossShorthand(const std::string& spec)
{
    std::vector<LossTerm> terms;
    std::size_t begin = 0;
    while (begin <= spec.size()) {
        const std::size_t end = std::min(spec.find(',', begin), spec.size());
        const std::string item = spec.substr(begin, end - begin);
        const std::size_t colon = item.find(':');
        if (item.empty() || colon == 0)
            throw Error("loss: empty term in '" + spec + "' (expected TYPE[:WEIGHT],..., e.g. mse:0.9,sw:0.1)");
        LossTerm term;
        try {
            term.type = lossTypeFromName(item.substr(0, colon));
        } catch (const Error& e) {
            throw Error(std::string("loss: ") + e.what());
        }
        if (colon != std::string::npos) {
            const std::string weight = item.substr(colon + 1);
            std::size_t used = 0;
            try {
                term.weight = std::stod(weight, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != weight.size())
                throw Error("loss: '" + item + "' is not TYPE[:WEIGHT] (e.g. mse:0.9,sw:0.1)");
        }
        terms.push_back(term);
        begin = end + 1;
    }
    return terms;
}

std::string lossTermsToJson(const std::vector<LossTerm>& terms)
{
    config_detail::json array = config_detail::json::array();
    for (const LossTerm& term : terms)
        array.push_back(config_detail::termToJson(term));
    return array.dump();
}

} // namespace core
