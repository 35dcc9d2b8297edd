import CheckpointCore

/// A strict parser for the `.npy` header: the Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
///
/// Only what numpy writes for plain dtypes is accepted: string keys and
/// values in single or double quotes without escapes, `True`/`False`, and
/// tuples of non-negative decimal integers; whitespace between tokens and
/// after the closing brace. Each of the three keys exactly once, no others.
/// A list in `descr` is a structured (record) dtype and is refused as such.
struct NPYHeaderParser {
  private let text: [UInt8]
  private var position = 0
  /// Added to positions in error offsets (the dict's offset in the file).
  private let baseOffset: Int

  private enum Value {
    case string(String)
    case bool(Bool)
    case integers([Int])
  }

  init(_ text: [UInt8], baseOffset: Int) {
    self.text = text
    self.baseOffset = baseOffset
  }

  /// Parses the dict into descr, fortran_order and shape.
  mutating func parse() throws -> (descr: String, fortranOrder: Bool, shape: [Int]) {
    skipWhitespace()
    try expect(UInt8(ascii: "{"), "'{' opening the header dict")
    var values: [String: Value] = [:]
    while true {
      skipWhitespace()
      if peek() == UInt8(ascii: "}") { break }
      let keyOffset = position
      let key = try parseString()
      guard ["descr", "fortran_order", "shape"].contains(key) else {
        throw failure("unexpected key '\(key)' in the header dict", at: keyOffset)
      }
      skipWhitespace()
      try expect(UInt8(ascii: ":"), "':' after '\(key)'")
      skipWhitespace()
      let value = try parseValue(for: key)
      guard values.updateValue(value, forKey: key) == nil else {
        throw failure("key '\(key)' appears twice in the header dict", at: keyOffset)
      }
      skipWhitespace()
      if peek() == UInt8(ascii: ",") {
        position += 1
        continue
      }
      guard peek() == UInt8(ascii: "}") else {
        throw failure("expected ',' or '}' in the header dict", at: position)
      }
    }
    position += 1
    skipWhitespace()
    guard position == text.count else {
      throw failure("unexpected text after the header dict", at: position)
    }
    guard case .string(let descr)? = values["descr"] else {
      throw failure(values["descr"] == nil ? "header has no 'descr'" : "'descr' must be a string", at: 0)
    }
    guard case .bool(let fortranOrder)? = values["fortran_order"] else {
      throw failure(
        values["fortran_order"] == nil
          ? "header has no 'fortran_order'" : "'fortran_order' must be True or False",
        at: 0)
    }
    guard case .integers(let shape)? = values["shape"] else {
      throw failure(
        values["shape"] == nil ? "header has no 'shape'" : "'shape' must be a tuple of integers", at: 0)
    }
    return (descr, fortranOrder, shape)
  }

  private func peek() -> UInt8? {
    position < text.count ? text[position] : nil
  }

  private mutating func skipWhitespace() {
    while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
      position += 1
    }
  }

  private mutating func expect(_ byte: UInt8, _ what: String) throws {
    guard peek() == byte else { throw failure("expected \(what)", at: position) }
    position += 1
  }

  private func failure(_ message: String, at offset: Int) -> CheckpointError {
    CheckpointError(.badFormat, "invalid .npy header: \(message)", offset: baseOffset + offset)
  }

  private mutating func parseValue(for key: String) throws -> Value {
    switch peek() {
    case UInt8(ascii: "'"), UInt8(ascii: "\""):
      return .string(try parseString())
    case UInt8(ascii: "T"), UInt8(ascii: "F"):
      return .bool(try parseBool())
    case UInt8(ascii: "("):
      return .integers(try parseTuple())
    case UInt8(ascii: "[") where key == "descr":
      throw CheckpointError(
        .unsupportedDType,
        "structured (record) dtypes are not supported: '\(key)' is a list of fields",
        offset: baseOffset + position)
    default:
      throw failure("unsupported value for '\(key)' (expected a string, True/False or a tuple)", at: position)
    }
  }

  private mutating func parseString() throws -> String {
    let start = position
    guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
      throw failure("expected a quoted string", at: position)
    }
    position += 1
    var bytes: [UInt8] = []
    while let byte = peek(), byte != quote {
      guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else {
        throw failure("unsupported character 0x\(String(byte, radix: 16)) in a string", at: position)
      }
      bytes.append(byte)
      position += 1
    }
    guard peek() == quote else { throw failure("unterminated string", at: start) }
    position += 1
    return String(decoding: bytes, as: UTF8.self)
  }

  private mutating func parseBool() throws -> Bool {
    for (word, value) in [("True", true), ("False", false)] {
      let bytes = Array(word.utf8)
      if position + bytes.count <= text.count, Array(text[position..<position + bytes.count]) == bytes {
        position += bytes.count
        if let next = peek(), isIdentifierByte(next) { break }
        return value
      }
    }
    throw failure("expected True or False", at: position)
  }

  private func isIdentifierByte(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
      || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
      || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
  }

  /// `()`, `(n,)`, `(n, m)` or `(n, m,)`: a one-element tuple needs its comma.
  private mutating func parseTuple() throws -> [Int] {
    let start = position
    position += 1
    var items: [Int] = []
    var sawComma = false
    while true {
      skipWhitespace()
      if peek() == UInt8(ascii: ")") { break }
      items.append(try parseInteger())
      skipWhitespace()
      if peek() == UInt8(ascii: ",") {
        position += 1
        sawComma = true
        continue
      }
      guard peek() == UInt8(ascii: ")") else {
        throw failure("expected ',' or ')' in the shape tuple", at: position)
      }
      sawComma = false
      break
    }
    position += 1
    guard items.count != 1 || sawComma else {
      throw failure(
        "'shape' must be a tuple: (\(items[0])) is a plain integer, write (\(items[0]),)", at: start)
    }
    return items
  }

  private mutating func parseInteger() throws -> Int {
    let start = position
    let negative = peek() == UInt8(ascii: "-")
    if negative { position += 1 }
    var value = 0
    var digits = 0
    while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
      let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
      guard !overflow1, !overflow2 else {
        throw CheckpointError(
          .invalidShape, "shape dimension overflows a 64-bit integer", offset: baseOffset + start)
      }
      value = sum
      digits += 1
      position += 1
    }
    guard digits > 0 else { throw failure("expected an integer in the shape tuple", at: start) }
    guard digits == 1 || text[negative ? start + 1 : start] != UInt8(ascii: "0") else {
      throw failure("integer with leading zeros in the shape tuple", at: start)
    }
    if let next = peek(), isIdentifierByte(next) {
      throw failure("unexpected '\(Character(Unicode.Scalar(next)))' after an integer", at: position)
    }
    guard !negative || value == 0 else {
      throw CheckpointError(
        .invalidShape, "negative dimension -\(value) in the shape", offset: baseOffset + start)
    }
    return value
  }
}
