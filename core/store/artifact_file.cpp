#include "store/artifact_file.h"

#include "util/error.h"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <mutex>
#include <type_traits>
#include <utility>

namespace core {
namespace {

static_assert(std::is_same_v<hid_t, std::int64_t>, "ArtifactFile keeps its hid_t in a std::int64_t");

// Up to this many elements a dataset is stored contiguously: a chunk index and a
// filter pipeline would cost more than they save on a few KiB.
constexpr std::int64_t kContiguousMaxElements = 1024;
// Bytes per chunk. Under HDF5's default 1 MiB per-dataset chunk cache, so reading
// consecutive rows decompresses each chunk once; big enough for deflate to find
// repetition and to keep the chunk index small; small enough that reading one row
// of a [series, bins] table decompresses at most 256 KiB.
constexpr std::int64_t kChunkBytes = std::int64_t{256} * 1024;
constexpr unsigned kDeflateLevel = 4;

// The one piece of process-wide state in core. HDF5 keeps global state (open-file
// list, free lists, error stacks) that is not locked unless the library was built
// thread-safe, and the GUI reads one run's file while a worker writes another's, so
// every HDF5 call of this module goes through this mutex. Recursive so that a
// Handle can close itself under it while a method already holds it.
std::recursive_mutex& hdf5Mutex()
{
    static std::recursive_mutex mutex;
    // HDF5 1.10 leaves a file whose H5Fclose failed (disk full: the final flush cannot be
    // written) registered with its structure already freed, and its atexit handler then
    // closes it again and segfaults (issue 21). Every file of this module is closed by its
    // owner before main returns (no code path exits the process from inside a job), so the
    // library's shutdown has nothing left to do: it is not registered. Must come before the
    // first HDF5 call, which this mutex always precedes.
    static const bool noLibraryShutdownAtExit = [] {
        H5dont_atexit();
        return true;
    }();
    (void)noLibraryShutdownAtExit;
    return mutex;
}

// Held for the whole of every public method.
class Hdf5Lock {
public:
    Hdf5Lock() : m_lock(hdf5Mutex())
    {
        // Failures become core::Error, so HDF5 must not print its error stack to
        // stderr. Thread-safe builds keep this setting per thread, so it is set on
        // every entry rather than once (it only stores two pointers).
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }

private:
    std::lock_guard<std::recursive_mutex> m_lock;
};

using Closer = herr_t (*)(hid_t);

// Owns one HDF5 identifier and releases it with the close function of its kind.
class Handle {
public:
    Handle(hid_t id, Closer closer) : m_id(id), m_close(closer) {}
    ~Handle() { reset(); }
    Handle(Handle&& other) noexcept : m_id(std::exchange(other.m_id, H5I_INVALID_HID)), m_close(other.m_close) {}
    Handle& operator=(Handle&& other) noexcept
    {
        if (this != &other) {
            reset();
            m_id = std::exchange(other.m_id, H5I_INVALID_HID);
            m_close = other.m_close;
        }
        return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    hid_t get() const { return m_id; }

private:
    void reset() noexcept
    {
        if (m_id >= 0) {
            const std::lock_guard<std::recursive_mutex> lock(hdf5Mutex());
            m_close(m_id);
            m_id = H5I_INVALID_HID;
        }
    }

    hid_t m_id;
    Closer m_close;
};

// The innermost entry of HDF5's error stack: the most specific reason it gives.
struct Hdf5Reason {
    bool found = false;
    hid_t minor = H5I_INVALID_HID;
    std::string description;
};

herr_t takeInnermost(unsigned depth, const H5E_error2_t* entry, void* data)
{
    if (depth == 0) {
        auto* reason = static_cast<Hdf5Reason*>(data);
        reason->found = true;
        reason->minor = entry->min_num;
        reason->description = entry->desc ? entry->desc : "";
    }
    return 0;
}

// The sec2 driver's description of a failed read or write carries the time, descriptor,
// buffer address and sizes around the OS's message; the user needs only the operation and the
// OS's reason ("file write failed: No space left on device").
std::string conciseDriverError(const std::string& description)
{
    const std::string marker = "error message = '";
    const auto start = description.find(marker);
    const auto operationEnd = description.find(':');
    if (start == std::string::npos || operationEnd == std::string::npos || operationEnd > start)
        return description;
    const auto messageStart = start + marker.size();
    const auto messageEnd = description.find('\'', messageStart);
    if (messageEnd == std::string::npos)
        return description;
    return description.substr(0, operationEnd) + ": " + description.substr(messageStart, messageEnd - messageStart);
}

// Reads the error stack left by the call that just failed (it is reset by the
// next API call, so this must come first).
std::string hdf5Reason()
{
    Hdf5Reason reason;
    if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, takeInnermost, &reason) < 0 || !reason.found)
        return {};
    char minor[160] = {};
    H5Eget_msg(reason.minor, nullptr, minor, sizeof minor);
    H5Eclear2(H5E_DEFAULT);
    std::string text = conciseDriverError(reason.description);
    if (minor[0] != '\0' && text.find(minor) == std::string::npos)
        text += text.empty() ? minor : std::string("; ") + minor;
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
}

// What an error message names: the file, and the object inside it when there is one.
struct Site {
    const std::string& file;
    std::string object;

