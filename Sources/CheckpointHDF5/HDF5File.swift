internal import CHDF5
import CheckpointCore

/// An HDF5 file opened read-only: its tree (headers only) and lazy dataset reads.
///
/// Opening runs the safety checks first (``HDF5Safety``): libhdf5 is not
/// hardened against hostile files, so a file is only opened in this process
/// after the cheap structural checks and the child-process probe passed.
final class HDF5File: @unchecked Sendable {
  /// The path the file was opened from.
  let path: String
  let handle: HDF5Object
  /// The file's size in bytes when opened.
  let fileSize: Int

  /// Limits that keep a hostile file from exhausting memory or recursing forever.
  static let maximumDepth = 64
  static let maximumObjects = 1_000_000
  static let maximumAttributeBytes = 64 << 20

  /// Opens `path` read-only after the safety checks.
  init(path: String, probe: Bool = true) throws {
    self.path = path
    try HDF5Library.load(for: path)
    self.fileSize = try HDF5Safety.preValidate(path: path)
    if probe { try HDF5Safety.probeInChildProcess(path: path) }
    handle = try HDF5Object.make("H5Fopen", .file) {
      H5Fopen(path, ckh5_F_ACC_RDONLY(), ckh5_P_DEFAULT())
    }
  }

  // MARK: Tree

  /// Reads the whole tree: groups, datasets' headers and all attributes.
  func tree() throws -> HDF5Node {
    var visited = Set<haddr_t>()
    var count = 0
    return try HDF5Library.locked {
      let root = try HDF5Object.make("H5Gopen2", .group) { H5Gopen2(handle.id, "/", ckh5_P_DEFAULT()) }
      return try walkGroup(root, name: "", path: "", depth: 0, visited: &visited, count: &count)
    }
  }

  private func walkGroup(
    _ group: HDF5Object, name: String, path: String, depth: Int, visited: inout Set<haddr_t>, count: inout Int
  ) throws -> HDF5Node {
    guard depth < Self.maximumDepth else {
      throw CheckpointError(.corrupt, "groups nested deeper than \(Self.maximumDepth) at '/\(path)'")
    }
    var node = HDF5Node(
      name: name, path: path, kind: .group, attributes: try attributes(of: group.id, at: path), children: [],
      dataset: nil)
    var info = H5G_info_t()
    try HDF5Library.call("H5Gget_info") { H5Gget_info(group.id, &info) }
    guard info.nlinks <= UInt64(Self.maximumObjects) else {
      throw CheckpointError(.corrupt, "group '/\(path)' declares \(info.nlinks) links")
    }
    let index = try tracksCreationOrder(group.id) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME
    var children: [HDF5Node] = []
    for i in 0..<info.nlinks {
      let linkName = try self.linkName(group.id, index: index, position: i)
      let childPath = path.isEmpty ? linkName : path + "/" + linkName
      var link = H5L_info_t()
      try HDF5Library.call("H5Lget_info") { H5Lget_info(group.id, linkName, &link, ckh5_P_DEFAULT()) }
      // Soft and external links are not followed: an external link would open
      // another (unchecked) file.
      guard link.type == H5L_TYPE_HARD else { continue }
      var object = H5O_info_t()
      try HDF5Library.call("H5Oget_info_by_name2") {
        H5Oget_info_by_name2(group.id, linkName, &object, UInt32(H5O_INFO_BASIC), ckh5_P_DEFAULT())
      }
      count += 1
      guard count <= Self.maximumObjects else {
        throw CheckpointError(.corrupt, "more than \(Self.maximumObjects) objects")
      }
      switch object.type {
      case H5O_TYPE_GROUP:
        // A group reached twice (hard-link cycle or alias) is listed once.
        guard visited.insert(object.addr).inserted else { continue }
        let child = try HDF5Object.make("H5Gopen2", .group) { H5Gopen2(group.id, linkName, ckh5_P_DEFAULT()) }
        children.append(
          try walkGroup(
            child, name: linkName, path: childPath, depth: depth + 1, visited: &visited, count: &count))
      case H5O_TYPE_DATASET:
        let dataset = try HDF5Object.make("H5Dopen2", .dataset) {
          H5Dopen2(group.id, linkName, ckh5_P_DEFAULT())
        }
        let attributes = try self.attributes(of: dataset.id, at: childPath)
        let info = try CheckpointError.locating(tensor: childPath) {
          try datasetInfo(dataset, attributes: attributes)
        }
        children.append(
          HDF5Node(
            name: linkName, path: childPath, kind: .dataset, attributes: attributes, children: [],
            dataset: info))
      default:
        continue
      }
    }
    if index == H5_INDEX_NAME { children = Self.naturalOrder(children) }
    node.children = children
    return node
  }

