/// A JSON value with exact integers and ordered object members.
///
/// Checkpoint headers (safetensors, sharded indexes, Keras configs) are JSON
/// from untrusted files. Unlike `JSONSerialization`, `JSONValue/parse(_:)`
/// keeps 64-bit integers exact, keeps member order and rejects duplicate keys.
public indirect enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  /// An integer that fits in `Int64`.
  case integer(Int64)
  /// An integer above `Int64.max` that fits in `UInt64`.
  case unsignedInteger(UInt64)
  /// Any other number.
  case double(Double)
  case string(String)
  case array([JSONValue])
  /// Members in document order; keys are unique.
  case object([(String, JSONValue)])

  /// Equal when both are the same kind with equal contents; object members compare in order.
  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.integer(let a), .integer(let b)): return a == b
    case (.unsignedInteger(let a), .unsignedInteger(let b)): return a == b
    case (.double(let a), .double(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.array(let a), .array(let b)): return a == b
    case (.object(let a), .object(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  /// The member named `key` of an object.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.0 == key }?.1
  }

  /// The string value, if this is a string.
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The value as `Int`, if this is an integer that fits.
  public var intValue: Int? {
    switch self {
    case .integer(let v): return Int(exactly: v)
    case .unsignedInteger(let v): return Int(exactly: v)
    default: return nil
    }
  }

  /// Whether this is a number.
  public var isNumber: Bool {
    switch self {
    case .integer, .unsignedInteger, .double: return true
    default: return false
    }
  }

  /// The elements, if this is an array.
  public var arrayValue: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }

  /// The members, if this is an object.
  public var objectValue: [(String, JSONValue)]? {
    if case .object(let m) = self { return m }
    return nil
  }
}

// MARK: - Parsing

extension JSONValue {
  /// A JSON syntax error at a byte offset of the text.
  public struct ParseError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem it is, for code that handles one differently (a duplicate key is a
    /// duplicate tensor name in a safetensors header); the message is for people.
    public enum Reason: Sendable, Equatable {
      /// The text is not valid JSON.
      case syntax
      /// An object has this key twice; the offset is the second one's.
      case duplicateKey(String)
    }

    /// What was wrong.
    public var message: String
    /// The byte offset in the JSON text.
    public var offset: Int
    /// What kind of problem it is.
    public var reason: Reason = .syntax
    /// The error as messages print it.
    public var description: String { "invalid JSON at byte \(offset) of the header: \(message)" }
  }

  /// Parses UTF-8 JSON text strictly (RFC 8259), rejecting duplicate keys,
  /// invalid UTF-8, trailing content and nesting deeper than `maxDepth`.
  public static func parse<C: Collection>(_ text: C, maxDepth: Int = 64) throws -> JSONValue
  where C.Element == UInt8 {
    var parser = Parser(bytes: Array(text), maxDepth: maxDepth)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    guard parser.index == parser.bytes.count else {
      throw parser.error("unexpected content after the top-level value")
    }
    return value
  }

  private struct Parser {
    let bytes: [UInt8]
    let maxDepth: Int
    var index = 0

    init(bytes: [UInt8], maxDepth: Int) {
      self.bytes = bytes
      self.maxDepth = maxDepth
    }

    func error(_ message: String) -> ParseError { ParseError(message: message, offset: index) }