    [[noreturn]] void fail(const std::string& what) const
    {
        throw Error(file + ": " + (object.empty() ? "" : object + ": ") + what);
    }
    // For a failed HDF5 call: adds HDF5's own reason.
    [[noreturn]] void failHdf5(const std::string& what) const
    {
        const std::string reason = hdf5Reason();
        fail(reason.empty() ? what : what + " (HDF5: " + reason + ")");
    }
};

template <typename R> R checked(R result, const Site& site, const std::string& what)
{
    if (result < 0)
        site.failHdf5(what);
    return result;
}

Handle hold(hid_t id, Closer closer, const Site& site, const std::string& what)
{
    return Handle(checked(id, site, what), closer);
}

// "/a//b.c/d" -> {"a", "b.c", "d"}. Dots are ordinary characters in HDF5 names.
std::vector<std::string> components(const std::string& path)
{
    std::vector<std::string> parts;
    std::size_t begin = 0;
    while (begin <= path.size()) {
        const std::size_t end = std::min(path.find('/', begin), path.size());
        if (end > begin)
            parts.push_back(path.substr(begin, end - begin));
        begin = end + 1;
    }
    return parts;
}

// One spelling per object, used both in HDF5 calls and in messages.
std::string canonical(const std::string& path)
{
    std::string result;
    for (const auto& part : components(path))
        result += "/" + part;
    return result.empty() ? "/" : result;
}

std::string formatShape(const std::vector<std::int64_t>& shape)
{
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

enum class Kind { Missing, Group, Dataset, Other };

// Never fails: anything HDF5 cannot resolve is Missing.
Kind kindAt(hid_t file, const std::string& path)
{
    if (path == "/")
        return Kind::Group;
    // H5Oopen rather than H5Lexists: it fails cleanly on a missing parent (where
    // H5Lexists reports an error instead of false) and tells groups from datasets.
    const hid_t object = H5Oopen(file, path.c_str(), H5P_DEFAULT);
    if (object < 0) {
        H5Eclear2(H5E_DEFAULT);
        return Kind::Missing;
    }
    const Handle owner(object, H5Oclose);
    switch (H5Iget_type(object)) {
    case H5I_GROUP:
        return Kind::Group;
    case H5I_DATASET:
        return Kind::Dataset;
    default:
        return Kind::Other;
    }
}

// ---- element types --------------------------------------------------------

template <typename T> struct Element;
template <> struct Element<float> {
    static constexpr const char* kName = "float32";
    static hid_t memoryType() { return H5T_NATIVE_FLOAT; }
    static hid_t fileType() { return H5T_IEEE_F32LE; }
};
template <> struct Element<double> {
    static constexpr const char* kName = "float64";
    static hid_t memoryType() { return H5T_NATIVE_DOUBLE; }
    static hid_t fileType() { return H5T_IEEE_F64LE; }
};
template <> struct Element<std::int64_t> {
    static constexpr const char* kName = "int64";
    static hid_t memoryType() { return H5T_NATIVE_INT64; }
    static hid_t fileType() { return H5T_STD_I64LE; }
};
template <> struct Element<std::uint8_t> {
    static constexpr const char* kName = "uint8";
    static hid_t memoryType() { return H5T_NATIVE_UINT8; }
    static hid_t fileType() { return H5T_STD_U8LE; }
};

std::string describeType(hid_t type)
{
    const std::string bits = std::to_string(8 * H5Tget_size(type));
    switch (H5Tget_class(type)) {
    case H5T_FLOAT:
        return "float" + bits;
    case H5T_INTEGER:
        return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + bits;
    case H5T_STRING:
        return "string";
    case H5T_ENUM:
        return "enum";
    case H5T_COMPOUND:
        return "compound";
    default:
        return "HDF5 type class " + std::to_string(static_cast<int>(H5Tget_class(type)));
    }
}

// Strict on purpose: class, size and signedness must all match, so that codes
// written as uint8 are never silently read back as floats (or the reverse).
template <typename T> bool typeMatches(hid_t type)
{
    const H5T_class_t typeClass = H5Tget_class(type);
    if (typeClass != (std::is_floating_point_v<T> ? H5T_FLOAT : H5T_INTEGER) || H5Tget_size(type) != sizeof(T))
        return false;
    return typeClass == H5T_FLOAT || (H5Tget_sign(type) == H5T_SGN_2) == std::is_signed_v<T>;
}

// ---- datasets --------------------------------------------------------------

std::int64_t requireShape(const Site& site, const std::vector<std::int64_t>& shape, std::size_t valueCount)
{
    if (shape.empty())
        site.fail("rank-0 datasets are not supported (empty shape)");
    if (shape.size() > H5S_MAX_RANK)
        site.fail("rank " + std::to_string(shape.size()) + " exceeds HDF5's maximum of " +
                  std::to_string(H5S_MAX_RANK));
    std::int64_t count = 1;
    for (const std::int64_t dim : shape) {
        if (dim < 0)
            site.fail("negative dimension in shape " + formatShape(shape));
        if (dim != 0 && count > std::numeric_limits<std::int64_t>::max() / dim)
            site.fail("shape " + formatShape(shape) + " is too large");
        count *= dim;
    }
    if (count != static_cast<std::int64_t>(valueCount))
        site.fail("shape " + formatShape(shape) + " has " + std::to_string(count) + " elements but " +
                  std::to_string(valueCount) + " values were given");
    return count;
}

// Chunks are made of whole trailing dimensions ("rows") as long as one row fits in
// kChunkBytes, as many rows as fit; a larger row is split along its own leading
// dimension the same way. Reading a row range then touches only the chunks holding it.
std::vector<hsize_t> chunkDims(const std::vector<std::int64_t>& shape, std::size_t elementSize)
{
    const std::int64_t target = std::max<std::int64_t>(1, kChunkBytes / static_cast<std::int64_t>(elementSize));
    std::vector<hsize_t> chunk(shape.begin(), shape.end());
    std::int64_t inner = shapeNumel(shape); // only called with no zero dimension
    for (std::size_t d = 0; d < shape.size(); ++d) {
        inner /= shape[d]; // elements per index of dimension d
        if (inner >= target) {
            chunk[d] = 1;
            continue;
        }
        chunk[d] = static_cast<hsize_t>(std::clamp<std::int64_t>(target / inner, 1, shape[d]));
        break;
    }
    return chunk;
}

Handle datasetCreation(const Site& site, const std::vector<std::int64_t>& shape, std::int64_t count,
                       std::size_t elementSize)
{
    Handle dcpl = hold(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, site, "cannot create property list");
    if (count <= kContiguousMaxElements)
        return dcpl;
    const std::vector<hsize_t> chunk = chunkDims(shape, elementSize);
    checked(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), site, "cannot set chunk shape");
    // Shuffle first: grouping the bytes of each significance lets deflate find the
    // repetition in the exponent and high bytes of floats and small integers.
    checked(H5Pset_shuffle(dcpl.get()), site, "cannot enable shuffle filter");
    checked(H5Pset_deflate(dcpl.get(), kDeflateLevel), site, "cannot enable deflate filter");
    return dcpl;
}

Handle linkCreation(const Site& site)
{
    Handle lcpl = hold(H5Pcreate(H5P_LINK_CREATE), H5Pclose, site, "cannot create property list");
    checked(H5Pset_create_intermediate_group(lcpl.get(), 1), site, "cannot enable intermediate groups");
    return lcpl;
}

// HDF5's own complaint about a dataset in the middle of a path ("message type not
// found") does not say which component is wrong, so look first.
void requireGroupParents(hid_t file, const Site& site)
{
    const std::vector<std::string> parts = components(site.object);
    std::string prefix;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        prefix += "/" + parts[i];
        const Kind kind = kindAt(file, prefix);
        if (kind == Kind::Missing)
            return; // created on the way
        if (kind != Kind::Group)
            site.fail(prefix + " is a dataset, not a group");
    }
}

