import CheckpointCore

/// The header of a safetensors file: tensor descriptions, their byte ranges
/// and the optional `__metadata__`, parsed and validated.
///
/// Layout: a little-endian `u64` header length `N`, then `N` bytes of UTF-8
/// JSON (space-padded), then the data region. Each JSON member other than
/// `__metadata__` describes one tensor:
/// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}` with
/// offsets relative to the data region.
///
/// Validation follows the reference parser (`safetensors/src/tensor.rs`),
/// with these additions: duplicate names are rejected (the reference keeps
/// the last one), a tensor entry must have exactly the three fields, and a
/// short data region is reported as truncation rather than as an incomplete
/// header. Every error names the tensor (when there is one) and a byte
/// offset in the file: the JSON field for header problems, the data region
/// for size problems.
public struct SafetensorsHeader: Sendable, Equatable {
  /// The largest header length accepted, as in the reference parser.
  public static let maximumLength = 100_000_000

  /// One tensor's entry.
  public struct Entry: Sendable, Equatable {
    /// Name, dtype and shape.
    public var info: TensorInfo
    /// The tensor's bytes, relative to the start of the data region.
    public var dataOffsets: Range<Int>
    /// The file offset of the entry's `data_offsets` field (or of its name, for a written header).
    public var fieldOffset: Int

    /// Creates an entry.
    public init(info: TensorInfo, dataOffsets: Range<Int>, fieldOffset: Int) {
      self.info = info
      self.dataOffsets = dataOffsets
      self.fieldOffset = fieldOffset
    }
  }

  /// The header length `N` (JSON text including padding).
  public var length: Int
  /// The tensors in data order (by offset; equal offsets keep header order).
  public var entries: [Entry]
  /// The `__metadata__` object, or `nil` when absent (or `null`).
  public var metadata: [String: String]?

  /// The file offset where tensor data begins (`8 + N`).
  public var dataStart: Int { 8 + length }
  /// The size of the data region: the end of the last tensor.
  public var dataSize: Int { entries.last?.dataOffsets.upperBound ?? 0 }

  /// Reads and validates the header of `file`, checking it against the file's size.
  ///
  /// - Throws: `CheckpointError` naming the file, the tensor and the byte offset.
  public init(reading file: InputFile) throws {
    let path = file.path
    guard file.size >= 8 else {
      throw CheckpointError(
        .truncated, "file is \(file.size) bytes, too short for the 8-byte header length",
        file: path, offset: 0)
    }
    var reader = ByteReader(try file.read(count: 8, at: 0))
    let declared = try reader.read(UInt64.self, "header length")
    guard declared <= UInt64(SafetensorsHeader.maximumLength) else {
      throw CheckpointError(
        .corrupt,
        "header length \(declared) exceeds the limit of \(SafetensorsHeader.maximumLength) bytes",
        file: path, offset: 0)
    }
    let length = Int(declared)
    guard length <= file.size - 8 else {
      throw CheckpointError(
        .truncated,
        "header length \(length) runs past the end of the file (\(file.size - 8) bytes follow the length)",
        file: path, offset: 0)
    }
    let text = try file.read(count: length, at: 8)
    self = try CheckpointError.locating(file: path) {
      try SafetensorsHeader(text: text, fileSize: file.size)
    }
  }

  /// Parses and validates header text (the `N` bytes after the length) of a file of `fileSize` bytes.
  init(text: [UInt8], fileSize: Int) throws {
    length = text.count
    let json = try SafetensorsHeader.parseJSON(text)
    let objectStart = JSONMemberOffsets.firstNonWhitespace(in: text)
    guard let members = json.objectValue else {
      throw CheckpointError(.corrupt, "header is not a JSON object", offset: 8 + objectStart)
    }
    var positions = JSONMemberOffsets.members(in: text, objectAt: objectStart)
    if positions.count != members.count {
      positions = Array(repeating: .init(key: objectStart, value: objectStart), count: members.count)
    }
    var entries: [Entry] = []
    entries.reserveCapacity(members.count)
    for ((name, value), position) in zip(members, positions) {
      if name == "__metadata__" {
        metadata = try SafetensorsHeader.parseMetadata(value, text: text, at: position.value)
      } else {
        entries.append(try SafetensorsHeader.parseEntry(name, value, text: text, at: position))
      }
    }
    // Stable sort by (begin, end), like the reference's sort by data_offsets.
    self.entries = entries.enumerated().sorted { a, b in
      let (x, y) = (a.element.dataOffsets, b.element.dataOffsets)
      if x.lowerBound != y.lowerBound { return x.lowerBound < y.lowerBound }
      if x.upperBound != y.upperBound { return x.upperBound < y.upperBound }
      return a.offset < b.offset
    }.map(\.element)
    try validateLayout(fileSize: fileSize)
  }

