internal import CHDF5
import CheckpointCore
import Foundation

/// Creates an HDF5 file: groups on demand, datasets from tensor bytes, string attributes.
///
/// Groups track and index link creation order, so a reader (ours, or h5py with
/// `track_order`) sees tensors in the order they were written.
final class HDF5Writer {
  let path: String
  private var file: HDF5Object?
  private var groups: [String: HDF5Object] = [:]
  private var datasets = Set<String>()

  /// Creates (truncates) the file at `path`.
  init(path: String) throws {
    self.path = path
    try HDF5Library.load(for: path)
    let creation = try HDF5Object.make("H5Pcreate", .propertyList) { H5Pcreate(ckh5_P_FILE_CREATE()) }
    try HDF5Library.call("H5Pset_link_creation_order") {
      H5Pset_link_creation_order(creation.id, UInt32(H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED))
    }
    let file = try HDF5Object.make("H5Fcreate", .file, failure: .io) {
      H5Fcreate(path, ckh5_F_ACC_TRUNC(), creation.id, ckh5_P_DEFAULT())
    }
    self.file = file
    groups[""] = try HDF5Object.make("H5Gopen2", .group) { H5Gopen2(file.id, "/", ckh5_P_DEFAULT()) }
  }

  /// Flushes and closes the file; call before the atomic rename.
  func close() throws {
    groups.removeAll()
    guard let file else { return }
    try HDF5Library.call("H5Fflush", kind: .io) { H5Fflush(file.id, H5F_SCOPE_GLOBAL) }
    self.file = nil  // the last reference: H5Fclose runs now
  }

  /// The group at `path` (slash-separated, `""` for the root), created with its parents.
  func group(_ path: String) throws -> HDF5Object {
    if let group = groups[path] { return group }
    guard !datasets.contains(path) else {
      throw CheckpointError(.invalidArgument, "'\(path)' is a dataset and cannot also be a group")
    }
    let (parentPath, name) = Self.split(path)
    let parent = try group(parentPath)
    let creation = try HDF5Object.make("H5Pcreate", .propertyList) { H5Pcreate(ckh5_P_GROUP_CREATE()) }
    try HDF5Library.call("H5Pset_link_creation_order") {
      H5Pset_link_creation_order(creation.id, UInt32(H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED))
    }
    let group = try HDF5Object.make("H5Gcreate2", .group) {
      H5Gcreate2(parent.id, name, ckh5_P_DEFAULT(), creation.id, ckh5_P_DEFAULT())
    }
    groups[path] = group
    return group
  }