template <typename T> void writeArray(hid_t file, const Site& site, const Array<T>& array)
{
    const std::int64_t count = requireShape(site, array.shape, array.values.size());
    if (site.object == "/")
        site.fail("the root group cannot be replaced by a dataset");
    requireGroupParents(file, site);
    switch (kindAt(file, site.object)) {
    case Kind::Missing:
        break;
    case Kind::Dataset:
        checked(H5Ldelete(file, site.object.c_str(), H5P_DEFAULT), site, "cannot replace dataset");
        break;
    default:
        site.fail("is a group, not replaced by a dataset");
    }
    const std::vector<hsize_t> dims(array.shape.begin(), array.shape.end());
    const Handle space = hold(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, site,
                              "cannot create dataspace");
    const Handle dcpl = datasetCreation(site, array.shape, count, sizeof(T));
    const Handle lcpl = linkCreation(site);
    const Handle dataset = hold(
        H5Dcreate2(file, site.object.c_str(), Element<T>::fileType(), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
        H5Dclose, site, "cannot create dataset");
    if (count > 0)
        checked(H5Dwrite(dataset.get(), Element<T>::memoryType(), H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()),
                site, "cannot write dataset");
}

Handle openDataset(hid_t file, const Site& site)
{
    switch (kindAt(file, site.object)) {
    case Kind::Dataset:
        return hold(H5Dopen2(file, site.object.c_str(), H5P_DEFAULT), H5Dclose, site, "cannot open dataset");
    case Kind::Missing:
        site.fail("no such dataset");
    default:
        site.fail("is a group, not a dataset");
    }
}

std::vector<std::int64_t> datasetShape(hid_t dataset, const Site& site)
{
    const Handle space = hold(H5Dget_space(dataset), H5Sclose, site, "cannot read dataspace");
    const int rank = checked(H5Sget_simple_extent_ndims(space.get()), site, "cannot read rank");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    checked(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), site, "cannot read shape");
    return {dims.begin(), dims.end()};
}

