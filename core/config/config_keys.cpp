#include "config/config_keys.h"

#include "util/error.h"

namespace core {

void setConfigKey(nlohmann::json& document, const std::string& key, const nlohmann::json& value)
{
    nlohmann::json* node = &document;
    std::size_t begin = 0;
    for (std::size_t dot = key.find('.');; dot = key.find('.', begin)) {
        const std::string part = key.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin);
        if (part.empty())
            throw Error("'" + key + "' has an empty part");
        if (!node->is_object())
            throw Error("'" + key.substr(0, begin - 1) + "' is not a section");
        if (dot == std::string::npos) {
            (*node)[part] = value;
            return;
        }
        node = &(*node)[part];
        if (node->is_null())
            *node = nlohmann::json::object();
        begin = dot + 1;
    }
}

} // namespace core
