import CheckpointCore

/// How GGUF key-value pairs appear in `Checkpoint/metadata` and how they are written back.
///
/// Reading renders every value as text:
/// - strings as they are; integers in decimal; `bool` as `true`/`false`;
/// - `f32` as the shortest text that reads back to the same `Float` (`0.1`), `f64` likewise;
///   non-finite values as `nan`, `inf`, `-inf`;
/// - arrays as compact JSON: strings as JSON strings, integers and booleans as JSON literals,
///   floats as the shortest text of their `Double` value (`0.10000000149011612` for an `f32`
///   0.1, as gguf-py prints it), non-finite floats as the strings `"nan"`, `"inf"`, `"-inf"`,
///   nested arrays nested.
///
/// The GGUF types and the file's key order are kept under ``typesKey`` as a JSON array of
/// `[key, type]` pairs (`[["general.architecture","string"],["llama.block_count","u32"], ...]`,
/// types spelled `u8`, `i8`, `u16`, `i16`, `u32`, `i32`, `f32`, `bool`, `string`, `u64`,
/// `i64`, `f64`, `array[T]`). Writing GGUF parses each listed key back to its type, in that
/// order, so gguf → gguf (also through safetensors metadata) keeps types and order; keys not
/// listed (metadata from other formats) follow, sorted, as GGUF strings, except
/// `general.alignment`, always a `u32`.
public enum GGUFMetadata {
  /// The metadata key holding the GGUF types and key order.
  public static let typesKey = "ckpt.gguf_types"
  /// The key whose `u32` value sets the data alignment.
  public static let alignmentKey = "general.alignment"

  /// Renders `pairs` as checkpoint metadata, with the ``typesKey`` entry.
  public static func render(_ pairs: [(key: String, value: GGUFValue)]) -> [String: String] {
    var metadata: [String: String] = [:]
    var types: [JSONValue] = []
    for (key, value) in pairs {
      metadata[key] = render(value)
      types.append(.array([.string(key), .string(value.typeSpelling)]))
    }
    if !pairs.isEmpty { metadata[typesKey] = JSONValue.array(types).compactText }
    return metadata
  }

  /// The text of one value (see the type's documentation).
  public static func render(_ value: GGUFValue) -> String {
    switch value {
    case .string(let s): return s
    case .array: return renderJSON(value)
    case .float32(let v): return v.isNaN ? "nan" : "\(v)"
    case .float64(let v): return v.isNaN ? "nan" : "\(v)"
    case .bool(let v): return v ? "true" : "false"
    case .uint8(let v): return String(v)
    case .int8(let v): return String(v)
    case .uint16(let v): return String(v)
    case .int16(let v): return String(v)
    case .uint32(let v): return String(v)
    case .int32(let v): return String(v)
    case .uint64(let v): return String(v)
    case .int64(let v): return String(v)
    }
  }

  private static func renderJSON(_ value: GGUFValue) -> String {
    switch value {
    case .string(let s): return JSONValue.string(s).compactText
    case .array(_, let items): return "[" + items.map(renderJSON).joined(separator: ",") + "]"
    case .float32(let v): return renderJSON(double: Double(v))
    case .float64(let v): return renderJSON(double: v)
    default: return render(value)
    }
  }

  private static func renderJSON(double v: Double) -> String {
    if v.isNaN { return "\"nan\"" }
    if v.isInfinite { return v < 0 ? "\"-inf\"" : "\"inf\"" }
    return "\(v)"
  }