template <typename T> void requireType(hid_t dataset, const Site& site)
{
    const Handle type = hold(H5Dget_type(dataset), H5Tclose, site, "cannot read element type");
    if (!typeMatches<T>(type.get()))
        site.fail("dataset holds " + describeType(type.get()) + ", read as " + Element<T>::kName);
}

template <typename T> Array<T> readArray(hid_t file, const Site& site)
{
    const Handle dataset = openDataset(file, site);
    requireType<T>(dataset.get(), site);
    Array<T> array;
    array.shape = datasetShape(dataset.get(), site);
    array.values.resize(static_cast<std::size_t>(array.numel()));
    if (!array.values.empty())
        checked(H5Dread(dataset.get(), Element<T>::memoryType(), H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()),
                site, "cannot read dataset");
    return array;
}

template <typename T> Array<T> readRows(hid_t file, const Site& site, std::int64_t first, std::int64_t count)
{
    const Handle dataset = openDataset(file, site);
    requireType<T>(dataset.get(), site);
    const std::vector<std::int64_t> shape = datasetShape(dataset.get(), site);
    if (shape.empty())
        site.fail("has no rows (rank 0)");
    if (first < 0 || count < 0 || first > shape[0] - count)
        site.fail("cannot read " + std::to_string(count) + " rows from row " + std::to_string(first) + " of " +
                  std::to_string(shape[0]));
    Array<T> rows;
    rows.shape = shape;
    rows.shape[0] = count;
    rows.values.resize(static_cast<std::size_t>(rows.numel()));
    if (rows.values.empty())
        return rows;
    std::vector<hsize_t> start(shape.size(), 0);
    start[0] = static_cast<hsize_t>(first);
    const std::vector<hsize_t> extent(rows.shape.begin(), rows.shape.end());
    const Handle fileSpace = hold(H5Dget_space(dataset.get()), H5Sclose, site, "cannot read dataspace");
    checked(H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr), site,
            "cannot select rows");
    const Handle memorySpace = hold(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr), H5Sclose,
                                    site, "cannot create dataspace");
    checked(H5Dread(dataset.get(), Element<T>::memoryType(), memorySpace.get(), fileSpace.get(), H5P_DEFAULT,
                    rows.values.data()),
            site, "cannot read rows");
    return rows;
}

