import CheckpointCore

/// One tensor's entry in a GGUF header.
public struct GGUFTensorInfo: Sendable, Equatable {
  /// The tensor's name (shorter than 64 bytes).
  public var name: String
  /// The dimensions as stored: `ne[0]` (the fastest-varying) first.
  public var dimensions: [Int]
  /// The ggml type id.
  public var typeID: UInt32
  /// The dtype the type id maps to.
  public var dtype: DType
  /// The data offset relative to the start of the data section.
  public var offset: Int
  /// The number of data bytes.
  public var byteCount: Int

  /// The checkpoint shape: the dimensions reversed (numpy order, outermost first).
  public var shape: [Int] { dimensions.reversed() }
}

/// A parsed and validated GGUF header: version, metadata, tensor infos, data section.
///
/// Validation follows llama.cpp's `gguf_init_from_file_impl` (and its test-gguf suite):
/// magic `GGUF`; version 2 or 3 (0, 1, byte-swapped and newer versions refused); tensor and
/// key counts that fit the file; keys unique; value types 0–12; `general.alignment` a
/// power-of-two `u32`; tensor names unique and shorter than 64 bytes; at most 4 dimensions,
/// none negative, element count below 2⁶³; ggml types defined; rows a whole number of blocks;
/// offsets exactly contiguous (each tensor at the previous one's end padded to the alignment);
/// data inside the file. Beyond llama.cpp, strings longer than 1 GiB and arrays whose
/// elements cannot fit in the rest of the file are refused before anything is allocated,
/// and keys, names and string values must be valid UTF-8. Nested arrays are accepted
/// (the GGUF specification and gguf-py allow them; llama.cpp does not).
public struct GGUFHeader: Sendable {
  /// `GGUF` in ASCII.
  public static let magic: [UInt8] = Array("GGUF".utf8)
  /// The version this library writes.
  public static let version: UInt32 = 3
  /// The default data alignment.
  public static let defaultAlignment = 32
  /// ggml's `GGML_MAX_NAME`: tensor names must be shorter.
  public static let maximumNameLength = 64
  /// ggml's `GGML_MAX_DIMS`.
  public static let maximumDimensions = 4
  /// The longest string accepted (1 GiB).
  public static let maximumStringLength = 1 << 30
  /// The deepest array nesting accepted.
  public static let maximumArrayDepth = 8

  /// The file's version.
  public var version: UInt32
  /// The key-value pairs, in file order.
  public var metadata: [(key: String, value: GGUFValue)]
  /// The tensor infos, in file order.
  public var tensors: [GGUFTensorInfo]
  /// The data alignment.
  public var alignment: Int
  /// The file offset of the data section.
  public var dataOffset: Int