  /// The file offset of a data-region offset, for messages (offsets come from the file and may be huge).
  private func fileByte(_ dataOffset: Int) -> String {
    let (value, overflow) = dataStart.addingReportingOverflow(dataOffset)
    return overflow ? "\(dataStart) + \(dataOffset)" : String(value)
  }

  /// Checks that tensors tile the data region exactly: contiguous from 0, sizes
  /// matching dtype and shape, the last one ending at the end of the file.
  private func validateLayout(fileSize: Int) throws {
    var expected = 0
    for entry in entries {
      let name = entry.info.name
      let range = entry.dataOffsets
      if range.lowerBound != expected {
        let problem =
          range.lowerBound > expected
          ? "leaves a hole of \(range.lowerBound - expected) bytes after the previous tensor"
          : "overlaps the previous tensor by \(expected - range.lowerBound) bytes"
        throw CheckpointError(
          .corrupt,
          "data_offsets [\(range.lowerBound), \(range.upperBound)] (file byte \(fileByte(range.lowerBound))) "
            + "\(problem), which ends at data offset \(expected)",
          tensor: name, offset: entry.fieldOffset)
      }
      let needed = try CheckpointError.locating(tensor: name, offset: entry.fieldOffset) {
        try entry.info.byteCount()
      }
      guard range.count == needed else {
        throw CheckpointError(
          .invalidShape,
          "data_offsets [\(range.lowerBound), \(range.upperBound)] hold \(range.count) bytes, "
            + "shape \(Shape.describe(entry.info.shape)) \(entry.info.dtype) needs \(needed)",
          tensor: name, offset: entry.fieldOffset)
      }
      expected = range.upperBound
    }
    let available = fileSize - dataStart
    if expected > available, let short = entries.first(where: { $0.dataOffsets.upperBound > available }) {
      throw CheckpointError(
        .truncated,
        "tensor data ends at file byte \(fileByte(short.dataOffsets.upperBound)) but the file has \(fileSize) bytes",
        tensor: short.info.name, offset: dataStart + short.dataOffsets.lowerBound)
    }
    if expected < available {
      throw CheckpointError(
        .corrupt,
        "\(available - expected) trailing bytes after the last tensor (data ends at file byte \(dataStart + expected))",
        offset: dataStart + expected)
    }
  }

  // MARK: - Parsing pieces

  private static func parseJSON(_ text: [UInt8]) throws -> JSONValue {
    if let bad = firstInvalidUTF8(text) {
      throw CheckpointError(.corrupt, "header is not valid UTF-8", offset: 8 + bad)
    }
    do {
      return try JSONValue.parse(text)
    } catch let error as JSONValue.ParseError {
      if case .duplicateKey(let key) = error.reason {
        if JSONMemberOffsets.depth(in: text, at: error.offset) == 1 {
          if key == "__metadata__" {
            throw CheckpointError(.corrupt, "duplicate __metadata__ in the header", offset: 8 + error.offset)
          }
          throw CheckpointError(
            .duplicateName, "duplicate tensor name '\(key)' in the header", tensor: key,
            offset: 8 + error.offset)
        }
        throw CheckpointError(.corrupt, "duplicate key '\(key)' in the header", offset: 8 + error.offset)
      }
      throw CheckpointError(.corrupt, "header is not valid JSON: \(error.message)", offset: 8 + error.offset)
    }
  }