// ---- groups and attributes -----------------------------------------------

// A group or dataset, for attributes.
Handle openObject(hid_t file, const Site& site)
{
    if (kindAt(file, site.object) == Kind::Missing)
        site.fail("no such group or dataset");
    return hold(H5Oopen(file, site.object.c_str(), H5P_DEFAULT), H5Oclose, site, "cannot open object");
}

herr_t collectName(hid_t /*group*/, const char* name, const H5L_info_t* /*info*/, void* data)
{
    try {
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
    } catch (...) {
        return -1; // exceptions must not unwind through HDF5's C frames
    }
}

std::string attributeLabel(const std::string& name)
{
    return "attribute '" + name + "'";
}

void writeAttribute(hid_t object, const Site& site, const std::string& name, hid_t fileType, hid_t memoryType,
                    hid_t space, const void* data)
{
    const std::string label = attributeLabel(name);
    if (checked(H5Aexists(object, name.c_str()), site, "cannot look up " + label) > 0)
        checked(H5Adelete(object, name.c_str()), site, "cannot replace " + label);
    const Handle attribute = hold(H5Acreate2(object, name.c_str(), fileType, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                                  site, "cannot create " + label);
    if (data == nullptr)
        return; // an empty array: H5Awrite refuses a null buffer even for zero elements
    checked(H5Awrite(attribute.get(), memoryType, data), site, "cannot write " + label);
}

template <typename T>
void writeNumericAttribute(hid_t file, const Site& site, const std::string& name, const T* data, std::size_t count,
                           bool scalar)
{
    const Handle object = openObject(file, site);
    const hsize_t dims[1] = {count};
    const Handle space = hold(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, nullptr), H5Sclose, site,
                              "cannot create dataspace");
    writeAttribute(object.get(), site, name, Element<T>::fileType(), Element<T>::memoryType(), space.get(),
                   count == 0 ? nullptr : data);
}

Handle openAttribute(hid_t object, const Site& site, const std::string& name)
{
    const std::string label = attributeLabel(name);
    if (checked(H5Aexists(object, name.c_str()), site, "cannot look up " + label) <= 0)
        site.fail("no " + label);
    return hold(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, site, "cannot open " + label);
}

template <typename T> std::vector<T> readNumericAttribute(hid_t file, const Site& site, const std::string& name)
{
    const Handle object = openObject(file, site);
    const Handle attribute = openAttribute(object.get(), site, name);
    const std::string label = attributeLabel(name);
    const Handle type = hold(H5Aget_type(attribute.get()), H5Tclose, site, "cannot read type of " + label);
    if (!typeMatches<T>(type.get()))
        site.fail(label + " holds " + describeType(type.get()) + ", read as " + Element<T>::kName);
    const Handle space = hold(H5Aget_space(attribute.get()), H5Sclose, site, "cannot read dataspace of " + label);
    const hssize_t count = checked(H5Sget_simple_extent_npoints(space.get()), site, "cannot read size of " + label);
    std::vector<T> values(static_cast<std::size_t>(count));
    if (!values.empty())
        checked(H5Aread(attribute.get(), Element<T>::memoryType(), values.data()), site, "cannot read " + label);
    return values;
}

