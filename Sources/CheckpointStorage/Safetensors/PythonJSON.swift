import CheckpointCore

/// JSON text exactly as Python's `json.dumps(value, indent=2, sort_keys=True)` writes it.
///
/// Used for sharded-checkpoint indexes, which transformers writes that way
/// (plus a trailing newline): members sorted by code point, `": "` between
/// key and value, `","` at line ends, and `ensure_ascii` escaping — every
/// character outside printable ASCII as `\uXXXX` (lowercase hex, surrogate
/// pairs above U+FFFF), with `\n`, `\r`, `\t`, `\b`, `\f`, `\"` and `\\` as
/// short escapes.
enum PythonJSON {
  /// The indented text of `value` (without a trailing newline).
  static func indented(_ value: JSONValue) -> String {
    var out = ""
    write(value, level: 0, to: &out)
    return out
  }

  private static func write(_ value: JSONValue, level: Int, to out: inout String) {
    let inner = String(repeating: "  ", count: level + 1)
    switch value {
    case .object(let members):
      guard !members.isEmpty else {
        out += "{}"
        return
      }
      out += "{"
      let sorted = members.sorted { SafetensorsDTypes.codePointPrecedes($0.0, $1.0) }
      for (index, (key, member)) in sorted.enumerated() {
        out += (index == 0 ? "\n" : ",\n") + inner
        JSONValue.writeString(key, asciiOnly: true, to: &out)
        out += ": "
        write(member, level: level + 1, to: &out)
      }
      out += "\n" + String(repeating: "  ", count: level) + "}"
    case .array(let elements):
      guard !elements.isEmpty else {
        out += "[]"
        return
      }
      out += "["
      for (index, element) in elements.enumerated() {
        out += (index == 0 ? "\n" : ",\n") + inner
        write(element, level: level + 1, to: &out)
      }
      out += "\n" + String(repeating: "  ", count: level) + "]"
    case .string(let string):
      JSONValue.writeString(string, asciiOnly: true, to: &out)
    default:
      out += value.compactText
    }
  }
}
