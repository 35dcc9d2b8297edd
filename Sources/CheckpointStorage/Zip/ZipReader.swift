import CheckpointCore

/// Reads a zip archive: its directory at once, entry data on demand.
///
/// Opening the archive reads the end records, the central directory and
/// every local header, and checks them against each other and against the
/// file size (all arithmetic overflow-checked): zip64 end records and extra
/// fields are honoured; archives spanning several disks, encrypted entries,
/// methods other than stored and deflate, duplicate names, entries whose
/// bytes overlap (a zip-bomb technique) and deflate entries declaring more
/// than deflate's maximum ratio (1032:1, plus 1 KiB) are refused with a
/// `CheckpointError` naming the file, the entry and the byte offset.
///
/// ``read(_:verifyCRC:)`` returns an entry's uncompressed bytes. Stored data
/// whose file offset is a multiple of 64 and that is at least 64 KiB long is
/// memory-mapped (a zero-copy, 64-byte-aligned view; the file must not be
/// truncated while it is in use); other stored data is copied into
/// 64-byte-aligned memory. Deflated data is inflated into exactly the
/// declared size.
public final class ZipReader: @unchecked Sendable {
  /// The archive file.
  public let file: InputFile
  /// The entries in central directory order.
  public let entries: [ZipEntry]
  /// The archive comment (after the end of central directory record); empty when there is none.
  public let comment: [UInt8]
  private let index: [String: Int]

  /// Stored entries at least this long, at 64-byte-aligned offsets, are mapped.
  static let mapThreshold = 1 << 16

  /// Opens the archive in `file`, reading and checking its directory.
  ///
  /// - Throws: `CheckpointError` `.badFormat` when the file is not a zip
  ///   archive, `.truncated`/`.corrupt` on inconsistent records,
  ///   `.duplicateName` on a repeated entry name, `.unsupported` for
  ///   encryption, multi-disk archives and unknown methods.
  public init(file: InputFile) throws {
    self.file = file
    let (entries, comment) = try CheckpointError.locating(file: file.path) {
      try ZipReader.readDirectory(file)
    }
    var index: [String: Int] = [:]
    for (i, entry) in entries.enumerated() {
      guard index.updateValue(i, forKey: entry.name) == nil else {
        throw CheckpointError(
          .duplicateName, "duplicate zip entry name '\(entry.name)'", file: file.path,
          offset: entry.headerOffset)
      }
    }
    self.entries = entries
    self.comment = comment
    self.index = index
  }

  /// Opens the archive at `path`.
  public convenience init(path: String) throws {
    try self.init(file: InputFile(path: path))
  }

  /// The entry named `name`, if any.
  public func entry(named name: String) -> ZipEntry? {
    index[name].map { entries[$0] }
  }

  /// Reads `entry`'s uncompressed bytes.
  ///
  /// - Parameters:
  ///   - entry: an entry of this archive.
  ///   - verifyCRC: compare the CRC-32 of the bytes with the archive's.
  /// - Throws: `CheckpointError` `.checksumMismatch` on a CRC difference,
  ///   `.corrupt` on invalid compressed data, `.notFound` when `entry` is not
  ///   from this archive.
  public func read(_ entry: ZipEntry, verifyCRC: Bool = true) throws -> TensorBytes {
    guard let i = index[entry.name], entries[i] == entry else {
      throw CheckpointError(.notFound, "zip entry '\(entry.name)' is not in this archive", file: file.path)
    }
    return try CheckpointError.locating(file: file.path, offset: entry.dataOffset) {
      let bytes: TensorBytes
      switch entry.method {
      case .stored:
        if entry.dataOffset % 64 == 0 && entry.compressedSize >= ZipReader.mapThreshold {
          bytes = try file.mapBytes(count: entry.compressedSize, at: entry.dataOffset)
        } else {
          bytes = try file.readBytes(count: entry.compressedSize, at: entry.dataOffset)
        }
      case .deflate:
        try ZipReader.checkRatio(
          entry.name, compressed: entry.compressedSize, uncompressed: entry.uncompressedSize)
        let compressed = try file.readBytes(count: entry.compressedSize, at: entry.dataOffset)
        do {
          bytes = try TensorBytes.allocate(count: entry.uncompressedSize) { output in
            try compressed.withUnsafeBytes { try Zlib.decompress($0, into: output, framing: .raw) }
          }
        } catch let error as CheckpointError {
          throw CheckpointError(
            error.kind, "zip entry '\(entry.name)': \(error.message)", file: file.path,
            offset: entry.dataOffset + (error.offset ?? 0))
        }
      }
      if verifyCRC {
        let crc = Zlib.crc32(bytes)
        guard crc == entry.crc32 else {
          throw CheckpointError(
            .checksumMismatch,
            "zip entry '\(entry.name)': CRC-32 of the data is \(hex(crc)), the archive records \(hex(entry.crc32))"
          )
        }
      }
      return bytes
    }
  }

