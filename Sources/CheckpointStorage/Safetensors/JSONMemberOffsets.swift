import CheckpointCore

/// Byte offsets of the members of a JSON object in its text.
///
/// ``JSONValue`` keeps member order but not positions; error messages about a
/// header field need the byte offset of that field. This scanner walks text
/// that ``JSONValue/parse(_:maxDepth:)`` has already accepted, so it only has
/// to skip strings and nested values; every access is still bounds-checked
/// and a malformed input ends the scan early instead of trapping.
enum JSONMemberOffsets {
  /// Where one member's key and value begin, as offsets into the text.
  struct Member: Equatable {
    /// The offset of the key's opening quote.
    var key: Int
    /// The offset of the value's first byte.
    var value: Int
  }

  /// The members of the object whose `{` is at `start` in `text`, in document order.
  static func members(in text: [UInt8], objectAt start: Int) -> [Member] {
    var members: [Member] = []
    guard start >= 0, start < text.count, text[start] == UInt8(ascii: "{") else { return members }
    var index = start + 1
    while true {
      skipWhitespace(text, &index)
      guard index < text.count, text[index] == UInt8(ascii: "\"") else { return members }
      let key = index
      skipString(text, &index)
      skipWhitespace(text, &index)
      guard index < text.count, text[index] == UInt8(ascii: ":") else { return members }
      index += 1
      skipWhitespace(text, &index)
      members.append(Member(key: key, value: index))
      skipValue(text, &index)
      skipWhitespace(text, &index)
      guard index < text.count, text[index] == UInt8(ascii: ",") else { return members }
      index += 1
    }
  }

  /// The offset of the first byte that is not JSON whitespace, at or after `start`.
  static func firstNonWhitespace(in text: [UInt8], from start: Int = 0) -> Int {
    var index = start
    skipWhitespace(text, &index)
    return index
  }

  /// How many objects and arrays are open just before `offset`.
  static func depth(in text: [UInt8], at offset: Int) -> Int {
    var depth = 0
    var index = 0
    let end = min(offset, text.count)
    while index < end {
      switch text[index] {
      case UInt8(ascii: "\""):
        skipString(text, &index)
        continue
      case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
      default: break
      }
      index += 1
    }
    return depth
  }

  private static func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
  }

  private static func skipWhitespace(_ text: [UInt8], _ index: inout Int) {
    while index < text.count, isWhitespace(text[index]) { index += 1 }
  }

  /// Moves past the string whose opening quote is at `index`.
  private static func skipString(_ text: [UInt8], _ index: inout Int) {
    index += 1
    while index < text.count {
      switch text[index] {
      case UInt8(ascii: "\\"): index += 2
      case UInt8(ascii: "\""):
        index += 1
        return
      default: index += 1
      }
    }
  }

  /// Moves past the value that begins at `index`.
  private static func skipValue(_ text: [UInt8], _ index: inout Int) {
    guard index < text.count else { return }
    switch text[index] {
    case UInt8(ascii: "\""):
      skipString(text, &index)
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      var depth = 0
      while index < text.count {
        switch text[index] {
        case UInt8(ascii: "\""):
          skipString(text, &index)
          continue
        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
          depth -= 1
          if depth == 0 {
            index += 1
            return
          }
        default: break
        }
        index += 1
      }
    default:
      while index < text.count, !isWhitespace(text[index]),
        text[index] != UInt8(ascii: ","), text[index] != UInt8(ascii: "}"), text[index] != UInt8(ascii: "]")
      {
        index += 1
      }
    }
  }
}
