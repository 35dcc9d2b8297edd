import CheckpointCore
import Foundation

/// Malformed safetensors files for rejection tests, each crafted from the
/// valid fixture `safetensors/bf16.safetensors` (written by the library) by
/// editing its header text, its length field or its data.
public struct MalformedSafetensors: Sendable {
  /// A short name for test messages (also usable as a file name).
  public var name: String
  /// The crafted file's bytes.
  public var bytes: [UInt8]
  /// The error kind a reader must report.
  public var kind: CheckpointError.Kind
  /// Text the error message must contain.
  public var message: String
  /// The tensor the error must name, if any.
  public var tensor: String?
  /// The byte offset the error must name.
  public var offset: Int

  /// The fixture every case starts from.
  public static let baseFixture = "safetensors/bf16.safetensors"

  /// Every rejection case.
  public static func all() throws -> [MalformedSafetensors] {
    let file = try TestFixtures.bytes(baseFixture)
    var lengthReader = ByteReader(Array(file.prefix(8)))
    let length = Int(try lengthReader.read(UInt64.self))
    let header = String(decoding: file[8..<8 + length], as: UTF8.self)
      .trimmingTrailingSpaces()
    let data = Array(file[(8 + length)...])

    /// A file with `text` as its header (padded like the library pads) and `data`.
    func craft(_ text: String, data: [UInt8] = data) -> [UInt8] {
      var headerBytes = Array(text.utf8)
      headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
      return UInt64(headerBytes.count).littleEndianBytes + headerBytes + data
    }
    /// The file offset of the first occurrence of `needle` in the header `text`.
    func at(_ needle: String, in text: String) -> Int {
      let hay = Array(text.utf8)
      let pattern = Array(needle.utf8)
      for start in 0...(hay.count - pattern.count) where Array(hay[start..<start + pattern.count]) == pattern
      {
        return 8 + start
      }
      return -1
    }
    func edited(_ old: String, _ new: String) -> String {
      header.replacingFirst(old, with: new)
    }

    var cases: [MalformedSafetensors] = []
    func add(
      _ name: String, _ bytes: [UInt8], _ kind: CheckpointError.Kind, _ message: String,
      tensor: String? = nil, offset: Int
    ) {
      cases.append(
        MalformedSafetensors(
          name: name, bytes: bytes, kind: kind, message: message, tensor: tensor, offset: offset))
    }

    add("too-short", Array(file.prefix(7)), .truncated, "too short", offset: 0)
    add(
      "header-too-large", UInt64(100_000_001).littleEndianBytes + Array(file[8...]), .corrupt,
      "exceeds the limit", offset: 0)
    add(
      "header-past-eof", UInt64(file.count).littleEndianBytes + Array(file[8...]), .truncated,
      "runs past the end of the file", offset: 0)
    var notUTF8 = craft(header)
    let nameOffset = at("norm.weight", in: header)
    notUTF8[nameOffset + 2] = 0xFF
    add("not-utf8", notUTF8, .corrupt, "not valid UTF-8", offset: nameOffset + 2)
    let unclosed = edited("\"shape\":[3]", "\"shape\":[3}")
    add("not-json", craft(unclosed), .corrupt, "not valid JSON", offset: at("[3}", in: unclosed) + 2)
    add("not-object", craft("[1, 2]", data: []), .corrupt, "not a JSON object", offset: 8)
    let metadataString = edited("{\"format\":\"pt\"}", "\"pt\"")
    add(
      "metadata-not-object", craft(metadataString), .corrupt, "__metadata__ is not an object",
      offset: at("\"pt\"", in: metadataString))
    let metadataNumber = edited("{\"format\":\"pt\"}", "{\"format\":1}")
    add(
      "metadata-value-not-string", craft(metadataNumber), .corrupt, "value of 'format' is not a string",
      offset: at("1}", in: metadataNumber))
    let missing = edited("\"shape\":[3],", "")
    add(
      "missing-shape", craft(missing), .corrupt, "no 'shape' field", tensor: "norm.weight",
      offset: at("\"norm.weight\"", in: missing))
    let extra = edited("\"data_offsets\":[0,12]", "\"data_offsets\":[0,12],\"extra\":1")
    add(
      "extra-field", craft(extra), .corrupt, "unexpected field 'extra'", tensor: "norm.weight",
      offset: at("\"extra\"", in: extra))
    let unknown = edited("\"F32\"", "\"F33\"")
    add(
      "unknown-dtype", craft(unknown), .unsupportedDType, "unknown dtype 'F33'", tensor: "norm.weight",
      offset: at("\"F33\"", in: unknown))
    let negative = edited("\"shape\":[3]", "\"shape\":[-3]")
    add(
      "negative-dimension", craft(negative), .invalidShape, "negative dimension -3", tensor: "norm.weight",
      offset: at("[-3]", in: negative))
    let fractional = edited("\"shape\":[3]", "\"shape\":[3.0]")
    add(
      "fractional-dimension", craft(fractional), .corrupt, "not a non-negative integer",
      tensor: "norm.weight",
      offset: at("[3.0]", in: fractional))
    let triple = edited("[0,12]", "[0,12,13]")
    add(
      "offsets-not-a-pair", craft(triple), .corrupt, "not a [begin, end] pair", tensor: "norm.weight",
      offset: at("[0,12,13]", in: triple))
    let reversed = edited("[0,12]", "[12,0]")
    add(
      "begin-after-end", craft(reversed), .corrupt, "begin after they end", tensor: "norm.weight",
      offset: at("[12,0]", in: reversed))
    let hole = edited("[12,36]", "[16,40]").replacingFirst("[36,36]", with: "[40,40]")
    add(
      "hole", craft(hole, data: data + [0, 0, 0, 0]), .corrupt, "leaves a hole of 4 bytes",
      tensor: "embed.weight", offset: at("[16,40]", in: hole))
    let overlap = edited("[12,36]", "[8,32]").replacingFirst("[36,36]", with: "[32,32]")
    add(
      "overlap", craft(overlap, data: Array(data.prefix(32))), .corrupt,
      "overlaps the previous tensor by 4 bytes",
      tensor: "embed.weight", offset: at("[8,32]", in: overlap))
    let wrongSize = edited("\"shape\":[3]", "\"shape\":[4]")
    add(
      "size-mismatch", craft(wrongSize), .invalidShape, "hold 12 bytes, shape [4] F32 needs 16",
      tensor: "norm.weight", offset: at("[0,12]", in: wrongSize))
    let overflow = edited("\"shape\":[3]", "\"shape\":[4294967296,4294967296]")
    add(
      "overflow", craft(overflow), .invalidShape, "overflow", tensor: "norm.weight",
      offset: at("[0,12]", in: overflow))
    let dataStart = 8 + craft(header).count - 8 - data.count
    add(
      "trailing-bytes", craft(header, data: data + [0]), .corrupt, "1 trailing bytes after the last tensor",
      offset: dataStart + data.count)
    add(
      "data-truncated", craft(header, data: Array(data.dropLast())), .truncated, "ends at file byte",
      tensor: "embed.weight", offset: dataStart + 12)
    let huge = edited(
      "\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]",
      "\"dtype\":\"U8\",\"shape\":[9223372036854775807],\"data_offsets\":[0,9223372036854775807]"
    )
    .replacingFirst("[12,36]", with: "[9223372036854775807,9223372036854775807]").replacingFirst(
      "\"shape\":[4,3]", with: "\"shape\":[0,3]"
    )
    .replacingFirst("[36,36]", with: "[9223372036854775807,9223372036854775807]")
    add(
      "huge-tensor", craft(huge, data: []), .truncated, "but the file has", tensor: "norm.weight",
      offset: craft(huge, data: []).count)
    let entry = "\"zero_bf16\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[36,36]},"
    let duplicate = edited("\"zero_bf16\":", entry + "\"zero_bf16\":")
    add(
      "duplicate-name", craft(duplicate), .duplicateName, "duplicate tensor name 'zero_bf16'",
      tensor: "zero_bf16", offset: at("\"zero_bf16\"", in: duplicate) + entry.utf8.count)
    return cases
  }
}

extension String {
  fileprivate func trimmingTrailingSpaces() -> String {
    var copy = self
    while copy.hasSuffix(" ") { copy.removeLast() }
    return copy
  }

  fileprivate func replacingFirst(_ old: String, with new: String) -> String {
    guard let range = range(of: old) else { return self }
    return replacingCharacters(in: range, with: new)
  }
}