  /// The index of the first byte that does not belong to a valid UTF-8 sequence.
  private static func firstInvalidUTF8(_ text: [UInt8]) -> Int? {
    var decoder = UTF8()
    var iterator = text.makeIterator()
    var offset = 0
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar): offset += UTF8.width(scalar)
      case .emptyInput: return nil
      case .error: return offset
      }
    }
  }

  private static func parseMetadata(_ value: JSONValue, text: [UInt8], at offset: Int) throws -> [String:
    String]?
  {
    if value == .null { return nil }
    guard let members = value.objectValue else {
      throw CheckpointError(.corrupt, "__metadata__ is not an object of strings", offset: 8 + offset)
    }
    let positions = JSONMemberOffsets.members(in: text, objectAt: offset)
    var metadata: [String: String] = [:]
    for (index, (key, item)) in members.enumerated() {
      guard let string = item.stringValue else {
        let at = index < positions.count ? positions[index].value : offset
        throw CheckpointError(
          .corrupt, "__metadata__ value of '\(key)' is not a string", offset: 8 + at)
      }
      metadata[key] = string
    }
    return metadata
  }

  private static func parseEntry(
    _ name: String, _ value: JSONValue, text: [UInt8], at position: JSONMemberOffsets.Member
  ) throws -> Entry {
    guard let fields = value.objectValue else {
      throw CheckpointError(
        .corrupt, "tensor entry is not an object", tensor: name, offset: 8 + position.value)
    }
    let positions = JSONMemberOffsets.members(in: text, objectAt: position.value)
    func offset(of field: String) -> Int {
      guard let index = fields.firstIndex(where: { $0.0 == field }), index < positions.count else {
        return 8 + position.key
      }
      return 8 + positions[index].value
    }
    for (index, (key, _)) in fields.enumerated()
    where key != "dtype" && key != "shape" && key != "data_offsets" {
      let at = index < positions.count ? positions[index].key : position.value
      throw CheckpointError(
        .corrupt, "unexpected field '\(key)' in tensor entry (allowed: dtype, shape, data_offsets)",
        tensor: name, offset: 8 + at)
    }
    func field(_ key: String) throws -> JSONValue {
      guard let value = fields.first(where: { $0.0 == key })?.1 else {
        throw CheckpointError(
          .corrupt, "tensor entry has no '\(key)' field", tensor: name, offset: 8 + position.key)
      }
      return value
    }

    let dtypeValue = try field("dtype")
    guard let dtypeName = dtypeValue.stringValue else {
      throw CheckpointError(.corrupt, "dtype is not a string", tensor: name, offset: offset(of: "dtype"))
    }
    let dtype = try SafetensorsDTypes.dtype(named: dtypeName, tensor: name, offset: offset(of: "dtype"))

    guard let dims = try field("shape").arrayValue else {
      throw CheckpointError(
        .corrupt, "shape is not an array of non-negative integers", tensor: name, offset: offset(of: "shape"))
    }
    var shape: [Int] = []
    shape.reserveCapacity(dims.count)
    for dim in dims {
      switch dim {
      case .integer(let value) where value < 0:
        throw CheckpointError(
          .invalidShape, "negative dimension \(value) in shape", tensor: name, offset: offset(of: "shape"))
      case .integer, .unsignedInteger:
        guard let value = dim.intValue else {
          throw CheckpointError(
            .invalidShape, "dimension \(dim.compactText) overflows", tensor: name, offset: offset(of: "shape")
          )
        }
        shape.append(value)
      default:
        throw CheckpointError(
          .corrupt, "shape holds \(dim.compactText), not a non-negative integer", tensor: name,
          offset: offset(of: "shape"))
      }
    }

    let offsetsValue = try field("data_offsets")
    guard let pair = offsetsValue.arrayValue, pair.count == 2 else {
      throw CheckpointError(
        .corrupt, "data_offsets is not a [begin, end] pair", tensor: name, offset: offset(of: "data_offsets"))
    }
    var bounds: [Int] = []
    for bound in pair {
      switch bound {
      case .integer(let value) where value < 0:
        throw CheckpointError(
          .corrupt, "negative data offset \(value)", tensor: name, offset: offset(of: "data_offsets"))
      case .integer, .unsignedInteger:
        guard let value = bound.intValue else {
          throw CheckpointError(
            .corrupt, "data offset \(bound.compactText) overflows", tensor: name,
            offset: offset(of: "data_offsets"))
        }
        bounds.append(value)
      default:
        throw CheckpointError(
          .corrupt, "data offset \(bound.compactText) is not a non-negative integer", tensor: name,
          offset: offset(of: "data_offsets"))
      }
    }
    guard bounds[0] <= bounds[1] else {
      throw CheckpointError(
        .corrupt, "data_offsets [\(bounds[0]), \(bounds[1])] begin after they end", tensor: name,
        offset: offset(of: "data_offsets"))
    }
    return Entry(
      info: TensorInfo(name: name, dtype: dtype, shape: shape), dataOffsets: bounds[0]..<bounds[1],
      fieldOffset: offset(of: "data_offsets"))
  }
}