  /// The key-value pairs to write for `metadata`: typed keys from ``typesKey`` first, in their
  /// order, then the other keys sorted, as strings.
  ///
  /// - Throws: `CheckpointError` `.invalidArgument` when a typed value no longer parses as its
  ///   type, or when `general.alignment` is not a power-of-two `u32`.
  public static func pairs(from metadata: [String: String]) throws -> [(key: String, value: GGUFValue)] {
    var result: [(key: String, value: GGUFValue)] = []
    var done = Set<String>([typesKey])
    if let typesText = metadata[typesKey] {
      guard let list = (try? JSONValue.parse(Array(typesText.utf8)))?.arrayValue else {
        throw CheckpointError(
          .invalidArgument, "metadata \(typesKey) is not a JSON array of [key, type] pairs")
      }
      for entry in list {
        guard let pair = entry.arrayValue, pair.count == 2, let key = pair[0].stringValue,
          let type = pair[1].stringValue
        else {
          throw CheckpointError(.invalidArgument, "metadata \(typesKey) has an entry that is not [key, type]")
        }
        guard let text = metadata[key], !done.contains(key) else { continue }
        done.insert(key)
        result.append((key, try parse(text, as: type, key: key)))
      }
    }
    for key in metadata.keys.sorted() where !done.contains(key) {
      let text = metadata[key] ?? ""
      result.append((key, key == alignmentKey ? try parse(text, as: "u32", key: key) : .string(text)))
    }
    if let alignment = result.first(where: { $0.key == alignmentKey })?.value {
      guard case .uint32(let v) = alignment, v > 0, v & (v - 1) == 0 else {
        throw CheckpointError(.invalidArgument, "\(alignmentKey) must be a power-of-two u32")
      }
    }
    return result
  }

  /// Parses `text` (as rendered by `render(_:)` of one value) as a value of `type`.
  public static func parse(_ text: String, as type: String, key: String) throws -> GGUFValue {
    let failure = CheckpointError(
      .invalidArgument, "metadata '\(key)' = '\(text.prefix(80))' is not a GGUF \(type) value")
    if type.hasPrefix("array[") {
      guard let json = try? JSONValue.parse(Array(text.utf8)) else { throw failure }
      guard let value = parse(json: json, as: type) else { throw failure }
      return value
    }
    guard let valueType = GGUFValueType(shortName: type), let value = parse(scalar: text, as: valueType)
    else {
      throw failure
    }
    return value
  }

  private static func parse(scalar text: String, as type: GGUFValueType) -> GGUFValue? {
    switch type {
    case .string: return .string(text)
    case .bool: return text == "true" ? .bool(true) : text == "false" ? .bool(false) : nil
    case .uint8: return UInt8(text).map { .uint8($0) }
    case .int8: return Int8(text).map { .int8($0) }
    case .uint16: return UInt16(text).map { .uint16($0) }
    case .int16: return Int16(text).map { .int16($0) }
    case .uint32: return UInt32(text).map { .uint32($0) }
    case .int32: return Int32(text).map { .int32($0) }
    case .uint64: return UInt64(text).map { .uint64($0) }
    case .int64: return Int64(text).map { .int64($0) }
    case .float32: return Float(text).map { .float32($0) }
    case .float64: return Double(text).map { .float64($0) }
    case .array: return nil
    }
  }

  private static func parse(json: JSONValue, as type: String) -> GGUFValue? {
    if type.hasPrefix("array["), type.hasSuffix("]") {
      let inner = String(type.dropFirst(6).dropLast())
      guard let items = json.arrayValue else { return nil }
      var values: [GGUFValue] = []
      values.reserveCapacity(items.count)
      for item in items {
        guard let value = parse(json: item, as: inner) else { return nil }
        values.append(value)
      }
      let elementType = inner.hasPrefix("array[") ? GGUFValueType.array : GGUFValueType(shortName: inner)
      return elementType.map { .array($0, values) }
    }
    guard let valueType = GGUFValueType(shortName: type) else { return nil }
    switch (valueType, json) {
    case (.string, .string(let s)): return .string(s)
    case (.bool, .bool(let b)): return .bool(b)
    case (.float32, .string(let s)), (.float64, .string(let s)):
      return parse(scalar: s, as: valueType)
    case (.float32, _), (.float64, _):
      let double: Double
      switch json {
      case .double(let v): double = v
      case .integer(let v): double = Double(v)
      case .unsignedInteger(let v): double = Double(v)
      default: return nil
      }
      return valueType == .float32 ? .float32(Float(double)) : .float64(double)
    case (_, .integer(let v)): return parse(scalar: String(v), as: valueType)
    case (_, .unsignedInteger(let v)): return parse(scalar: String(v), as: valueType)
    default: return nil
    }
  }
}
