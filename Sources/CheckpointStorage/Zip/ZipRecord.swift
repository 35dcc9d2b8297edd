import CheckpointCore

/// Signatures, sizes and field helpers shared by ``ZipReader`` and ``ZipWriter``
/// (PKWARE APPNOTE 6.3: local header 4.3.7, central header 4.3.12, zip64
/// records 4.3.14–4.3.15, end of central directory 4.3.16, zip64 extra 4.5.3).
enum ZipRecord {
  static let localHeaderSignature: UInt32 = 0x0403_4B50
  static let centralHeaderSignature: UInt32 = 0x0201_4B50
  static let endSignature: UInt32 = 0x0605_4B50
  static let zip64EndSignature: UInt32 = 0x0606_4B50
  static let zip64LocatorSignature: UInt32 = 0x0706_4B50

  static let localHeaderSize = 30
  static let centralHeaderSize = 46
  static let endSize = 22
  static let zip64EndSize = 56
  static let zip64LocatorSize = 20
  static let maxCommentLength = 0xFFFF

  /// Extra field holding 64-bit sizes and offsets.
  static let zip64ExtraID: UInt16 = 0x0001
  /// Extra field PyTorch's writer uses to pad local headers ("FB").
  static let paddingExtraID: UInt16 = 0x4246

  /// Flag bit 0: the entry is encrypted.
  static let encryptedFlag: UInt16 = 1 << 0
  /// Flag bit 3: sizes and CRC follow the data in a data descriptor.
  static let dataDescriptorFlag: UInt16 = 1 << 3
  /// Flag bit 6: strong encryption.
  static let strongEncryptionFlag: UInt16 = 1 << 6
  /// Flag bit 11: the name is UTF-8.
  static let utf8Flag: UInt16 = 1 << 11

  /// 1980-01-01 00:00:00 in MS-DOS form: fixed so output is reproducible.
  static let dosTime: UInt16 = 0
  static let dosDate: UInt16 = (1 << 5) | 1

  /// The 32-bit marker meaning "the value is in the zip64 extra field".
  static let marker32: UInt32 = 0xFFFF_FFFF
  /// The 16-bit marker meaning "the count is in the zip64 end record".
  static let marker16: UInt16 = 0xFFFF

  /// Deflate level hints in flag bits 1–2 (normal, maximum, fast, super fast).
  static func deflateLevel(flags: UInt16) -> Int {
    switch (flags >> 1) & 3 {
    case 1: return 9
    case 2: return 2
    case 3: return 1
    default: return 6
    }
  }

  /// The flag bits 1–2 that describe `level`, as Info-ZIP sets them.
  static func deflateFlags(level: Int) -> UInt16 {
    switch level {
    case 8...: return 1 << 1
    case 2: return 2 << 1
    case ...1: return 3 << 1
    default: return 0
    }
  }

  /// The fields of an extra block: `(id, data)` pairs.
  ///
  /// - Parameter strict: throw on a field that runs past the block (central
  ///   headers); otherwise stop there (local headers, where some tools pad
  ///   with bare zero bytes).
  static func extraFields(_ extra: ArraySlice<UInt8>, strict: Bool) throws -> [(UInt16, ArraySlice<UInt8>)] {
    var fields: [(UInt16, ArraySlice<UInt8>)] = []
    var position = extra.startIndex
    while position < extra.endIndex {
      guard extra.endIndex - position >= 4 else {
        if strict { throw CheckpointError(.corrupt, "extra field header runs past the extra block") }
        break
      }
      let id = UInt16(extra[position]) | UInt16(extra[position + 1]) << 8
      let size = Int(UInt16(extra[position + 2]) | UInt16(extra[position + 3]) << 8)
      let start = position + 4
      guard size <= extra.endIndex - start else {
        if strict {
          throw CheckpointError(
            .corrupt, "extra field 0x\(String(id, radix: 16)) of \(size) bytes runs past the extra block")
        }
        break
      }
      fields.append((id, extra[start..<start + size]))
      position = start + size
    }
    return fields
  }

  /// Resolves 32-bit fields holding ``marker32`` from the zip64 extra field.
  ///
  /// `values` lists the header's fields in zip64 order (uncompressed size,
  /// compressed size, header offset); each one equal to the marker is
  /// replaced by the next 64-bit value of the zip64 field.
  static func resolveZip64(
    _ values: [UInt32], extra: [(UInt16, ArraySlice<UInt8>)], what: String
  ) throws -> [Int] {
    let needed = values.filter { $0 == marker32 }.count
    guard needed > 0 else { return values.map { Int($0) } }
    guard let field = extra.first(where: { $0.0 == zip64ExtraID })?.1 else {
      throw CheckpointError(.corrupt, "\(what) has 0xFFFFFFFF sizes but no zip64 extra field")
    }
    var reader = ByteReader(Array(field))
    var resolved: [Int] = []
    for value in values {
      if value == marker32 {
        let wide: UInt64 = try reader.read(UInt64.self, "zip64 extra field of \(what)")
        guard let narrow = Int(exactly: wide) else {
          throw CheckpointError(.corrupt, "\(what) declares \(wide), beyond any file size")
        }
        resolved.append(narrow)
      } else {
        resolved.append(Int(value))
      }
    }
    return resolved
  }

  /// Decodes an entry name: UTF-8 with flag bit 11, code page 437 otherwise
  /// (as Python's `zipfile` does).
  static func decodeName(_ bytes: ArraySlice<UInt8>, flags: UInt16) throws -> String {
    if flags & utf8Flag != 0 || bytes.allSatisfy({ $0 < 0x80 }) {
      guard let name = String(validating: bytes, as: UTF8.self) else {
        throw CheckpointError(.corrupt, "entry name is not valid UTF-8")
      }
      return name
    }
    var scalars = String.UnicodeScalarView()
    for byte in bytes {
      let value = byte < 0x80 ? UInt32(byte) : UInt32(cp437High[Int(byte) - 0x80])
      if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
    }
    return String(scalars)
  }

  /// Code page 437, bytes 0x80–0xFF, as Unicode scalar values.
  private static let cp437High: [UInt16] = [
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,
    0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,
    0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,
    0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4,
    0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
  ]
}