template <typename T> T readSingleAttribute(hid_t file, const Site& site, const std::string& name)
{
    const std::vector<T> values = readNumericAttribute<T>(file, site, name);
    if (values.size() != 1)
        site.fail(attributeLabel(name) + " has " + std::to_string(values.size()) + " elements, expected one");
    return values.front();
}

// Variable-length strings come back as a char* that HDF5 allocated; fixed-length
// ones (as other tools may write) into a buffer of their declared size.
std::string readStringValue(hid_t attribute, hid_t fileType, const Site& site, const std::string& label)
{
    const Handle memoryType = hold(H5Tcopy(H5T_C_S1), H5Tclose, site, "cannot create string type");
    checked(H5Tset_cset(memoryType.get(), H5Tget_cset(fileType)), site, "cannot set string encoding");
    if (checked(H5Tis_variable_str(fileType), site, "cannot read type of " + label) > 0) {
        checked(H5Tset_size(memoryType.get(), H5T_VARIABLE), site, "cannot set string size");
        char* text = nullptr;
        checked(H5Aread(attribute, memoryType.get(), &text), site, "cannot read " + label);
        std::string value = text ? text : "";
        H5free_memory(text);
        return value;
    }
    const std::size_t size = H5Tget_size(fileType);
    checked(H5Tset_size(memoryType.get(), size + 1), site, "cannot set string size"); // room for the terminator
    std::string buffer(size + 1, '\0');
    checked(H5Aread(attribute, memoryType.get(), buffer.data()), site, "cannot read " + label);
    return buffer.substr(0, buffer.find('\0'));
}

} // namespace

// ---- ArtifactFile ------------------------------------------------------------

ArtifactFile::ArtifactFile(std::string path, ArtifactMode mode) : m_path(std::move(path))
{
    const Hdf5Lock lock;
    const Site site{m_path, {}};
    namespace fs = std::filesystem;
    std::error_code ignored;
    if (mode == ArtifactMode::Create) {
        const fs::path parent = fs::path(m_path).parent_path();
        if (!parent.empty() && !fs::is_directory(parent, ignored))
            site.fail("cannot create: directory " + parent.string() + " does not exist");
    } else {
        if (!fs::exists(m_path, ignored))
            site.fail("no such file");
        if (fs::is_directory(m_path, ignored))
            site.fail("is a directory, not an HDF5 file");
        // H5Fis_hdf5 only looks for the signature, so a truncated file passes it and
        // fails in H5Fopen below instead.
        if (checked(H5Fis_hdf5(m_path.c_str()), site, "cannot read") == 0)
            site.fail("not an HDF5 file");
    }
    const Handle fapl = hold(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, site, "cannot create property list");
    // Keep HDF5's file lock (it stops another process from reading a file while it
    // is written) but do not fail on file systems without locks (some NFS mounts).
    checked(H5Pset_file_locking(fapl.get(), 1, 1), site, "cannot configure file locking");
    switch (mode) {
    case ArtifactMode::Create:
        m_file = checked(H5Fcreate(m_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), site, "cannot create");
        break;
    case ArtifactMode::ReadWrite:
        m_file = checked(H5Fopen(m_path.c_str(), H5F_ACC_RDWR, fapl.get()), site, "cannot open");
        break;
    case ArtifactMode::ReadOnly:
        m_file = checked(H5Fopen(m_path.c_str(), H5F_ACC_RDONLY, fapl.get()), site, "cannot open");
        break;
    }
}

ArtifactFile::~ArtifactFile()
{
    close();
}

ArtifactFile::ArtifactFile(ArtifactFile&& other) noexcept
    : m_path(std::move(other.m_path)), m_file(std::exchange(other.m_file, H5I_INVALID_HID))
{
}

ArtifactFile& ArtifactFile::operator=(ArtifactFile&& other) noexcept
{
    if (this != &other) {
        close();
        m_path = std::move(other.m_path);
        m_file = std::exchange(other.m_file, H5I_INVALID_HID);
    }
    return *this;
}