  /// Children in numeric order when every name is a number (Keras 3 `vars/0`,
  /// `vars/1`, …, `vars/10`), otherwise unchanged (name order).
  static func naturalOrder(_ nodes: [HDF5Node]) -> [HDF5Node] {
    let numbers = nodes.map { node -> Int? in
      node.name.allSatisfy(\.isASCII) ? Int(node.name) : nil
    }
    guard !nodes.isEmpty, numbers.allSatisfy({ $0 != nil }) else { return nodes }
    return zip(nodes, numbers).sorted { $0.1! < $1.1! }.map(\.0)
  }

  private func tracksCreationOrder(_ group: hid_t) throws -> Bool {
    let plist = try HDF5Object.make("H5Gget_create_plist", .propertyList) { H5Gget_create_plist(group) }
    var flags: UInt32 = 0
    try HDF5Library.call("H5Pget_link_creation_order") { H5Pget_link_creation_order(plist.id, &flags) }
    return flags & UInt32(H5P_CRT_ORDER_INDEXED) != 0
  }

  private func linkName(_ group: hid_t, index: H5_index_t, position: hsize_t) throws -> String {
    let length = try HDF5Library.call("H5Lget_name_by_idx") {
      H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, position, nil, 0, ckh5_P_DEFAULT())
    }
    guard length > 0, length < 1 << 20 else {
      throw CheckpointError(.corrupt, "link name of \(length) bytes")
    }
    var buffer = [CChar](repeating: 0, count: length + 1)
    try HDF5Library.call("H5Lget_name_by_idx") {
      H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, position, &buffer, length + 1, ckh5_P_DEFAULT())
    }
    return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  // MARK: Datasets

  private func datasetInfo(_ dataset: HDF5Object, attributes: [HDF5Attribute]) throws -> HDF5DatasetInfo {
    let type = try HDF5Object.make("H5Dget_type", .datatype) { H5Dget_type(dataset.id) }
    var dtypeAttribute: String?
    if case .string(let name)? = attributes.first(where: { $0.name == "dtype" })?.value {
      dtypeAttribute = name
    }
    let datatype = try HDF5Datatype.classify(type.id, dtypeAttribute: dtypeAttribute)
    let space = try HDF5Object.make("H5Dget_space", .dataspace) { H5Dget_space(dataset.id) }
    let shape = try Self.shape(of: space.id)
    let plist = try HDF5Object.make("H5Dget_create_plist", .propertyList) { H5Dget_create_plist(dataset.id) }
    let layoutCode = try HDF5Library.enumeration("H5Pget_layout", { H5Pget_layout(plist.id) })
    var layout = "contiguous"
    var chunks: [Int]?
    switch layoutCode {
    case H5D_CHUNKED:
      layout = "chunked"
      var dims = [hsize_t](repeating: 0, count: Int(H5S_MAX_RANK))
      let rank = try HDF5Library.call("H5Pget_chunk") { H5Pget_chunk(plist.id, Int32(H5S_MAX_RANK), &dims) }
      chunks = dims.prefix(Int(rank)).map { Int(clamping: $0) }
    case H5D_COMPACT: layout = "compact"
    case H5D_VIRTUAL: layout = "virtual"
    default: break
    }
    let filterCount = try HDF5Library.call("H5Pget_nfilters") { H5Pget_nfilters(plist.id) }
    var filters: [String] = []
    for index in 0..<UInt32(filterCount) {
      var flags: UInt32 = 0
      var valueCount = 8
      var values = [UInt32](repeating: 0, count: 8)
      var name = [CChar](repeating: 0, count: 64)
      var config: UInt32 = 0
      let filter = try HDF5Library.call("H5Pget_filter2") {
        H5Pget_filter2(plist.id, index, &flags, &valueCount, &values, 64, &name, &config)
      }
      switch filter {
      case H5Z_FILTER_DEFLATE: filters.append(valueCount > 0 ? "gzip:\(values[0])" : "gzip")
      case H5Z_FILTER_SHUFFLE: filters.append("shuffle")
      case H5Z_FILTER_FLETCHER32: filters.append("fletcher32")
      case H5Z_FILTER_SZIP: filters.append("szip")
      case H5Z_FILTER_NBIT: filters.append("nbit")
      case H5Z_FILTER_SCALEOFFSET: filters.append("scaleoffset")
      default:
        let text = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        filters.append("filter \(filter)" + (text.isEmpty ? "" : " (\(text))"))
      }
    }
    let stored = HDF5Library.locked { H5Dget_storage_size(dataset.id) }
    return HDF5DatasetInfo(
      dtype: datatype.dtype, typeDescription: datatype.description, shape: shape, layout: layout,
      chunks: chunks,
      filters: filters, storedBytes: Int(clamping: stored))
  }

  /// The dimensions of a dataspace: `[]` for scalar, `nil` for null.
  static func shape(of space: hid_t) throws -> [Int]? {
    let kind = try HDF5Library.enumeration("H5Sget_simple_extent_type", { H5Sget_simple_extent_type(space) })
    switch kind {
    case H5S_SCALAR: return []
    case H5S_NULL: return nil
    case H5S_SIMPLE:
      let rank = try HDF5Library.call("H5Sget_simple_extent_ndims") { H5Sget_simple_extent_ndims(space) }
      guard rank <= H5S_MAX_RANK else { throw CheckpointError(.corrupt, "dataspace of rank \(rank)") }
      var dims = [hsize_t](repeating: 0, count: Int(rank))
      try HDF5Library.call("H5Sget_simple_extent_dims") { H5Sget_simple_extent_dims(space, &dims, nil) }
      return try dims.map { value in
        guard value <= UInt64(Int.max) else {
          throw CheckpointError(.invalidShape, "dimension \(value) too large")
        }
        return Int(value)
      }
    default:
      throw CheckpointError(.corrupt, "unknown dataspace class")
    }
  }

  /// Reads the dataset at `path` as little-endian bytes of `dtype`.
  func read(path: String, dtype: DType, shape: [Int], storedBytes: Int) throws -> TensorBytes {
    let count = try Shape.byteCount(shape, dtype: dtype)
    // A hostile header can declare a huge extent with little or no storage;
    // zlib cannot expand more than ~1032:1, so anything beyond is refused
    // before allocating.
    let (limit, overflow) = max(storedBytes, 1).multipliedReportingOverflow(by: 1100)
    if count > (64 << 20), !overflow, count > limit {
      throw CheckpointError(.corrupt, "dataset declares \(count) bytes but stores only \(storedBytes)")
    }
    return try HDF5Library.locked {
      let dataset = try HDF5Object.make("H5Dopen2", .dataset) {
        H5Dopen2(handle.id, "/" + path, ckh5_P_DEFAULT())
      }
      let type = try HDF5Object.make("H5Dget_type", .datatype) { H5Dget_type(dataset.id) }
      var dtypeAttribute: String?
      if dtype == .bf16 || dtype == .f8e4m3 || dtype == .f8e5m2 {
        dtypeAttribute = HDF5Datatype.opaqueDTypes.first { $0.value == dtype }?.key
      }
      let datatype = try HDF5Datatype.classify(type.id, dtypeAttribute: dtypeAttribute)
      guard datatype.dtype == dtype, let memoryType = datatype.memoryType else {
        throw CheckpointError(.corrupt, "dataset type changed since the headers were read")
      }
      let space = try HDF5Object.make("H5Dget_space", .dataspace) { H5Dget_space(dataset.id) }
      guard try Self.shape(of: space.id) == shape else {
        throw CheckpointError(.corrupt, "dataset shape changed since the headers were read")
      }
      guard count > 0 else { return .empty }
      return try TensorBytes.allocate(count: count) { buffer in
        try HDF5Library.call("H5Dread", kind: .corrupt) {
          H5Dread(dataset.id, memoryType.id, ckh5_S_ALL(), ckh5_S_ALL(), ckh5_P_DEFAULT(), buffer.baseAddress)
        }
      }
    }
  }

  // MARK: Attributes

  private func attributes(of object: hid_t, at path: String) throws -> [HDF5Attribute] {
    var info = H5O_info_t()
    try HDF5Library.call("H5Oget_info2") { H5Oget_info2(object, &info, UInt32(H5O_INFO_NUM_ATTRS)) }
    guard info.num_attrs < 1 << 16 else {
      throw CheckpointError(.corrupt, "object '/\(path)' declares \(info.num_attrs) attributes")
    }
    var result: [HDF5Attribute] = []
    for i in 0..<info.num_attrs {
      let attribute = try HDF5Object.make("H5Aopen_by_idx", .attribute) {
        H5Aopen_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, i, ckh5_P_DEFAULT(), ckh5_P_DEFAULT())
      }
      let length = try HDF5Library.call("H5Aget_name") { H5Aget_name(attribute.id, 0, nil) }
      guard length < 1 << 16 else { throw CheckpointError(.corrupt, "attribute name of \(length) bytes") }
      var buffer = [CChar](repeating: 0, count: length + 1)
      try HDF5Library.call("H5Aget_name") { H5Aget_name(attribute.id, length + 1, &buffer) }
      let name = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
      let value = try CheckpointError.locating(tensor: path.isEmpty ? "/" : path) {
        try attributeValue(attribute)
      }
      result.append(HDF5Attribute(name: name, value: value))
    }
    return result
  }

  private func attributeValue(_ attribute: HDF5Object) throws -> HDF5AttributeValue {
    let type = try HDF5Object.make("H5Aget_type", .datatype) { H5Aget_type(attribute.id) }
    let space = try HDF5Object.make("H5Aget_space", .dataspace) { H5Aget_space(attribute.id) }
    guard let shape = try Self.shape(of: space.id) else { return .other("empty") }
    let elements = try Shape.elementCount(shape)
    let typeClass = try HDF5Library.enumeration("H5Tget_class", { H5Tget_class(type.id) })
    let size = try HDF5Library.size("H5Tget_size") { Int(H5Tget_size(type.id)) }
    let (total, overflow) = elements.multipliedReportingOverflow(by: max(size, 8))
    guard !overflow, total <= Self.maximumAttributeBytes else {
      throw CheckpointError(.corrupt, "attribute of \(elements) elements of \(size) bytes is too large")
    }
    switch typeClass {
    case H5T_STRING:
      let strings = try readStrings(attribute, type: type.id, count: elements)
      return shape.isEmpty ? .string(strings.first ?? "") : .strings(strings)
    case H5T_INTEGER:
      var values = [Int64](repeating: 0, count: elements)
      if elements > 0 {
        try HDF5Library.call("H5Aread") { H5Aread(attribute.id, ckh5_T_STD_I64LE(), &values) }
      }
      return .integers(values)
    case H5T_FLOAT:
      var values = [Double](repeating: 0, count: elements)
      if elements > 0 {
        try HDF5Library.call("H5Aread") { H5Aread(attribute.id, ckh5_T_IEEE_F64LE(), &values) }
      }
      return .floats(values)
    default:
      let datatype = try HDF5Datatype.classify(type.id, dtypeAttribute: nil)
      return .other(datatype.description)
    }
  }

  private func readStrings(_ attribute: HDF5Object, type: hid_t, count: Int) throws -> [String] {
    guard count > 0 else { return [] }
    let variable = try HDF5Library.call("H5Tis_variable_str") { H5Tis_variable_str(type) } > 0
    let memoryType = try HDF5Object.make("H5Tcopy", .datatype) { H5Tcopy(ckh5_T_C_S1()) }
    let charset = try HDF5Library.enumeration("H5Tget_cset", { H5Tget_cset(type) })
    if charset == H5T_CSET_UTF8 {
      try HDF5Library.call("H5Tset_cset") { H5Tset_cset(memoryType.id, H5T_CSET_UTF8) }
    }
    if variable {
      try HDF5Library.call("H5Tset_size") { H5Tset_size(memoryType.id, ckh5_T_VARIABLE()) }
      var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
      try HDF5Library.call("H5Aread") { H5Aread(attribute.id, memoryType.id, &pointers) }
      let space = try HDF5Object.make("H5Aget_space", .dataspace) { H5Aget_space(attribute.id) }
      defer {
        _ = try? HDF5Library.call("H5Dvlen_reclaim") {
          H5Dvlen_reclaim(memoryType.id, space.id, ckh5_P_DEFAULT(), &pointers)
        }
      }
      return pointers.map { $0.map { String(cString: $0) } ?? "" }
    }
    let size = try HDF5Library.size("H5Tget_size") { Int(H5Tget_size(type)) }
    try HDF5Library.call("H5Tset_size") { H5Tset_size(memoryType.id, size) }
    try HDF5Library.call("H5Tset_strpad") { H5Tset_strpad(memoryType.id, H5T_STR_NULLPAD) }
    var buffer = [UInt8](repeating: 0, count: count * size)
    try HDF5Library.call("H5Aread") { H5Aread(attribute.id, memoryType.id, &buffer) }
    let padding = try HDF5Library.enumeration("H5Tget_strpad", { H5Tget_strpad(type) })
    return (0..<count).map { index in
      var bytes = buffer[(index * size)..<((index + 1) * size)]
      if let zero = bytes.firstIndex(of: 0) { bytes = bytes[..<zero] }
      if padding == H5T_STR_SPACEPAD {
        while bytes.last == 0x20 { bytes = bytes.dropLast() }
      }
      return String(decoding: bytes, as: UTF8.self)
    }
  }
}
