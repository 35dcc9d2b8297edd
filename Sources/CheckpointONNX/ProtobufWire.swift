import CheckpointCore

/// The protobuf wire format, read in place: a bounds-checked cursor over a region of bytes
/// (usually the memory-mapped `.onnx` file), for the parts of a model that must not be copied.
///
/// Positions are offsets in the scanned buffer, which is the whole file, so errors name file
/// offsets. Every varint is at most 10 bytes and fits in 64 bits; every length lies inside the
/// enclosing message; groups (wire types 3 and 4, unused by ONNX) are refused.
struct ProtobufWire {
  /// Protobuf's wire types.
  enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
  }

  /// One field: its number, wire type, where its tag starts and where its payload lies.
  struct Field {
    /// The field number.
    var number: Int
    /// How the payload is encoded.
    var wireType: WireType
    /// The offset of the field's tag (the start of the field's bytes).
    var start: Int
    /// The payload: the value bytes (varint, fixed) or the bytes after the length.
    var payload: Range<Int>
    /// The offset just past the field.
    var end: Int { payload.upperBound }
  }

  /// The bytes scanned.
  let bytes: UnsafeRawBufferPointer
  /// The next byte to read.
  private(set) var position: Int
  /// Where the current message ends.
  let end: Int

  /// A cursor over `range` of `bytes`.
  init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
    self.bytes = bytes
    self.position = range.lowerBound
    self.end = range.upperBound
  }

  /// Whether the message has no fields left.
  var isAtEnd: Bool { position >= end }

  /// Reads a varint at the position.
  mutating func varint(_ what: @autoclosure () -> String = "varint") throws -> UInt64 {
    let start = position
    var value: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard position < end else {
        throw CheckpointError(.truncated, "\(what()) runs past the end of its message", offset: start)
      }
      let byte = bytes[position]
      position += 1
      if shift == 63, byte > 1 {
        throw CheckpointError(.corrupt, "\(what()) overflows 64 bits", offset: start)
      }
      value |= UInt64(byte & 0x7F) << shift
      if byte & 0x80 == 0 { return value }
      shift += 7
      if shift > 63 {
        throw CheckpointError(.corrupt, "\(what()) is longer than 10 bytes", offset: start)
      }
    }
  }

  /// Reads the next field and moves past it, or returns `nil` at the end of the message.
  mutating func nextField() throws -> Field? {
    guard !isAtEnd else { return nil }
    let start = position
    let tag = try varint("field tag")
    let number = tag >> 3
    guard number >= 1, number <= 536_870_911 else {
      throw CheckpointError(.corrupt, "invalid protobuf field number \(number)", offset: start)
    }
    guard let wireType = WireType(rawValue: UInt8(tag & 7)) else {
      let kind = tag & 7 == 3 || tag & 7 == 4 ? "groups (wire types 3, 4) are not used by ONNX" : "unknown"
      throw CheckpointError(
        .corrupt, "field \(number) has wire type \(tag & 7): \(kind)", offset: start)
    }
    let payloadStart: Int
    let length: Int
    switch wireType {
    case .varint:
      payloadStart = position
      _ = try varint("field \(number)'s value")
      length = position - payloadStart
    case .fixed64, .fixed32:
      payloadStart = position
      length = wireType == .fixed64 ? 8 : 4
    case .lengthDelimited:
      let declared = try varint("field \(number)'s length")
      payloadStart = position
      guard declared <= UInt64(end - position) else {
        throw CheckpointError(
          .truncated,
          "field \(number) declares \(declared) bytes but its message has \(end - position) left",
          offset: start)
      }
      length = Int(declared)
    }
    guard length <= end - payloadStart else {
      throw CheckpointError(.truncated, "field \(number) runs past the end of its message", offset: start)
    }
    position = payloadStart + length
    return Field(
      number: Int(number), wireType: wireType, start: start, payload: payloadStart..<position)
  }

  /// The payload of `field` as a varint.
  func value(of field: Field, _ what: String) throws -> UInt64 {
    guard field.wireType == .varint else { throw wrongType(field, what, expected: "a varint") }
    var cursor = ProtobufWire(bytes, range: field.payload)
    return try cursor.varint(what)
  }

  /// The payload of `field` as a UTF-8 string.
  func string(of field: Field, _ what: String) throws -> String {
    guard field.wireType == .lengthDelimited else {
      throw wrongType(field, what, expected: "length-delimited")
    }
    let slice = UnsafeRawBufferPointer(rebasing: bytes[field.payload])
    guard let text = String(validating: slice, as: UTF8.self) else {
      throw CheckpointError(.corrupt, "\(what) is not valid UTF-8", offset: field.start)
    }
    return text
  }

  /// A cursor over the payload of the length-delimited `field` (an embedded message).
  func message(_ field: Field, _ what: String) throws -> ProtobufWire {
    guard field.wireType == .lengthDelimited else {
      throw wrongType(field, what, expected: "length-delimited")
    }
    return ProtobufWire(bytes, range: field.payload)
  }

  /// The error for a field whose wire type does not fit its schema.
  func wrongType(_ field: Field, _ what: String, expected: String) -> CheckpointError {
    CheckpointError(
      .corrupt,
      "\(what) (field \(field.number)) has wire type \(field.wireType.rawValue), expected \(expected)",
      offset: field.start)
  }
}

extension ProtobufWire {
  /// The number of varints in `range` (a packed repeated varint field), checking that the last ends there.
  static func varintCount(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) throws -> Int {
    var count = 0
    var run = 0
    for index in range {
      run += 1
      if bytes[index] & 0x80 == 0 {
        count += 1
        run = 0
      } else if run >= 10 {
        throw CheckpointError(.corrupt, "a packed varint is longer than 10 bytes", offset: index)
      }
    }
    guard run == 0 else {
      throw CheckpointError(
        .truncated, "a packed varint runs past the end of its field", offset: range.upperBound)
    }
    return count
  }

  /// Appends `value` as a varint to `bytes`.
  static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
    var rest = value
    while rest >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
      rest >>= 7
    }
    bytes.append(UInt8(rest))
  }

  /// The number of bytes `value` takes as a varint.
  static func varintSize(_ value: UInt64) -> Int {
    var size = 1
    var rest = value >> 7
    while rest != 0 {
      size += 1
      rest >>= 7
    }
    return size
  }

  /// The tag of field `number` with `wireType`, as bytes.
  static func tag(_ number: Int, _ wireType: WireType) -> [UInt8] {
    var bytes: [UInt8] = []
    appendVarint(UInt64(number) << 3 | UInt64(wireType.rawValue), to: &bytes)
    return bytes
  }
}