void ArtifactFile::close() noexcept
{
    if (m_file >= 0) {
        const Hdf5Lock lock;
        H5Fclose(m_file); // a failure here cannot be reported from a destructor
        m_file = H5I_INVALID_HID;
    }
}

std::int64_t ArtifactFile::fileId() const
{
    if (m_file < 0)
        throw Error("ArtifactFile used after being moved from");
    return m_file;
}

void ArtifactFile::write(const std::string& datasetPath, const FloatArray& array)
{
    const Hdf5Lock lock;
    writeArray(fileId(), Site{m_path, canonical(datasetPath)}, array);
}

void ArtifactFile::write(const std::string& datasetPath, const DoubleArray& array)
{
    const Hdf5Lock lock;
    writeArray(fileId(), Site{m_path, canonical(datasetPath)}, array);
}

void ArtifactFile::write(const std::string& datasetPath, const Int64Array& array)
{
    const Hdf5Lock lock;
    writeArray(fileId(), Site{m_path, canonical(datasetPath)}, array);
}

void ArtifactFile::write(const std::string& datasetPath, const ByteArray& array)
{
    const Hdf5Lock lock;
    writeArray(fileId(), Site{m_path, canonical(datasetPath)}, array);
}

FloatArray ArtifactFile::readFloat(const std::string& datasetPath) const
{
    const Hdf5Lock lock;
    return readArray<float>(fileId(), Site{m_path, canonical(datasetPath)});
}

DoubleArray ArtifactFile::readDouble(const std::string& datasetPath) const
{
    const Hdf5Lock lock;
    return readArray<double>(fileId(), Site{m_path, canonical(datasetPath)});
}

Int64Array ArtifactFile::readInt64(const std::string& datasetPath) const
{
    const Hdf5Lock lock;
    return readArray<std::int64_t>(fileId(), Site{m_path, canonical(datasetPath)});
}

ByteArray ArtifactFile::readBytes(const std::string& datasetPath) const
{
    const Hdf5Lock lock;
    return readArray<std::uint8_t>(fileId(), Site{m_path, canonical(datasetPath)});
}

FloatArray ArtifactFile::readFloatRows(const std::string& datasetPath, std::int64_t first, std::int64_t count) const
{
    const Hdf5Lock lock;
    return readRows<float>(fileId(), Site{m_path, canonical(datasetPath)}, first, count);
}

std::vector<std::int64_t> ArtifactFile::shape(const std::string& datasetPath) const
{
    const Hdf5Lock lock;
    const Site site{m_path, canonical(datasetPath)};
    const Handle dataset = openDataset(fileId(), site);
    return datasetShape(dataset.get(), site);
}

bool ArtifactFile::exists(const std::string& path) const
{
    const Hdf5Lock lock;
    return kindAt(fileId(), canonical(path)) != Kind::Missing;
}

void ArtifactFile::createGroup(const std::string& groupPath)
{
    const Hdf5Lock lock;
    const Site site{m_path, canonical(groupPath)};
    switch (kindAt(fileId(), site.object)) {
    case Kind::Group:
        return;
    case Kind::Missing: {
        requireGroupParents(fileId(), site);
        const Handle lcpl = linkCreation(site);
        hold(H5Gcreate2(fileId(), site.object.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose, site,
             "cannot create group");
        return;
    }
    default:
        site.fail("a dataset is in the way of the group");
    }
}

std::vector<std::string> ArtifactFile::children(const std::string& groupPath) const
{
    const Hdf5Lock lock;
    const Site site{m_path, canonical(groupPath)};
    if (kindAt(fileId(), site.object) != Kind::Group)
        site.fail("no such group");
    const Handle group =
        hold(H5Gopen2(fileId(), site.object.c_str(), H5P_DEFAULT), H5Gclose, site, "cannot open group");
    std::vector<std::string> names;
    checked(H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collectName, &names), site,
            "cannot list group");
    // HDF5's name index is already ordered, but this is the documented contract.
    std::sort(names.begin(), names.end());
    return names;
}