  /// Reads and validates the header of `file`.
  public static func read(from file: InputFile) throws -> GGUFHeader {
    var cursor = GGUFFileCursor(file: file)
    let magic = try cursor.bytes(4, "magic")
    guard Array(magic) == GGUFHeader.magic else {
      throw CheckpointError(.badFormat, "not a GGUF file (magic \(Array(magic)) is not 'GGUF')", offset: 0)
    }
    let version = try cursor.read(UInt32.self, "version")
    guard version != 0 else { throw CheckpointError(.corrupt, "bad GGUF version 0", offset: 4) }
    guard version & 0xFFFF != 0 else {
      throw CheckpointError(
        .unsupported, "GGUF version \(version) looks byte-swapped (big-endian file?)", offset: 4)
    }
    guard version != 1 else {
      throw CheckpointError(.unsupported, "GGUF version 1 is not supported", offset: 4)
    }
    guard version <= GGUFHeader.version else {
      throw CheckpointError(.unsupported, "GGUF version \(version) is newer than 3", offset: 4)
    }
    let tensorCount = try cursor.read(Int64.self, "tensor count")
    let kvCount = try cursor.read(Int64.self, "key-value count")
    // Every key-value pair takes at least 13 bytes and every tensor info 24.
    guard tensorCount >= 0, tensorCount <= Int64(cursor.remaining / 24) else {
      throw CheckpointError(.corrupt, "tensor count \(tensorCount) does not fit in the file", offset: 8)
    }
    guard kvCount >= 0, kvCount <= Int64(cursor.remaining / 13) else {
      throw CheckpointError(.corrupt, "key-value count \(kvCount) does not fit in the file", offset: 16)
    }

    var metadata: [(key: String, value: GGUFValue)] = []
    metadata.reserveCapacity(Int(kvCount))
    var keys = Set<String>()
    for index in 0..<Int(kvCount) {
      let keyOffset = cursor.position
      let key = try cursor.string("key \(index)")
      guard keys.insert(key).inserted else {
        throw CheckpointError(.duplicateName, "duplicate metadata key '\(key)'", offset: keyOffset)
      }
      let typeOffset = cursor.position
      let rawType = try cursor.read(UInt32.self, "type of '\(key)'")
      guard let type = GGUFValueType(rawValue: rawType) else {
        throw CheckpointError(
          .corrupt, "metadata key '\(key)' has invalid GGUF type \(rawType)", offset: typeOffset)
      }
      let value = try readValue(type, key: key, depth: 0, cursor: &cursor)
      metadata.append((key, value))
    }

    var alignment = defaultAlignment
    if let value = metadata.first(where: { $0.key == GGUFMetadata.alignmentKey })?.value {
      guard case .uint32(let v) = value else {
        throw CheckpointError(.corrupt, "general.alignment has type \(value.typeSpelling), expected u32")
      }
      guard v > 0, v & (v - 1) == 0 else {
        throw CheckpointError(.corrupt, "alignment \(v) is not a power of 2")
      }
      alignment = Int(v)
    }

    var infos: [(name: String, dims: [Int], typeID: UInt32, offset: UInt64, at: Int)] = []
    infos.reserveCapacity(Int(tensorCount))
    var names = Set<String>()
    for index in 0..<Int(tensorCount) {
      let at = cursor.position
      let name = try cursor.string("name of tensor \(index)")
      guard name.utf8.count < maximumNameLength else {
        throw CheckpointError(
          .corrupt,
          "tensor name is \(name.utf8.count) bytes, names must be shorter than \(maximumNameLength)",
          tensor: name, offset: at)
      }
      guard names.insert(name).inserted else {
        throw CheckpointError(.duplicateName, "duplicate tensor name", tensor: name, offset: at)
      }
      let dimsAt = cursor.position
      let nDims = try cursor.read(UInt32.self, "dimension count")
      guard nDims <= UInt32(maximumDimensions) else {
        throw CheckpointError(
          .corrupt, "\(nDims) dimensions, at most \(maximumDimensions) allowed", tensor: name, offset: dimsAt)
      }
      var dims: [Int] = []
      for d in 0..<Int(nDims) {
        let neAt = cursor.position
        let ne = try cursor.read(Int64.self, "dimension \(d)")
        guard ne >= 0 else {
          throw CheckpointError(.corrupt, "dimension \(d) is negative (\(ne))", tensor: name, offset: neAt)
        }
        dims.append(Int(ne))
      }
      let typeAt = cursor.position
      let typeID = try cursor.read(UInt32.self, "ggml type")
      let offset = try cursor.read(UInt64.self, "data offset")
      infos.append((name, dims, typeID, offset, at))
      _ = typeAt
    }

    let headerEnd = cursor.position
    let (padded, overflow) = headerEnd.addingReportingOverflow(
      (alignment - headerEnd % alignment) % alignment)
    guard !overflow else { throw CheckpointError(.corrupt, "header size overflows", offset: headerEnd) }
    let dataOffset = padded

    var tensors: [GGUFTensorInfo] = []
    tensors.reserveCapacity(infos.count)
    var expectedOffset = 0
    for info in infos {
      try CheckpointError.locating(tensor: info.name, offset: info.at) {
        let dtype = try GGUFTensorType.dtype(id: info.typeID)
        let count: Int
        do {
          count = try Shape.elementCount(info.dims)
        } catch {
          throw CheckpointError(
            .corrupt, "element count of dimensions \(info.dims) overflows")
        }
        guard count < Int.max else {
          throw CheckpointError(.corrupt, "element count of dimensions \(info.dims) overflows")
        }
        let rowLength = info.dims.first ?? 1
        guard rowLength % dtype.blockElements == 0 else {
          throw CheckpointError(
            .corrupt,
            "\(dtype) rows of \(rowLength) elements are not a whole number of \(dtype.blockElements)-element blocks"
          )
        }
        let bytes = try dtype.byteCount(elements: count)
        guard info.offset == UInt64(expectedOffset) else {
          throw CheckpointError(
            .corrupt, "data offset \(info.offset), expected \(expectedOffset) (offsets must be contiguous)")
        }
        let (end, o1) = dataOffset.addingReportingOverflow(expectedOffset)
        let (tensorEnd, o2) = end.addingReportingOverflow(bytes)
        guard !o1, !o2, tensorEnd <= file.size else {
          throw CheckpointError(
            .truncated,
            "data [\(expectedOffset), +\(bytes)) of the data section at \(dataOffset) ends past the end of the \(file.size)-byte file"
          )
        }
        tensors.append(
          GGUFTensorInfo(
            name: info.name, dimensions: info.dims, typeID: info.typeID, dtype: dtype,
            offset: expectedOffset, byteCount: bytes))
        let paddedBytes = bytes + (alignment - bytes % alignment) % alignment
        let (next, o3) = expectedOffset.addingReportingOverflow(paddedBytes)
        guard !o3 else { throw CheckpointError(.corrupt, "data section size overflows") }
        expectedOffset = next
      }
    }
    return GGUFHeader(
      version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
  }

  private static func readValue(
    _ type: GGUFValueType, key: String, depth: Int, cursor: inout GGUFFileCursor
  ) throws -> GGUFValue {
    let what = "value of '\(key)'"
    switch type {
    case .uint8: return .uint8(try cursor.read(UInt8.self, what))
    case .int8: return .int8(try cursor.read(Int8.self, what))
    case .uint16: return .uint16(try cursor.read(UInt16.self, what))
    case .int16: return .int16(try cursor.read(Int16.self, what))
    case .uint32: return .uint32(try cursor.read(UInt32.self, what))
    case .int32: return .int32(try cursor.read(Int32.self, what))
    case .float32: return .float32(Float(bitPattern: try cursor.read(UInt32.self, what)))
    case .bool:
      let at = cursor.position
      let byte = try cursor.read(UInt8.self, what)
      guard byte <= 1 else {
        throw CheckpointError(.corrupt, "bool \(what) is \(byte), not 0 or 1", offset: at)
      }
      return .bool(byte == 1)
    case .string: return .string(try cursor.string(what))
    case .uint64: return .uint64(try cursor.read(UInt64.self, what))
    case .int64: return .int64(try cursor.read(Int64.self, what))
    case .float64: return .float64(Double(bitPattern: try cursor.read(UInt64.self, what)))
    case .array:
      let at = cursor.position
      guard depth < maximumArrayDepth else {
        throw CheckpointError(
          .corrupt, "arrays nested deeper than \(maximumArrayDepth) in '\(key)'", offset: at)
      }
      let rawType = try cursor.read(UInt32.self, "array type of '\(key)'")
      guard let elementType = GGUFValueType(rawValue: rawType) else {
        throw CheckpointError(.corrupt, "array '\(key)' has invalid element type \(rawType)", offset: at)
      }
      let count = try cursor.read(UInt64.self, "array length of '\(key)'")
      guard count <= UInt64(cursor.remaining / elementType.minimumSize) else {
        throw CheckpointError(
          .corrupt,
          "array '\(key)' claims \(count) \(elementType.shortName) elements, more than the rest of the file holds",
          offset: at + 4)
      }
      var items: [GGUFValue] = []
      items.reserveCapacity(Int(count))
      for _ in 0..<Int(count) {
        items.append(try readValue(elementType, key: key, depth: depth + 1, cursor: &cursor))
      }
      return .array(elementType, items)
    }
  }
}
