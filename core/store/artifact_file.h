#pragma once
// One run's array store, runs/<id>/artifacts.h5 (ARCHITECTURE.md, "Storage"):
// calibration offsets, per-Linear codes/scales/zeros, histograms as 2-D
// [series, bins] tables, projections and saliency maps, addressed by
// '/'-separated paths such as "/layers/model.layers.3.mlp.down_proj/codes".
//
// HDF5 stays behind this interface: the header does not include hdf5.h.
//
// Threads: every method may be called from any thread. The HDF5 library is not
// safe to enter from two threads at once, so all HDF5 calls made by this module
// are serialized through one process-wide mutex; a long write to one file
// therefore delays a read of another file for its duration.

#include "util/shape.h"

#include <cstdint>
#include <string>
#include <vector>

namespace core {

/// A dense row-major array: `values.size()` must equal the product of `shape`.
template <typename T> struct Array {
    std::vector<std::int64_t> shape;
    std::vector<T> values;

    std::int64_t numel() const { return shapeNumel(shape); }
};

using FloatArray = Array<float>;
using DoubleArray = Array<double>;
using Int64Array = Array<std::int64_t>;
using ByteArray = Array<std::uint8_t>;

enum class ArtifactMode {
    Create,    ///< create, truncating an existing file
    ReadWrite, ///< open an existing file for reading and writing
    ReadOnly,  ///< open an existing file for reading
};

/// An open artifacts file. Move-only; closing happens in the destructor. A
/// moved-from object may only be destroyed or assigned to.
///
/// Paths: "/a/b/c" (a leading '/' is implied, repeated '/' are ignored, "/" is the
/// root group). Names may contain dots. Every method that fails throws core::Error
/// with a one-line message naming the file and the group/dataset/attribute at
/// fault (plus HDF5's own reason where it gives one).
class ArtifactFile {
public:
    /// Opens or creates `path`. Throws core::Error naming the path when the file is
    /// missing (ReadWrite/ReadOnly), is not HDF5, is truncated or corrupt, or when
    /// the parent directory of a file to create does not exist.
    ArtifactFile(std::string path, ArtifactMode mode);
    ~ArtifactFile();
    ArtifactFile(ArtifactFile&& other) noexcept;
    ArtifactFile& operator=(ArtifactFile&& other) noexcept;
    ArtifactFile(const ArtifactFile&) = delete;
    ArtifactFile& operator=(const ArtifactFile&) = delete;

    const std::string& path() const { return m_path; }

    /// Writes `array` as dataset `datasetPath` (rank 1 or more), creating missing
    /// groups on the way and replacing a dataset already at that path (any type or
    /// shape). Datasets of more than 1024 elements are chunked by rows and
    /// compressed (shuffle + deflate). Throws if the shape is empty or negative,
    /// does not match `values.size()`, the path names a group, or the file is
    /// read-only.
    void write(const std::string& datasetPath, const FloatArray& array);
    void write(const std::string& datasetPath, const DoubleArray& array);
    void write(const std::string& datasetPath, const Int64Array& array);
    void write(const std::string& datasetPath, const ByteArray& array);

    /// Reads a whole dataset. The stored element type must be exactly the one asked
    /// for (float32, float64, int64, uint8); otherwise throws naming both types.
    /// Also throws if the dataset does not exist.
    FloatArray readFloat(const std::string& datasetPath) const;
    DoubleArray readDouble(const std::string& datasetPath) const;
    Int64Array readInt64(const std::string& datasetPath) const;
    ByteArray readBytes(const std::string& datasetPath) const;

    /// Rows [first, first + count) along the first dimension of a float32 dataset
    /// of rank >= 1, read through a hyperslab so that only the chunks holding them
    /// are decompressed (the GUI reads one row of a large [series, bins] table).
    /// The result has shape [count, dims[1:]...]. Throws if the range is outside
    /// [0, dims[0]] or the dataset is not float32.
    FloatArray readFloatRows(const std::string& datasetPath, std::int64_t first, std::int64_t count) const;

    /// Shape of a dataset; throws if `datasetPath` is not a dataset.
    std::vector<std::int64_t> shape(const std::string& datasetPath) const;

    /// True if a group or dataset exists at `path` ("/" always exists). Missing
    /// intermediate groups give false; never throws for a valid open file.
    bool exists(const std::string& path) const;

    /// Creates group `groupPath` and any missing parents; nothing happens if it
    /// already exists. Throws if a dataset is in the way.
    void createGroup(const std::string& groupPath);

    /// Names (not paths) of the direct children of a group, sorted by byte value.
    /// Throws if `groupPath` is not a group.
    std::vector<std::string> children(const std::string& groupPath) const;

    /// Sets attribute `name` on the group or dataset at `objectPath`, replacing an
    /// existing one of that name. Strings are stored as variable-length UTF-8,
    /// integers as int64, doubles as float64 (a vector as a 1-D array). Throws if
    /// the object does not exist.
    void setAttribute(const std::string& objectPath, const std::string& name, const std::string& value);
    void setAttribute(const std::string& objectPath, const std::string& name, std::int64_t value);
    /// Stored as int64; spares callers a cast, since a plain `3` would be ambiguous
    /// between the int64 and double overloads.
    void setAttribute(const std::string& objectPath, const std::string& name, int value)
    {
        setAttribute(objectPath, name, static_cast<std::int64_t>(value));
    }
    void setAttribute(const std::string& objectPath, const std::string& name, double value);
    void setAttribute(const std::string& objectPath, const std::string& name, const std::vector<double>& values);

    /// Reads attribute `name` of the object at `objectPath`. Throws naming the
    /// object and the attribute if either is missing, or if the stored type differs
    /// (int64Attribute/doubleAttribute also require exactly one element).
    std::string stringAttribute(const std::string& objectPath, const std::string& name) const;
    std::int64_t int64Attribute(const std::string& objectPath, const std::string& name) const;
    double doubleAttribute(const std::string& objectPath, const std::string& name) const;
    std::vector<double> doublesAttribute(const std::string& objectPath, const std::string& name) const;

    /// True if the object at `objectPath` has attribute `name`; throws if the
    /// object itself does not exist (use exists() first when unsure).
    bool hasAttribute(const std::string& objectPath, const std::string& name) const;

    /// Pushes buffered data to disk, so that the file is complete even if the
    /// process dies before the destructor runs.
    void flush();

    /// Unlinks the group or dataset at `path` (a group with everything below it).
    /// The space is not reclaimed inside the file. Throws if nothing is there or
    /// `path` is the root group.
    void remove(const std::string& path);

private:
    std::int64_t fileId() const;
    void close() noexcept;

    std::string m_path;
    std::int64_t m_file = -1; // HDF5 hid_t (checked against hid_t in the .cpp)
};

} // namespace core