void ArtifactFile::setAttribute(const std::string& objectPath, const std::string& name, const std::string& value)
{
    const Hdf5Lock lock;
    const Site site{m_path, canonical(objectPath)};
    const Handle object = openObject(fileId(), site);
    // Variable-length UTF-8: h5py and friends read it back as str, not bytes.
    const Handle type = hold(H5Tcopy(H5T_C_S1), H5Tclose, site, "cannot create string type");
    checked(H5Tset_size(type.get(), H5T_VARIABLE), site, "cannot set string size");
    checked(H5Tset_cset(type.get(), H5T_CSET_UTF8), site, "cannot set string encoding");
    const Handle space = hold(H5Screate(H5S_SCALAR), H5Sclose, site, "cannot create dataspace");
    const char* text = value.c_str();
    writeAttribute(object.get(), site, name, type.get(), type.get(), space.get(), &text);
}

void ArtifactFile::setAttribute(const std::string& objectPath, const std::string& name, std::int64_t value)
{
    const Hdf5Lock lock;
    writeNumericAttribute(fileId(), Site{m_path, canonical(objectPath)}, name, &value, 1, true);
}

void ArtifactFile::setAttribute(const std::string& objectPath, const std::string& name, double value)
{
    const Hdf5Lock lock;
    writeNumericAttribute(fileId(), Site{m_path, canonical(objectPath)}, name, &value, 1, true);
}

void ArtifactFile::setAttribute(const std::string& objectPath, const std::string& name,
                                const std::vector<double>& values)
{
    const Hdf5Lock lock;
    writeNumericAttribute(fileId(), Site{m_path, canonical(objectPath)}, name, values.data(), values.size(), false);
}

std::string ArtifactFile::stringAttribute(const std::string& objectPath, const std::string& name) const
{
    const Hdf5Lock lock;
    const Site site{m_path, canonical(objectPath)};
    const Handle object = openObject(fileId(), site);
    const Handle attribute = openAttribute(object.get(), site, name);
    const std::string label = attributeLabel(name);
    const Handle type = hold(H5Aget_type(attribute.get()), H5Tclose, site, "cannot read type of " + label);
    if (H5Tget_class(type.get()) != H5T_STRING)
        site.fail(label + " holds " + describeType(type.get()) + ", read as string");
    const Handle space = hold(H5Aget_space(attribute.get()), H5Sclose, site, "cannot read dataspace of " + label);
    if (H5Sget_simple_extent_npoints(space.get()) != 1)
        site.fail(label + " is not a single string");
    return readStringValue(attribute.get(), type.get(), site, label);
}

std::int64_t ArtifactFile::int64Attribute(const std::string& objectPath, const std::string& name) const
{
    const Hdf5Lock lock;
    return readSingleAttribute<std::int64_t>(fileId(), Site{m_path, canonical(objectPath)}, name);
}

double ArtifactFile::doubleAttribute(const std::string& objectPath, const std::string& name) const
{
    const Hdf5Lock lock;
    return readSingleAttribute<double>(fileId(), Site{m_path, canonical(objectPath)}, name);
}

std::vector<double> ArtifactFile::doublesAttribute(const std::string& objectPath, const std::string& name) const
{
    const Hdf5Lock lock;
    return readNumericAttribute<double>(fileId(), Site{m_path, canonical(objectPath)}, name);
}

bool ArtifactFile::hasAttribute(const std::string& objectPath, const std::string& name) const
{
    const Hdf5Lock lock;
    const Site site{m_path, canonical(objectPath)};
    const Handle object = openObject(fileId(), site);
    return checked(H5Aexists(object.get(), name.c_str()), site, "cannot look up " + attributeLabel(name)) > 0;
}

void ArtifactFile::flush()
{
    const Hdf5Lock lock;
    checked(H5Fflush(fileId(), H5F_SCOPE_LOCAL), Site{m_path, {}}, "cannot flush");
}

void ArtifactFile::remove(const std::string& path)
{
    const Hdf5Lock lock;
    const Site site{m_path, canonical(path)};
    if (site.object == "/")
        site.fail("the root group cannot be removed");
    if (kindAt(fileId(), site.object) == Kind::Missing)
        site.fail("nothing to remove");
    checked(H5Ldelete(fileId(), site.object.c_str(), H5P_DEFAULT), site, "cannot remove");
}

} // namespace core
