import CheckpointCore

/// The header of a NumPy `.npy` array: magic `\x93NUMPY`, a version
/// (1.0, 2.0 or 3.0), the header length (16-bit in 1.0, 32-bit after) and a
/// Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
/// padded with spaces and a final newline.
///
/// Parsing is strict (see the dict grammar in ``NPYHeader/init(parsing:)``);
/// ``encode(descr:fortranOrder:shape:)`` produces the bytes numpy's
/// `np.save` writes for the same array.
public struct NPYHeader: Sendable, Equatable {
  /// `\x93NUMPY`.
  public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
  /// The largest header accepted when reading (numpy itself stops at 10,000 bytes by default).
  public static let maximumSize = 1 << 20

  /// The format version's major number (1, 2 or 3).
  public var majorVersion: UInt8
  /// The format version's minor number (0).
  public var minorVersion: UInt8
  /// The numpy dtype string (`<f4`, `|b1`, `>i8`, ...).
  public var descr: String
  /// Whether the data is in column-major (Fortran) order.
  public var fortranOrder: Bool
  /// The array's shape; `[]` for a 0-d array.
  public var shape: [Int]
  /// The number of bytes from the magic to the end of the header: where the data starts.
  public var size: Int

  /// Parses a whole header: magic, version, length and dict.
  ///
  /// - Throws: `CheckpointError` `.badFormat` for a bad magic, version or
  ///   dict, `.truncated` when `bytes` is shorter than the declared length,
  ///   `.unsupportedDType` for a structured dtype, `.invalidShape` for a
  ///   negative or overflowing dimension.
  public init(parsing bytes: [UInt8]) throws {
    let (major, minor, size) = try NPYHeader.preamble(bytes)
    guard bytes.count >= size else {
      throw CheckpointError(
        .truncated, "the .npy header declares \(size) bytes, only \(bytes.count) are there", offset: 0)
    }
    let dictStart = major == 1 ? 10 : 12
    let dict = Array(bytes[dictStart..<size])
    if major < 3, dict.contains(where: { $0 >= 0x80 }) {
      throw CheckpointError(.badFormat, "invalid .npy header: non-ASCII bytes in a version \(major) header")
    }
    var parser = NPYHeaderParser(dict, baseOffset: dictStart)
    let fields = try parser.parse()
    self.majorVersion = major
    self.minorVersion = minor
    self.descr = fields.descr
    self.fortranOrder = fields.fortranOrder
    self.shape = fields.shape
    self.size = size
  }

  /// The version and total header size from the first 10 (version 1) or 12 bytes.
  ///
  /// - Throws: `.badFormat` on a bad magic or version, `.truncated` when
  ///   `bytes` is too short to tell, `.corrupt` for a header over ``maximumSize``.
  public static func preamble(_ bytes: [UInt8]) throws -> (major: UInt8, minor: UInt8, size: Int) {
    let shown = min(bytes.count, magic.count)
    guard Array(bytes[0..<shown]) == Array(magic[0..<shown]) else {
      throw CheckpointError(
        .badFormat, "not a .npy array: the file does not start with \\x93NUMPY", offset: 0)
    }
    guard bytes.count >= 10 else {
      throw CheckpointError(.truncated, "the .npy header is cut off after \(bytes.count) bytes", offset: 0)
    }
    let major = bytes[6]
    let minor = bytes[7]
    guard (1...3).contains(major), minor == 0 else {
      throw CheckpointError(
        .badFormat, "unsupported .npy format version \(major).\(minor) (known: 1.0, 2.0, 3.0)", offset: 6)
    }
    var reader = ByteReader(bytes, baseOffset: 0)
    reader.position = 8
    let length: Int
    if major == 1 {
      length = Int(try reader.read(UInt16.self, "the .npy header length"))
    } else {
      length = Int(try reader.read(UInt32.self, "the .npy header length"))
    }
    let size = reader.position + length
    guard size <= maximumSize else {
      throw CheckpointError(
        .corrupt, "the .npy header declares \(length) bytes, more than the \(maximumSize) accepted", offset: 8
      )
    }
    return (major, minor, size)
  }

  /// Reads a header from the start of a byte stream of `available` bytes.
  ///
  /// - Parameters:
  ///   - available: the stream's length in bytes.
  ///   - prefix: returns the stream's first `n` bytes (`n <= available`).
  public static func read(available: Int, prefix: (Int) throws -> [UInt8]) throws -> NPYHeader {
    let start = try prefix(min(12, available))
    let (_, _, size) = try preamble(start)
    guard size <= available else {
      throw CheckpointError(
        .truncated, "the .npy header declares \(size) bytes, only \(available) are there", offset: 8)
    }
    return try NPYHeader(parsing: prefix(size))
  }

  /// The header numpy writes for an array: version 1.0 unless the dict is
  /// too long for a 16-bit length, then 2.0.
  ///
  /// Like `np.save`: keys sorted, `repr` values, spare spaces so the first
  /// dimension can grow to 21 digits in place, then spaces and `\n` up to a
  /// multiple of 64 bytes.
  public static func encode(descr: String, fortranOrder: Bool, shape: [Int]) throws -> [UInt8] {
    let shapeText: String
    switch shape.count {
    case 0: shapeText = "()"
    case 1: shapeText = "(\(shape[0]),)"
    default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
    var dict =
      "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
    if let growing = fortranOrder ? shape.last : shape.first {
      dict += String(repeating: " ", count: max(0, 21 - String(growing).count))
    }
    let text = Array(dict.utf8)
    for major: UInt8 in [1, 2] {
      let prefixSize = major == 1 ? 10 : 12
      let length = text.count + 1
      let padding = 64 - (prefixSize + length) % 64
      let total = length + padding
      if major == 1 && total > 0xFFFF { continue }
      var bytes = magic + [major, 0]
      if major == 1 {
        bytes.appendLittleEndian(UInt16(total))
      } else {
        guard let total32 = UInt32(exactly: total) else { break }
        bytes.appendLittleEndian(total32)
      }
      bytes += text
      bytes += [UInt8](repeating: 0x20, count: padding)
      bytes.append(0x0A)
      return bytes
    }
    throw CheckpointError(.invalidShape, "the .npy header for shape \(Shape.describe(shape)) is too long")
  }
}
