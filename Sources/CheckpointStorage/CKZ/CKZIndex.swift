import CheckpointCore

/// How a `.ckz` tensor's chunks are encoded.
public enum CKZCodec: UInt8, Sendable {
  /// Stored as is, 64-byte aligned (memory-mappable).
  case none = 0
  /// Byte-grouped planes, each raw DEFLATE or stored raw.
  case zlib = 1

  /// The name used in `--compress` and in `ckpt inspect`.
  public var name: String { self == .none ? "none" : "zlib" }
}

/// One chunk of a tensor as recorded in the index.
public struct CKZChunk: Sendable, Equatable {
  /// Bytes the chunk occupies in the file.
  public var storedSize: Int
  /// CRC32 of the chunk's raw (decoded) bytes.
  public var rawCRC: UInt32
  /// CRC32 of the chunk's stored bytes.
  public var storedCRC: UInt32
}

/// One tensor's index entry: what it is and where its chunks are.
public struct CKZTensorEntry: Sendable, Equatable {
  /// The tensor's description.
  public var info: TensorInfo
  /// The codec of its chunks.
  public var codec: CKZCodec
  /// The codec level (0 for `none`, 1–9 for `zlib`).
  public var level: Int
  /// The byte-group width (planes per chunk).
  public var groupWidth: Int
  /// Where the tensor's section starts in the file.
  public var offset: Int
  /// The number of raw bytes.
  public var rawByteCount: Int
  /// Raw bytes per chunk (the last may be shorter).
  public var chunkSize: Int
  /// The chunks, in order.
  public var chunks: [CKZChunk]
  /// The section's size: the sum of the chunks' stored sizes.
  public var storedByteCount: Int

  /// The raw byte range of chunk `index` within the tensor.
  public func rawRange(ofChunk index: Int) -> Range<Int> {
    let start = index * chunkSize
    return start..<min(start + chunkSize, rawByteCount)
  }
}

/// A `.ckz` index: tensor entries, user metadata and provenance.
struct CKZIndex {
  var entries: [CKZTensorEntry]
  var metadata: [String: String]
  var provenance: [String: String]

  static let maximumNameLength = 65_536
  static let maximumChunkSize = 1 << 30
  /// DEFLATE's largest expansion: a 258-byte match in two bits.
  static let maximumDeflateRatio = 1032

  init(entries: [CKZTensorEntry], metadata: [String: String], provenance: [String: String]) {
    self.entries = entries
    self.metadata = metadata
    self.provenance = provenance
  }

  func encoded() -> [UInt8] {
    var bytes = CKZLayout.indexMagic
    bytes.appendLittleEndian(UInt32(entries.count))
    for entry in entries {
      let name = Array(entry.info.name.utf8)
      bytes.appendLittleEndian(UInt32(name.count))
      bytes += name
      let dtype = Array(entry.info.dtype.name.utf8)
      bytes.append(UInt8(dtype.count))
      bytes += dtype
      bytes.append(UInt8(entry.info.shape.count))
      for dim in entry.info.shape { bytes.appendLittleEndian(UInt64(dim)) }
      bytes.append(entry.codec.rawValue)
      bytes.append(UInt8(entry.level))
      bytes.append(UInt8(entry.groupWidth))
      bytes.append(0)
      bytes.appendLittleEndian(UInt64(entry.offset))
      bytes.appendLittleEndian(UInt64(entry.rawByteCount))
      bytes.appendLittleEndian(UInt32(entry.chunkSize))
      bytes.appendLittleEndian(UInt32(entry.chunks.count))
      for chunk in entry.chunks {
        bytes.appendLittleEndian(UInt32(chunk.storedSize))
        bytes.appendLittleEndian(chunk.rawCRC)
        bytes.appendLittleEndian(chunk.storedCRC)
      }
    }
    for map in [metadata, provenance] {
      let keys = map.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
      bytes.appendLittleEndian(UInt32(keys.count))
      for key in keys {
        let k = Array(key.utf8)
        let v = Array(map[key]!.utf8)
        bytes.appendLittleEndian(UInt32(k.count))
        bytes += k
        bytes.appendLittleEndian(UInt32(v.count))
        bytes += v
      }
    }
    return bytes
  }

