#pragma once
// Reading one JSON object of a run config key by key (internal to core/config): every
// key a reader did not ask for is reported as unknown, so a typo is never ignored.

#include "util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace core::config_detail {

using nlohmann::json;

// Reads the keys of one JSON object, remembering which were consumed so that
// every key left over can be reported as unknown (a typo must never be ignored).
class ObjectReader {
public:
    ObjectReader(const json& object, std::string path, const std::string& source)
        : m_object(object), m_path(std::move(path)), m_source(source)
    {
        if (!m_object.is_object())
            fail(m_path.empty() ? "the document must be a JSON object" : m_path + " must be an object");
    }

    [[noreturn]] void fail(const std::string& message) const { throw Error(m_source + ": " + message); }
    std::string key(const std::string& name) const { return m_path.empty() ? name : m_path + "." + name; }
    const std::string& source() const { return m_source; }

    const json* find(const std::string& name)
    {
        m_known.push_back(name);
        const auto it = m_object.find(name);
        return it == m_object.end() ? nullptr : &*it;
    }

    void readString(const std::string& name, std::string& out)
    {
        if (const json* value = find(name)) {
            if (!value->is_string())
                fail(key(name) + " must be a string");
            out = value->get<std::string>();
        }
    }

    void readBool(const std::string& name, bool& out)
    {
        if (const json* value = find(name)) {
            if (!value->is_boolean())
                fail(key(name) + " must be true or false");
            out = value->get<bool>();
        }
    }

    template <typename Int> void readInteger(const std::string& name, Int& out)
    {
        if (const json* value = find(name)) {
            if (!value->is_number_integer())
                fail(key(name) + " must be an integer, got " + value->dump());
            if constexpr (std::is_unsigned_v<Int>) {
                if (value->is_number_unsigned() || value->get<std::int64_t>() >= 0)
                    out = value->get<Int>();
                else
                    fail(key(name) + " must be >= 0, got " + value->dump());
            } else {
                if (value->is_number_unsigned() && value->get<std::uint64_t>() > std::uint64_t(INT64_MAX))
                    fail(key(name) + " is too large: " + value->dump());
                out = static_cast<Int>(value->get<std::int64_t>());
            }
        }
    }

    void readNumber(const std::string& name, double& out)
    {
        if (const json* value = find(name)) {
            if (!value->is_number())
                fail(key(name) + " must be a number, got " + value->dump());
            out = value->get<double>();
        }
    }

    void readNumbers(const std::string& name, std::vector<double>& out)
    {
        if (const json* value = find(name)) {
            if (!value->is_array())
                fail(key(name) + " must be an array of numbers");
            out.clear();
            for (const auto& item : *value) {
                if (!item.is_number())
                    fail(key(name) + " must contain only numbers, got " + item.dump());
                out.push_back(item.get<double>());
            }
        }
    }

    void readStrings(const std::string& name, std::vector<std::string>& out)
    {
        if (const json* value = find(name)) {
            if (!value->is_array())
                fail(key(name) + " must be an array of file paths");
            out.clear();
            for (const auto& item : *value) {
                if (!item.is_string())
                    fail(key(name) + " must contain only strings, got " + item.dump());
                out.push_back(item.get<std::string>());
            }
        }
    }

    /// Throws for the first key that no read asked for.
    void rejectUnknownKeys() const
    {
        for (const auto& [name, value] : m_object.items()) {
            if (std::find(m_known.begin(), m_known.end(), name) != m_known.end())
                continue;
            std::string known;
            for (const auto& k : m_known)
                known += (known.empty() ? "" : ", ") + k;
            fail("unknown key '" + key(name) + "' (known: " + known + ")");
        }
    }

private:
    const json& m_object;
    std::string m_path;
    const std::string& m_source;
    std::vector<std::string> m_known;
};

// Reads the optional section `name` of `parent` with `read`, then rejects its unknown keys.
template <typename Read>
void readSection(ObjectReader& parent, const std::string& name, const std::string& source, Read read)
{
    if (const json* section = parent.find(name)) {
        ObjectReader reader(*section, name, source);
        read(reader);
        reader.rejectUnknownKeys();
    }
}

inline void require(bool condition, const std::string& source, const std::string& message)
{
    if (!condition)
        throw Error(source + ": " + message);
}

/// A range bound as people write it: 10000, 0.5, 1e+06.
template <typename T> std::string formatNumber(T value)
{
    if constexpr (std::is_integral_v<T>) {
        return std::to_string(value);
    } else {
        std::ostringstream out;
        out << value;
        return out.str();
    }
}

/// `key` must lie in [lo, hi]: "KEY must be in LO..HI, got VALUE".
template <typename T> void requireInRange(T value, T lo, T hi, const std::string& source, const std::string& key)
{
    require(value >= lo && value <= hi, source,
            key + " must be in " + formatNumber(lo) + ".." + formatNumber(hi) + ", got " + std::to_string(value));
}

/// A learning rate: in (0, 10].
inline void requireLearningRate(double value, const std::string& source, const std::string& key)
{
    require(value > 0.0 && value <= 10.0, source, key + " must be in (0, 10], got " + std::to_string(value));
}

} // namespace core::config_detail