// MARK: - Writing

extension SafetensorsHeader {
  /// The header the reference serializer writes for `tensors` and `metadata`.
  ///
  /// Tensors are ordered as `safetensors` orders them: by dtype descending in
  /// the crate's `Dtype` enum order (see ``SafetensorsDTypes``),
  /// then by name (byte-wise). The JSON is compact, `__metadata__` first (its
  /// keys sorted; the reference writes them in random hash order), each
  /// tensor as `{"dtype","shape","data_offsets"}`, padded with spaces to a
  /// multiple of 8 bytes.
  ///
  /// - Returns: the header (entries in write order, `fieldOffset` 0) and its
  ///   text, whose byte count is `N`.
  /// - Throws: `.unsupportedDType` for dtypes safetensors cannot store,
  ///   `.invalidArgument` for a tensor named `__metadata__`, `.invalidShape` on overflow.
  public static func planned(
    for tensors: [TensorInfo], metadata: [String: String]
  ) throws -> (header: SafetensorsHeader, text: [UInt8]) {
    for info in tensors {
      try SafetensorsDTypes.checkWritable(info.dtype, tensor: info.name)
      if info.name == "__metadata__" {
        throw CheckpointError(
          .invalidArgument, "a tensor cannot be named __metadata__ in safetensors", tensor: info.name)
      }
    }
    let ordered = tensors.sorted { a, b in
      let (ra, rb) = (SafetensorsDTypes.rank(of: a.dtype) ?? -1, SafetensorsDTypes.rank(of: b.dtype) ?? -1)
      if ra != rb { return ra > rb }
      return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
    }
    var members: [(String, JSONValue)] = []
    if !metadata.isEmpty {
      let sorted = metadata.sorted { SafetensorsDTypes.codePointPrecedes($0.key, $1.key) }
      members.append(("__metadata__", .object(sorted.map { ($0.key, .string($0.value)) })))
    }
    var entries: [Entry] = []
    var offset = 0
    for info in ordered {
      let count = try info.byteCount()
      let (end, overflow) = offset.addingReportingOverflow(count)
      guard !overflow else {
        throw CheckpointError(.invalidShape, "total data size overflows", tensor: info.name)
      }
      members.append(
        (
          info.name,
          .object([
            ("dtype", .string(info.dtype.name)),
            ("shape", .array(info.shape.map { .integer(Int64($0)) })),
            ("data_offsets", .array([.integer(Int64(offset)), .integer(Int64(end))])),
          ])
        ))
      entries.append(Entry(info: info, dataOffsets: offset..<end, fieldOffset: 0))
      offset = end
    }
    var text = Array(JSONValue.object(members).compactText.utf8)
    text.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - text.count % 8) % 8))
    let header = SafetensorsHeader(
      length: text.count, entries: entries, metadata: metadata.isEmpty ? nil : metadata)
    return (header, text)
  }

  private init(length: Int, entries: [Entry], metadata: [String: String]?) {
    self.length = length
    self.entries = entries
    self.metadata = metadata
  }
}