  /// Refuses a deflate entry that declares more than deflate can produce.
  static func checkRatio(_ name: String, compressed: Int, uncompressed: Int) throws {
    let (product, overflow) = compressed.multipliedReportingOverflow(by: 1032)
    guard overflow || uncompressed - 1024 <= product else {
      throw CheckpointError(
        .corrupt,
        "zip entry '\(name)' declares \(uncompressed) bytes from \(compressed) compressed bytes, "
          + "more than deflate can produce (1032:1); refusing it (zip bomb?)")
    }
  }
}

private func hex(_ value: UInt32) -> String {
  let digits = String(value, radix: 16)
  return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

// MARK: - Directory parsing

extension ZipReader {
  /// Where the central directory is, from the end records.
  private struct Directory {
    var offset: Int
    var size: Int
    var count: Int
    /// The first byte after the central directory that belongs to the end records.
    var limit: Int
    /// The archive comment.
    var comment: [UInt8] = []
  }

  private static func readDirectory(_ file: InputFile) throws -> (entries: [ZipEntry], comment: [UInt8]) {
    let directory = try findDirectory(file)
    let central = try file.read(count: directory.size, at: directory.offset)
    var reader = ByteReader(central, baseOffset: directory.offset)
    var entries: [ZipEntry] = []
    entries.reserveCapacity(directory.count)
    for _ in 0..<directory.count {
      entries.append(try readEntry(&reader, file: file, directory: directory))
    }
    guard reader.isAtEnd else {
      throw CheckpointError(
        .corrupt, "\(reader.remaining) unexpected bytes after the last central directory record",
        offset: reader.baseOffset + reader.position)
    }
    try checkOverlaps(entries)
    return (entries, directory.comment)
  }

  /// Finds the end of central directory record (and its zip64 twin).
  private static func findDirectory(_ file: InputFile) throws -> Directory {
    guard file.size >= ZipRecord.endSize else {
      throw CheckpointError(
        .badFormat,
        "not a zip archive: \(file.size) bytes is too short for an end of central directory record")
    }
    let tailCount = min(file.size, ZipRecord.endSize + ZipRecord.maxCommentLength)
    let tailStart = file.size - tailCount
    let tail = try file.read(count: tailCount, at: tailStart)
    var found: Int?
    var position = tailCount - ZipRecord.endSize
    while position >= 0 {
      if tail[position] == 0x50, tail[position + 1] == 0x4B, tail[position + 2] == 5, tail[position + 3] == 6
      {
        let commentLength = Int(tail[position + 20]) | Int(tail[position + 21]) << 8
        if position + ZipRecord.endSize + commentLength == tailCount {
          found = position
          break
        }
      }
      position -= 1
    }
    guard let found else {
      throw CheckpointError(.badFormat, "not a zip archive: no end of central directory record")
    }
    let endOffset = tailStart + found
    let comment = Array(tail[(found + ZipRecord.endSize)...])
    var end = ByteReader(Array(tail[found..<found + ZipRecord.endSize]), baseOffset: endOffset)
    _ = try end.read(UInt32.self)
    let disk: UInt16 = try end.read()
    let directoryDisk: UInt16 = try end.read()
    let diskCount: UInt16 = try end.read()
    let totalCount: UInt16 = try end.read()
    let size32: UInt32 = try end.read()
    let offset32: UInt32 = try end.read()

    // A zip64 locator sits right before the end record when there is one.
    if endOffset >= ZipRecord.zip64LocatorSize {
      let locatorOffset = endOffset - ZipRecord.zip64LocatorSize
      var locator = ByteReader(
        try file.read(count: ZipRecord.zip64LocatorSize, at: locatorOffset), baseOffset: locatorOffset)
      if try locator.read(UInt32.self) == ZipRecord.zip64LocatorSignature {
        var directory = try readZip64End(file, locator: &locator, locatorOffset: locatorOffset)
        directory.comment = comment
        return directory
      }
    }
    guard disk == 0, directoryDisk == 0 || directoryDisk == ZipRecord.marker16, diskCount == totalCount else {
      throw CheckpointError(
        .unsupported, "archives spanning several disks are not supported", offset: endOffset)
    }
    guard totalCount != ZipRecord.marker16, size32 != ZipRecord.marker32, offset32 != ZipRecord.marker32
    else {
      throw CheckpointError(
        .corrupt, "end of central directory has zip64 markers but no zip64 locator precedes it",
        offset: endOffset)
    }
    return try checked(
      Directory(
        offset: Int(offset32), size: Int(size32), count: Int(totalCount), limit: endOffset, comment: comment),
      endOffset: endOffset)
  }

  private static func readZip64End(
    _ file: InputFile, locator: inout ByteReader, locatorOffset: Int
  ) throws -> Directory {
    let recordDisk: UInt32 = try locator.read()
    let recordOffset64: UInt64 = try locator.read()
    let disks: UInt32 = try locator.read()
    guard recordDisk == 0, disks <= 1 else {
      throw CheckpointError(
        .unsupported, "archives spanning several disks are not supported", offset: locatorOffset)
    }
    guard let recordOffset = Int(exactly: recordOffset64),
      recordOffset <= locatorOffset - ZipRecord.zip64EndSize
    else {
      throw CheckpointError(
        .corrupt, "zip64 end record offset \(recordOffset64) is not before its locator", offset: locatorOffset
      )
    }
    var record = ByteReader(
      try file.read(count: ZipRecord.zip64EndSize, at: recordOffset), baseOffset: recordOffset)
    guard try record.read(UInt32.self) == ZipRecord.zip64EndSignature else {
      throw CheckpointError(
        .corrupt, "no zip64 end of central directory record where the locator points",
        offset: recordOffset)
    }
    let recordSize: UInt64 = try record.read()
    _ = try record.read(UInt16.self)  // version made by
    _ = try record.read(UInt16.self)  // version needed
    let disk: UInt32 = try record.read()
    let directoryDisk: UInt32 = try record.read()
    let diskCount: UInt64 = try record.read()
    let totalCount: UInt64 = try record.read()
    let size: UInt64 = try record.read()
    let offset: UInt64 = try record.read()
    guard recordSize >= 44, recordSize <= UInt64(locatorOffset - recordOffset - 12) else {
      throw CheckpointError(.corrupt, "zip64 end record declares \(recordSize) bytes", offset: recordOffset)
    }
    guard disk == 0, directoryDisk == 0, diskCount == totalCount else {
      throw CheckpointError(
        .unsupported, "archives spanning several disks are not supported", offset: recordOffset)
    }
    guard let count = Int(exactly: totalCount), let size = Int(exactly: size),
      let offset = Int(exactly: offset)
    else {
      throw CheckpointError(.corrupt, "zip64 end record values exceed any file size", offset: recordOffset)
    }
    return try checked(
      Directory(offset: offset, size: size, count: count, limit: recordOffset), endOffset: recordOffset)
  }

  /// Checks that the central directory lies before the end records and can hold its entries.
  private static func checked(_ directory: Directory, endOffset: Int) throws -> Directory {
    let (end, overflow) = directory.offset.addingReportingOverflow(directory.size)
    guard !overflow, end <= directory.limit else {
      throw CheckpointError(
        .corrupt,
        "central directory at \(directory.offset) of \(directory.size) bytes runs past its end record at \(directory.limit)",
        offset: endOffset)
    }
    let (minimum, countOverflow) = directory.count.multipliedReportingOverflow(
      by: ZipRecord.centralHeaderSize)
    guard !countOverflow, minimum <= directory.size else {
      throw CheckpointError(
        .corrupt, "central directory of \(directory.size) bytes cannot hold \(directory.count) entries",
        offset: endOffset)
    }
    return directory
  }

  /// Reads one central directory record and checks it against its local header.
  private static func readEntry(
    _ reader: inout ByteReader, file: InputFile, directory: Directory
  ) throws -> ZipEntry {
    let recordOffset = reader.baseOffset + reader.position
    guard try reader.read(UInt32.self, "central directory header") == ZipRecord.centralHeaderSignature else {
      throw CheckpointError(.corrupt, "expected a central directory header signature", offset: recordOffset)
    }
    try reader.skip(4)  // versions made by / needed
    let flags: UInt16 = try reader.read()
    let methodCode: UInt16 = try reader.read()
    try reader.skip(4)  // time, date
    let crc: UInt32 = try reader.read()
    let compressed32: UInt32 = try reader.read()
    let uncompressed32: UInt32 = try reader.read()
    let nameLength = Int(try reader.read(UInt16.self))
    let extraLength = Int(try reader.read(UInt16.self))
    let commentLength = Int(try reader.read(UInt16.self))
    try reader.skip(8)  // disk start, internal and external attributes
    let headerOffset32: UInt32 = try reader.read()
    let nameBytes = try reader.readBytes(nameLength, "entry name")
    let extraBytes = try reader.readBytes(extraLength, "extra field")
    try reader.skip(commentLength, "entry comment")

    let name = try CheckpointError.locating(offset: recordOffset) {
      try ZipRecord.decodeName(nameBytes, flags: flags)
    }
    return try CheckpointError.locating(offset: recordOffset) {
      let extra = try ZipRecord.extraFields(extraBytes, strict: true)
      let values = try ZipRecord.resolveZip64(
        [uncompressed32, compressed32, headerOffset32], extra: extra, what: "zip entry '\(name)'")
      let (uncompressed, compressed, headerOffset) = (values[0], values[1], values[2])
      if flags & (ZipRecord.encryptedFlag | ZipRecord.strongEncryptionFlag) != 0 || methodCode == 99 {
        throw CheckpointError(
          .unsupported, "zip entry '\(name)' is encrypted; encrypted archives are not supported")
      }
      let method: ZipMethod
      switch methodCode {
      case 0:
        method = .stored
        guard compressed == uncompressed else {
          throw CheckpointError(
            .corrupt,
            "stored zip entry '\(name)' declares \(compressed) stored and \(uncompressed) data bytes")
        }
      case 8:
        method = .deflate(level: ZipRecord.deflateLevel(flags: flags))
        try checkRatio(name, compressed: compressed, uncompressed: uncompressed)
      default:
        throw CheckpointError(
          .unsupported,
          "zip entry '\(name)' uses compression method \(methodCode); only stored (0) and deflate (8) are supported"
        )
      }
      let dataOffset = try readLocalHeader(
        file, at: headerOffset, name: name, nameBytes: nameBytes, flags: flags, methodCode: methodCode,
        crc: crc, sizes: (uncompressed, compressed))
      let (end, overflow) = dataOffset.addingReportingOverflow(compressed)
      guard !overflow, end <= file.size else {
        throw CheckpointError(
          .truncated,
          "zip entry '\(name)' needs \(compressed) bytes at \(dataOffset), past the end of the file")
      }
      guard end <= directory.offset else {
        throw CheckpointError(
          .corrupt,
          "zip entry '\(name)' data at \(dataOffset) runs into the central directory at \(directory.offset)")
      }
      return ZipEntry(
        name: name, method: method, crc32: crc, compressedSize: compressed, uncompressedSize: uncompressed,
        dataOffset: dataOffset, headerOffset: headerOffset)
    }
  }

  /// Checks the local header at `offset` and returns the offset of the entry's data.
  private static func readLocalHeader(
    _ file: InputFile, at offset: Int, name: String, nameBytes: ArraySlice<UInt8>, flags: UInt16,
    methodCode: UInt16, crc: UInt32, sizes: (uncompressed: Int, compressed: Int)
  ) throws -> Int {
    guard offset <= file.size - ZipRecord.localHeaderSize else {
      throw CheckpointError(
        .truncated, "zip entry '\(name)' local header at \(offset) is past the end of the file")
    }
    var header = ByteReader(try file.read(count: ZipRecord.localHeaderSize, at: offset), baseOffset: offset)
    guard try header.read(UInt32.self) == ZipRecord.localHeaderSignature else {
      throw CheckpointError(
        .corrupt, "zip entry '\(name)': no local header signature at \(offset)", offset: offset)
    }
    try header.skip(2)  // version needed
    let localFlags: UInt16 = try header.read()
    let localMethod: UInt16 = try header.read()
    try header.skip(4)  // time, date
    let localCRC: UInt32 = try header.read()
    let localCompressed: UInt32 = try header.read()
    let localUncompressed: UInt32 = try header.read()
    let nameLength = Int(try header.read(UInt16.self))
    let extraLength = Int(try header.read(UInt16.self))
    let variable = try file.read(count: nameLength + extraLength, at: offset + ZipRecord.localHeaderSize)
    guard variable[0..<nameLength].elementsEqual(nameBytes) else {
      let localName = String(decoding: variable[0..<nameLength], as: UTF8.self)
      throw CheckpointError(
        .corrupt, "local header name '\(localName)' does not match central directory name '\(name)'",
        offset: offset)
    }
    guard localMethod == methodCode else {
      throw CheckpointError(
        .corrupt, "zip entry '\(name)': local header method \(localMethod), central directory \(methodCode)",
        offset: offset)
    }
    if (localFlags | flags) & ZipRecord.dataDescriptorFlag == 0 {
      // Without a data descriptor the local header repeats CRC and sizes.
      let extra = try ZipRecord.extraFields(variable[nameLength...], strict: false)
      if let local = try? ZipRecord.resolveZip64(
        [localUncompressed, localCompressed], extra: extra, what: "local header")
      {
        guard localCRC == crc, local[0] == sizes.uncompressed, local[1] == sizes.compressed else {
          throw CheckpointError(
            .corrupt,
            "zip entry '\(name)': local header (CRC \(hex(localCRC)), \(local[1]) → \(local[0]) bytes) "
              + "disagrees with the central directory (CRC \(hex(crc)), \(sizes.compressed) → \(sizes.uncompressed) bytes)",
            offset: offset)
        }
      }
    }
    return offset + ZipRecord.localHeaderSize + nameLength + extraLength
  }

  /// Refuses entries whose header-plus-data ranges overlap.
  private static func checkOverlaps(_ entries: [ZipEntry]) throws {
    let sorted = entries.sorted { $0.headerOffset < $1.headerOffset }
    for (previous, next) in zip(sorted, sorted.dropFirst()) {
      let previousEnd = previous.dataOffset + previous.compressedSize
      guard previousEnd <= next.headerOffset else {
        throw CheckpointError(
          .corrupt,
          "zip entries '\(previous.name)' and '\(next.name)' overlap (bytes \(next.headerOffset)..<\(previousEnd)); "
            + "overlapping entries are a zip-bomb technique",
          offset: next.headerOffset)
      }
    }
  }
}