  /// Decodes and cross-checks an index at `indexOffset` (its bytes already CRC-checked).
  init(decoding bytes: [UInt8], indexOffset: Int) throws {
    var reader = ByteReader(bytes, baseOffset: indexOffset)
    guard Array(try reader.readBytes(4, "index marker")) == CKZLayout.indexMagic else {
      throw CheckpointError(.corrupt, "index does not start with 'CKZI'", offset: indexOffset)
    }
    let count = Int(try reader.read(UInt32.self, "tensor count"))
    // Each entry takes at least 4 + 1 + 1 + 4 + 8 + 8 + 4 + 4 bytes.
    guard count <= reader.remaining / 34 else {
      throw CheckpointError(
        .corrupt, "index declares \(count) tensors, more than its \(bytes.count) bytes can hold",
        offset: indexOffset + 4)
    }
    var entries: [CKZTensorEntry] = []
    entries.reserveCapacity(count)
    var names = Set<String>()
    var cursor = CKZLayout.headerSize
    for number in 0..<count {
      let entry = try Self.decodeEntry(&reader, number: number, expectedOffset: &cursor)
      guard names.insert(entry.info.name).inserted else {
        throw CheckpointError(.duplicateName, "duplicate tensor name in the index", tensor: entry.info.name)
      }
      entries.append(entry)
    }
    guard let indexStart = CKZLayout.aligned(cursor), indexStart == indexOffset else {
      throw CheckpointError(
        .corrupt,
        "the last tensor section ends at \(cursor), so the index must start at the next multiple of 64, not \(indexOffset)",
        offset: indexOffset)
    }
    self.entries = entries
    self.metadata = try Self.decodeMap(&reader, what: "metadata")
    self.provenance = try Self.decodeMap(&reader, what: "provenance")
    guard reader.isAtEnd else {
      throw CheckpointError(
        .corrupt, "\(reader.remaining) unexpected bytes at the end of the index",
        offset: reader.baseOffset + reader.position)
    }
  }

  private static func decodeString(_ reader: inout ByteReader, what: String, limit: Int) throws -> String {
    let at = reader.baseOffset + reader.position
    let length = Int(try reader.read(UInt32.self, "\(what) length"))
    guard length <= limit else {
      throw CheckpointError(.corrupt, "\(what) length \(length) exceeds \(limit)", offset: at)
    }
    let raw = try reader.readBytes(length, what)
    guard let text = String(validating: raw, as: UTF8.self) else {
      throw CheckpointError(.corrupt, "\(what) is not valid UTF-8", offset: at + 4)
    }
    return text
  }

  private static func decodeMap(_ reader: inout ByteReader, what: String) throws -> [String: String] {
    let at = reader.baseOffset + reader.position
    let count = Int(try reader.read(UInt32.self, "\(what) count"))
    guard count <= reader.remaining / 8 else {
      throw CheckpointError(
        .corrupt, "\(what) declares \(count) entries, more than the index holds", offset: at)
    }
    var map: [String: String] = [:]
    var previous: [UInt8]?
    for _ in 0..<count {
      let keyAt = reader.baseOffset + reader.position
      let key = try decodeString(&reader, what: "\(what) key", limit: reader.remaining)
      let value = try decodeString(&reader, what: "\(what) value '\(key)'", limit: reader.remaining)
      let keyBytes = Array(key.utf8)
      if let previous, !previous.lexicographicallyPrecedes(keyBytes) {
        throw CheckpointError(.corrupt, "\(what) keys are not unique and sorted at '\(key)'", offset: keyAt)
      }
      previous = keyBytes
      map[key] = value
    }
    return map
  }

