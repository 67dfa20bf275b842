#include "util/strict_json.h"

#include "util/error.h"

#include <set>
#include <vector>

namespace core {
namespace {

// Where the parser is: one frame per open object or array, each object with the keys seen so far.
struct Frame {
    bool object = false;
    std::set<std::string> keys;
    std::string key;
};

std::string keyPath(const std::vector<Frame>& frames)
{
    std::string path;
    for (const Frame& frame : frames)
        if (frame.object && !frame.key.empty())
            path += (path.empty() ? "" : ".") + frame.key;
    return path;
}

template <class Json> Json parseStrict(const std::string& text, const std::string& source)
{
    std::vector<Frame> frames;
    auto where = [&] {
        const std::string path = keyPath(frames);
        return source + (path.empty() ? std::string(": ") : ": key '" + path + "': ");
    };
    using Event = typename Json::parse_event_t;
    const typename Json::parser_callback_t track = [&](int, Event event, Json& parsed) {
        switch (event) {
        case Event::object_start:
            frames.push_back(Frame{true, {}, {}});
            break;
        case Event::array_start:
            frames.push_back(Frame{false, {}, {}});
            break;
        case Event::object_end:
        case Event::array_end:
            if (!frames.empty())
                frames.pop_back();
            break;
        case Event::key: {
            Frame& frame = frames.back();
            const std::string key = parsed.template get<std::string>();
            frame.key = key;
            if (!frame.keys.insert(key).second)
                throw Error(where() + "given twice in one object");
            break;
        }
        case Event::value:
            break;
        }
        return true;
    };
    try {
        return Json::parse(text, track);
    } catch (const typename Json::parse_error& e) {
        throw Error(where() + "not valid JSON (" + jsonErrorText(e) + ")");
    } catch (const typename Json::exception& e) {
        throw Error(where() + jsonErrorText(e));
    }
}

} // namespace

std::string jsonErrorText(const nlohmann::json::exception& error)
{
    const std::string message = error.what();
    const std::size_t end = message.starts_with("[json.exception.") ? message.find("] ") : std::string::npos;
    return end == std::string::npos ? message : message.substr(end + 2);
}

nlohmann::json parseStrictJson(const std::string& text, const std::string& source)
{
    return parseStrict<nlohmann::json>(text, source);
}

nlohmann::ordered_json parseStrictOrderedJson(const std::string& text, const std::string& source)
{
    return parseStrict<nlohmann::ordered_json>(text, source);
}

} // namespace core
