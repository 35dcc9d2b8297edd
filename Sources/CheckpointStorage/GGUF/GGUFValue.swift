import CheckpointCore

/// A GGUF metadata value of any of the 13 GGUF value types, arrays (also nested) included.
public indirect enum GGUFValue: Sendable, Equatable {
  case uint8(UInt8)
  case int8(Int8)
  case uint16(UInt16)
  case int16(Int16)
  case uint32(UInt32)
  case int32(Int32)
  case float32(Float)
  case bool(Bool)
  case string(String)
  /// An array: the element type and the elements (all of that type).
  case array(GGUFValueType, [GGUFValue])
  case uint64(UInt64)
  case int64(Int64)
  case float64(Double)

  /// The value's type.
  public var type: GGUFValueType {
    switch self {
    case .uint8: return .uint8
    case .int8: return .int8
    case .uint16: return .uint16
    case .int16: return .int16
    case .uint32: return .uint32
    case .int32: return .int32
    case .float32: return .float32
    case .bool: return .bool
    case .string: return .string
    case .array: return .array
    case .uint64: return .uint64
    case .int64: return .int64
    case .float64: return .float64
    }
  }

  /// The full type spelling kept in ``GGUFMetadata/typesKey``: `u32`, `string`,
  /// `array[f32]`, `array[array[i32]]`.
  ///
  /// An empty nested array spells its element type as stored.
  public var typeSpelling: String {
    guard case .array(let elementType, let items) = self else { return type.shortName }
    if elementType == .array {
      return "array[\(items.first?.typeSpelling ?? "array[u8]")]"
    }
    return "array[\(elementType.shortName)]"
  }

  /// Appends the value's encoding (without its type tag) to `bytes`.
  public func encode(into bytes: inout [UInt8]) {
    switch self {
    case .uint8(let v): bytes.append(v)
    case .int8(let v): bytes.append(UInt8(bitPattern: v))
    case .uint16(let v): bytes.appendLittleEndian(v)
    case .int16(let v): bytes.appendLittleEndian(v)
    case .uint32(let v): bytes.appendLittleEndian(v)
    case .int32(let v): bytes.appendLittleEndian(v)
    case .float32(let v): bytes.appendLittleEndian(v.bitPattern)
    case .bool(let v): bytes.append(v ? 1 : 0)
    case .string(let s): GGUFValue.encode(string: s, into: &bytes)
    case .array(let elementType, let items):
      bytes.appendLittleEndian(elementType.rawValue)
      bytes.appendLittleEndian(UInt64(items.count))
      for item in items { item.encode(into: &bytes) }
    case .uint64(let v): bytes.appendLittleEndian(v)
    case .int64(let v): bytes.appendLittleEndian(v)
    case .float64(let v): bytes.appendLittleEndian(v.bitPattern)
    }
  }

  /// Appends a GGUF string (`u64` byte length, UTF-8 bytes).
  public static func encode(string: String, into bytes: inout [UInt8]) {
    let utf8 = Array(string.utf8)
    bytes.appendLittleEndian(UInt64(utf8.count))
    bytes.append(contentsOf: utf8)
  }
}