  private static func decodeEntry(
    _ reader: inout ByteReader, number: Int, expectedOffset cursor: inout Int
  ) throws -> CKZTensorEntry {
    let name = try decodeString(&reader, what: "name of tensor \(number)", limit: maximumNameLength)
    return try CheckpointError.locating(tensor: name) {
      let dtypeAt = reader.baseOffset + reader.position
      let dtypeLength = Int(try reader.read(UInt8.self, "dtype length"))
      let dtypeName = String(decoding: try reader.readBytes(dtypeLength, "dtype"), as: UTF8.self)
      guard let dtype = DType(rawValue: dtypeName) else {
        throw CheckpointError(.unsupportedDType, "unknown dtype '\(dtypeName)'", offset: dtypeAt)
      }
      let rank = Int(try reader.read(UInt8.self, "rank"))
      var shape: [Int] = []
      for _ in 0..<rank {
        let dimAt = reader.baseOffset + reader.position
        let dim: UInt64 = try reader.read(UInt64.self, "dimension")
        guard dim <= UInt64(Int.max) else {
          throw CheckpointError(.invalidShape, "dimension \(dim) is too large", offset: dimAt)
        }
        shape.append(Int(dim))
      }
      let info = TensorInfo(name: name, dtype: dtype, shape: shape)
      let expectedBytes = try info.byteCount()
      let codecAt = reader.baseOffset + reader.position
      let codecValue = try reader.read(UInt8.self, "codec")
      guard let codec = CKZCodec(rawValue: codecValue) else {
        throw CheckpointError(.unsupported, "unknown codec \(codecValue)", offset: codecAt)
      }
      let level = Int(try reader.read(UInt8.self, "level"))
      let group = Int(try reader.read(UInt8.self, "group width"))
      let reserved = try reader.read(UInt8.self, "reserved byte")
      switch codec {
      case .none:
        guard level == 0, group == 1 else {
          throw CheckpointError(
            .corrupt, "codec none needs level 0 and group width 1, found \(level) and \(group)",
            offset: codecAt)
        }
      case .zlib:
        guard (1...9).contains(level), [1, 2, 4, 8].contains(group) else {
          throw CheckpointError(
            .corrupt, "codec zlib needs level 1-9 and group width 1, 2, 4 or 8, found \(level) and \(group)",
            offset: codecAt)
        }
      }
      guard reserved == 0 else {
        throw CheckpointError(.corrupt, "reserved byte is \(reserved), not 0", offset: codecAt + 3)
      }
      let offsetAt = reader.baseOffset + reader.position
      let offset = try reader.read(UInt64.self, "offset")
      let rawCount = try reader.read(UInt64.self, "raw byte count")
      let chunkSize = Int(try reader.read(UInt32.self, "chunk size"))
      let chunkCount = Int(try reader.read(UInt32.self, "chunk count"))
      guard let start = CKZLayout.aligned(cursor), offset == UInt64(start) else {
        throw CheckpointError(
          .corrupt,
          "section offset \(offset) is not where the previous section ends (\(cursor), aligned to 64)",
          offset: offsetAt)
      }
      guard rawCount == UInt64(expectedBytes) else {
        throw CheckpointError(
          .invalidShape,
          "index declares \(rawCount) bytes, shape \(Shape.describe(shape)) \(dtype) needs \(expectedBytes)",
          offset: offsetAt + 8)
      }
      guard chunkSize >= 1, chunkSize <= maximumChunkSize, chunkSize % group == 0, expectedBytes % group == 0
      else {
        throw CheckpointError(
          .corrupt, "chunk size \(chunkSize) is invalid for group width \(group)", offset: offsetAt + 16)
      }
      let expectedChunks = expectedBytes / chunkSize + (expectedBytes % chunkSize == 0 ? 0 : 1)
      guard chunkCount == expectedChunks else {
        throw CheckpointError(
          .corrupt,
          "\(chunkCount) chunks declared, \(expectedBytes) bytes in chunks of \(chunkSize) make \(expectedChunks)",
          offset: offsetAt + 20)
      }
      try reader.require(chunkCount * 12, "chunk table of \(chunkCount) chunks")
      var chunks: [CKZChunk] = []
      chunks.reserveCapacity(chunkCount)
      var stored = 0
      for index in 0..<chunkCount {
        let chunkAt = reader.baseOffset + reader.position
        let size = Int(try reader.read(UInt32.self))
        let rawCRC: UInt32 = try reader.read()
        let storedCRC: UInt32 = try reader.read()
        let rawSize = min(chunkSize, expectedBytes - index * chunkSize)
        switch codec {
        case .none:
          guard size == rawSize, rawCRC == storedCRC else {
            throw CheckpointError(
              .corrupt,
              "chunk \(index) of codec none must store its \(rawSize) bytes as they are with one CRC",
              offset: chunkAt)
          }
        case .zlib:
          // The plane table plus at most every plane stored raw, and at least
          // what DEFLATE's best ratio (1032:1) needs: a reader never allocates
          // more than the stored data can expand to.
          guard size >= 4 * group, size <= rawSize + 4 * group,
            rawSize <= (size - 3 * group) * maximumDeflateRatio
          else {
            throw CheckpointError(
              .corrupt, "chunk \(index) stored size \(size) is impossible for \(rawSize) raw bytes",
              offset: chunkAt)
          }
        }
        stored += size  // at most 2^32 × 2^30 + ...: cannot overflow Int
        chunks.append(CKZChunk(storedSize: size, rawCRC: rawCRC, storedCRC: storedCRC))
      }
      let (end, overflow) = start.addingReportingOverflow(stored)
      guard !overflow else {
        throw CheckpointError(.corrupt, "section size overflows", offset: offsetAt)
      }
      cursor = end
      return CKZTensorEntry(
        info: info, codec: codec, level: level, groupWidth: group, offset: start,
        rawByteCount: expectedBytes, chunkSize: chunkSize, chunks: chunks, storedByteCount: stored)
    }
  }
}