  static func split(_ path: String) -> (parent: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return ("", path) }
    return (String(path[..<slash]), String(path[path.index(after: slash)...]))
  }

  /// Checks that `name` can be an HDF5 path: non-empty components, no `.` or `..`.
  static func validate(name: String) throws {
    let parts = name.split(separator: "/", omittingEmptySubsequences: false)
    guard !name.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
      throw CheckpointError(
        .invalidArgument, "tensor name cannot be an HDF5 path (empty, '.' or '..' part)",
        tensor: name)
    }
  }

  /// Writes `bytes` (little-endian, row-major) as a dataset at `path`.
  ///
  /// - Parameters:
  ///   - compression: gzip level (1–9) with the shuffle filter, in chunks; `nil` for contiguous storage.
  ///   - dtypeAttribute: for bf16 and float8 (stored opaque, as Keras 3 and h5py do),
  ///     the `dtype` attribute naming the real type.
  func writeDataset(
    _ path: String, dtype: DType, shape: [Int], bytes: TensorBytes, compression: Int?
  ) throws {
    try Self.validate(name: path)
    let (parentPath, name) = Self.split(path)
    let parent = try group(parentPath)
    guard !datasets.contains(path), groups[path] == nil else {
      throw CheckpointError(.duplicateName, "'\(path)' is written twice (or is also a group)", tensor: path)
    }
    let type = try Self.fileType(dtype)
    let dims = shape.map { hsize_t($0) }
    let space = try HDF5Object.make("H5Screate_simple", .dataspace) {
      shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
    }
    let creation = try HDF5Object.make("H5Pcreate", .propertyList) { H5Pcreate(ckh5_P_DATASET_CREATE()) }
    if let level = compression, !shape.isEmpty {
      guard try HDF5Library.call("H5Zfilter_avail", { H5Zfilter_avail(H5Z_FILTER_DEFLATE) }) > 0 else {
        throw CheckpointError(.unsupported, "this libhdf5 has no gzip filter")
      }
      let chunks = Self.chunkShape(shape, elementSize: dtype.blockBytes).map { hsize_t($0) }
      try HDF5Library.call("H5Pset_chunk") { H5Pset_chunk(creation.id, Int32(chunks.count), chunks) }
      try HDF5Library.call("H5Pset_shuffle") { H5Pset_shuffle(creation.id) }
      try HDF5Library.call("H5Pset_deflate") { H5Pset_deflate(creation.id, UInt32(level)) }
    }
    let dataset = try HDF5Object.make("H5Dcreate2", .dataset, failure: .io) {
      H5Dcreate2(parent.id, name, type.id, space.id, ckh5_P_DEFAULT(), creation.id, ckh5_P_DEFAULT())
    }
    datasets.insert(path)
    if bytes.count > 0 {
      _ = try bytes.withUnsafeBytes { raw in
        try HDF5Library.call("H5Dwrite", kind: .io) {
          H5Dwrite(dataset.id, type.id, ckh5_S_ALL(), ckh5_S_ALL(), ckh5_P_DEFAULT(), raw.baseAddress)
        }
      }
    }
    if let name = HDF5Datatype.opaqueDTypes.first(where: { $0.value == dtype })?.key {
      try setAttribute(dataset, "dtype", .string(name))
    }
  }

  /// Chunk dimensions of about 1 MiB at most: the dataset's shape with the
  /// outermost dimensions halved until a chunk fits.
  static func chunkShape(_ shape: [Int], elementSize: Int) -> [Int] {
    var chunks = shape.map { max($0, 1) }
    let limit = 1 << 20
    func bytes() -> Int { chunks.reduce(elementSize) { $0.multipliedReportingOverflow(by: $1).partialValue } }
    var axis = 0
    while bytes() > limit, chunks.contains(where: { $0 > 1 }) {
      if chunks[axis] > 1 { chunks[axis] = (chunks[axis] + 1) / 2 }
      if chunks[axis] == 1 || bytes() <= limit { axis = min(axis + 1, chunks.count - 1) }
      if axis == chunks.count - 1, chunks[axis] == 1 { break }
    }
    return chunks
  }

  /// Sets a string attribute on the root (`""`) or a group.
  func setAttribute(onGroup path: String, _ name: String, _ value: AttributeText) throws {
    try setAttribute(try group(path), name, value)
  }

  /// A string attribute's value and storage.
  enum AttributeText {
    /// One variable-length UTF-8 string (what h5py writes for `str`).
    case string(String)
    /// A 1-d array of variable-length UTF-8 strings (tf.keras `layer_names`).
    case strings([String])
  }

  func setAttribute(_ object: HDF5Object, _ name: String, _ value: AttributeText) throws {
    let type = try HDF5Object.make("H5Tcopy", .datatype) { H5Tcopy(ckh5_T_C_S1()) }
    try HDF5Library.call("H5Tset_size") { H5Tset_size(type.id, ckh5_T_VARIABLE()) }
    try HDF5Library.call("H5Tset_cset") { H5Tset_cset(type.id, H5T_CSET_UTF8) }
    let strings: [String]
    let space: HDF5Object
    switch value {
    case .string(let text):
      strings = [text]
      space = try HDF5Object.make("H5Screate", .dataspace) { H5Screate(H5S_SCALAR) }
    case .strings(let list):
      strings = list
      var dims = [hsize_t(list.count)]
      space = try HDF5Object.make("H5Screate_simple", .dataspace) { H5Screate_simple(1, &dims, nil) }
    }
    let attribute = try HDF5Object.make("H5Acreate2", .attribute, failure: .io) {
      H5Acreate2(object.id, name, type.id, space.id, ckh5_P_DEFAULT(), ckh5_P_DEFAULT())
    }
    // Variable-length strings are written as an array of C string pointers.
    var storage = strings.map { strdup($0) }
    defer { for pointer in storage { free(pointer) } }
    try HDF5Library.call("H5Awrite", kind: .io) { H5Awrite(attribute.id, type.id, &storage) }
  }

  /// The little-endian file type for `dtype`.
  static func fileType(_ dtype: DType) throws -> HDF5Object {
    func copy(_ base: hid_t) throws -> HDF5Object {
      try HDF5Object.make("H5Tcopy", .datatype) { H5Tcopy(base) }
    }
    switch dtype {
    case .f64: return try copy(ckh5_T_IEEE_F64LE())
    case .f32: return try copy(ckh5_T_IEEE_F32LE())
    case .f16:
      // IEEE half precision, built the way h5py builds it.
      let type = try copy(ckh5_T_IEEE_F32LE())
      try HDF5Library.call("H5Tset_fields") { H5Tset_fields(type.id, 15, 10, 5, 0, 10) }
      try HDF5Library.call("H5Tset_size") { H5Tset_size(type.id, 2) }
      try HDF5Library.call("H5Tset_ebias") { H5Tset_ebias(type.id, 15) }
      return type
    case .i64: return try copy(ckh5_T_STD_I64LE())
    case .i32: return try copy(ckh5_T_STD_I32LE())
    case .i16: return try copy(ckh5_T_STD_I16LE())
    case .i8: return try copy(ckh5_T_STD_I8LE())
    case .u64: return try copy(ckh5_T_STD_U64LE())
    case .u32: return try copy(ckh5_T_STD_U32LE())
    case .u16: return try copy(ckh5_T_STD_U16LE())
    case .u8: return try copy(ckh5_T_STD_U8LE())
    case .bool:
      // NumPy booleans as h5py stores them: an 8-bit enum {FALSE = 0, TRUE = 1}.
      let type = try HDF5Object.make("H5Tenum_create", .datatype) { H5Tenum_create(ckh5_T_STD_I8LE()) }
      var no: Int8 = 0
      var yes: Int8 = 1
      try HDF5Library.call("H5Tenum_insert") { H5Tenum_insert(type.id, "FALSE", &no) }
      try HDF5Library.call("H5Tenum_insert") { H5Tenum_insert(type.id, "TRUE", &yes) }
      return type
    case .bf16, .f8e4m3, .f8e5m2:
      // No HDF5 type: opaque bytes plus a `dtype` attribute, as Keras 3 writes bf16.
      return try HDF5Object.make("H5Tcreate", .datatype) { H5Tcreate(H5T_OPAQUE, dtype.blockBytes) }
    case .q8_0, .q4_0:
      throw CheckpointError(
        .unsupportedDType, "HDF5 has no \(dtype.name) block type; dequantize first or use GGUF")
    }
  }
}