    mutating func skipWhitespace() {
      while index < bytes.count,
        bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
      {
        index += 1
      }
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
      guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
      guard index < bytes.count else { throw error("unexpected end of text") }
      switch bytes[index] {
      case UInt8(ascii: "{"): return try parseObject(depth: depth)
      case UInt8(ascii: "["): return try parseArray(depth: depth)
      case UInt8(ascii: "\""): return .string(try parseString())
      case UInt8(ascii: "t"):
        try expectLiteral("true")
        return .bool(true)
      case UInt8(ascii: "f"):
        try expectLiteral("false")
        return .bool(false)
      case UInt8(ascii: "n"):
        try expectLiteral("null")
        return .null
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
      default: throw error("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
      }
    }

    mutating func expectLiteral(_ literal: String) throws {
      let utf8 = Array(literal.utf8)
      guard bytes.count - index >= utf8.count, Array(bytes[index..<index + utf8.count]) == utf8
      else { throw error("invalid literal") }
      index += utf8.count
    }

    mutating func parseObject(depth: Int) throws -> JSONValue {
      index += 1
      var members: [(String, JSONValue)] = []
      var keys = Set<String>()
      skipWhitespace()
      if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
        index += 1
        return .object(members)
      }
      while true {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
          throw error("expected a string key")
        }
        let keyOffset = index
        let key = try parseString()
        guard keys.insert(key).inserted else {
          throw ParseError(message: "duplicate key \"\(key)\"", offset: keyOffset, reason: .duplicateKey(key))
        }
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
          throw error("expected ':' after a key")
        }
        index += 1
        skipWhitespace()
        members.append((key, try parseValue(depth: depth + 1)))
        skipWhitespace()
        guard index < bytes.count else { throw error("unterminated object") }
        if bytes[index] == UInt8(ascii: ",") {
          index += 1
          continue
        }
        guard bytes[index] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
        index += 1
        return .object(members)
      }
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
      index += 1
      var elements: [JSONValue] = []
      skipWhitespace()
      if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
        index += 1
        return .array(elements)
      }
      while true {
        skipWhitespace()
        elements.append(try parseValue(depth: depth + 1))
        skipWhitespace()
        guard index < bytes.count else { throw error("unterminated array") }
        if bytes[index] == UInt8(ascii: ",") {
          index += 1
          continue
        }
        guard bytes[index] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
        index += 1
        return .array(elements)
      }
    }

    mutating func parseHex4() throws -> UInt16 {
      guard bytes.count - index >= 4 else { throw error("truncated \\u escape") }
      var value: UInt16 = 0
      for _ in 0..<4 {
        let c = bytes[index]
        let digit: UInt8
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
        default: throw error("invalid hex digit in \\u escape")
        }
        value = value << 4 | UInt16(digit)
        index += 1
      }
      return value
    }

    mutating func parseString() throws -> String {
      index += 1
      var out: [UInt8] = []
      var runStart = index
      while true {
        guard index < bytes.count else { throw error("unterminated string") }
        let c = bytes[index]
        if c == UInt8(ascii: "\"") {
          out.append(contentsOf: bytes[runStart..<index])
          index += 1
          break
        }
        if c < 0x20 { throw error("control character in string") }
        if c == UInt8(ascii: "\\") {
          out.append(contentsOf: bytes[runStart..<index])
          index += 1
          guard index < bytes.count else { throw error("unterminated escape") }
          let e = bytes[index]
          index += 1
          switch e {
          case UInt8(ascii: "\""): out.append(0x22)
          case UInt8(ascii: "\\"): out.append(0x5C)
          case UInt8(ascii: "/"): out.append(0x2F)
          case UInt8(ascii: "b"): out.append(0x08)
          case UInt8(ascii: "f"): out.append(0x0C)
          case UInt8(ascii: "n"): out.append(0x0A)
          case UInt8(ascii: "r"): out.append(0x0D)
          case UInt8(ascii: "t"): out.append(0x09)
          case UInt8(ascii: "u"):
            var scalarValue = UInt32(try parseHex4())
            if (0xD800..<0xDC00).contains(scalarValue) {
              guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                bytes[index + 1] == UInt8(ascii: "u")
              else { throw error("unpaired surrogate in \\u escape") }
              index += 2
              let low = UInt32(try parseHex4())
              guard (0xDC00..<0xE000).contains(low) else { throw error("invalid low surrogate") }
              scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalarValue) {
              throw error("unpaired low surrogate in \\u escape")
            }
            guard let scalar = Unicode.Scalar(scalarValue) else { throw error("invalid \\u escape") }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
          default: throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
          }
          runStart = index
          continue
        }
        index += 1
      }
      guard let string = String(validating: out, as: UTF8.self) else {
        throw error("string is not valid UTF-8")
      }
      return string
    }

    mutating func parseNumber() throws -> JSONValue {
      let start = index
      var isInteger = true
      if bytes[index] == UInt8(ascii: "-") { index += 1 }
      guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
        throw error("invalid number")
      }
      if bytes[index] == UInt8(ascii: "0") {
        index += 1
      } else {
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
          index += 1
        }
      }
      if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        isInteger = false
        index += 1
        let digits = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
          index += 1
        }
        guard index > digits else { throw error("invalid fraction") }
      }
      if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
        isInteger = false
        index += 1
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
          index += 1
        }
        let digits = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
          index += 1
        }
        guard index > digits else { throw error("invalid exponent") }
      }
      let text = String(decoding: bytes[start..<index], as: UTF8.self)
      if isInteger {
        if let v = Int64(text) { return .integer(v) }
        if let v = UInt64(text) { return .unsignedInteger(v) }
      }
      guard let v = Double(text) else { throw error("number out of range") }
      return .double(v)
    }
  }
}

// MARK: - Writing

extension JSONValue {
  /// Compact JSON text (no spaces), members in order.
  public var compactText: String {
    var out = ""
    write(to: &out, indent: nil, level: 0)
    return out
  }

  /// Pretty JSON text, two-space indentation, members in order.
  public var prettyText: String {
    var out = ""
    write(to: &out, indent: "  ", level: 0)
    return out
  }

  private func write(to out: inout String, indent: String?, level: Int) {
    func newline(_ level: Int) {
      if let indent { out += "\n" + String(repeating: indent, count: level) }
    }
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .integer(let v): out += String(v)
    case .unsignedInteger(let v): out += String(v)
    case .double(let v):
      if v.isFinite {
        out += v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
      } else {
        out += "null"
      }
    case .string(let s): JSONValue.writeString(s, to: &out)
    case .array(let elements):
      if elements.isEmpty {
        out += "[]"
        return
      }
      if indent != nil, elements.allSatisfy(\.isNumber) {
        // Shapes and other lists of numbers stay on one line.
        out += "[" + elements.map(\.compactText).joined(separator: ", ") + "]"
        return
      }
      out += "["
      for (i, element) in elements.enumerated() {
        if i > 0 { out += "," }
        newline(level + 1)
        element.write(to: &out, indent: indent, level: level + 1)
      }
      newline(level)
      out += "]"
    case .object(let members):
      if members.isEmpty {
        out += "{}"
        return
      }
      out += "{"
      for (i, (key, value)) in members.enumerated() {
        if i > 0 { out += "," }
        newline(level + 1)
        JSONValue.writeString(key, to: &out)
        out += indent == nil ? ":" : ": "
        value.write(to: &out, indent: indent, level: level + 1)
      }
      newline(level)
      out += "}"
    }
  }

  /// Appends `s` as a quoted JSON string: short escapes for `"`, `\\` and the
  /// common controls, `\uXXXX` (lowercase hex) for other controls and, with
  /// `asciiOnly` (Python's `ensure_ascii`), for every non-ASCII character
  /// (UTF-16 surrogate pairs above U+FFFF).
  public static func writeString(_ s: String, asciiOnly: Bool = false, to out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if scalar.value >= 0x20 && (scalar.value < 0x7F || !asciiOnly) {
          out.unicodeScalars.append(scalar)
        } else {
          for unit in String(scalar).utf16 {
            let hex = String(unit, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
          }
        }
      }
    }
    out += "\""
  }
}
