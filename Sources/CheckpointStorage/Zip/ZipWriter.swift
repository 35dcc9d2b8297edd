import CheckpointCore
import Dispatch

/// Writes a zip archive entry by entry into an `OutputFile`.
///
/// Each `add(name:bytes:method:alignment:)` writes a local header and the
/// entry's data (deflated data streams straight to the file; its local
/// header is patched with the final size afterwards; stored entries of 4 MiB
/// or more have their CRC-32 computed on another thread while the data is
/// written, then patched in); `finish()` writes the
/// central directory and end records. Zip64 extra fields and end records are
/// written only when a size, offset or count needs them. Times are fixed at
/// 1980-01-01 00:00 so the same input gives the same bytes; non-ASCII names
/// set the UTF-8 flag (bit 11). The archive starts at the file's position
/// when the writer is created; offsets in the archive are file offsets.
public final class ZipWriter {
  private let file: OutputFile
  private var records: [CentralRecord] = []
  private var names = Set<String>()
  private var finished = false
  /// Writes zip64 fields even when values are small (tests of the zip64 paths).
  let forceZip64: Bool

  private struct CentralRecord {
    var nameBytes: [UInt8]
    var flags: UInt16
    var method: UInt16
    var crc: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var headerOffset: Int
  }

  /// Creates a writer appending to `file`.
  public convenience init(file: OutputFile) {
    self.init(file: file, forceZip64: false)
  }

  init(file: OutputFile, forceZip64: Bool) {
    self.file = file
    self.forceZip64 = forceZip64
  }

  /// Adds an entry holding `bytes`.
  ///
  /// - Parameters:
  ///   - name: the entry's path in the archive (unique, at most 65535 UTF-8 bytes).
  ///   - bytes: the entry's uncompressed contents.
  ///   - method: `.stored` or `.deflate(level:)` with a level 0–9.
  ///   - alignment: the entry's data starts at a file offset that is a
  ///     multiple of this (for memory mapping). Values above 1 add a padding
  ///     extra field to the local header as PyTorch's writer does: id "FB",
  ///     filled with "Z" bytes, present even when no padding is needed.
  /// - Throws: `CheckpointError` `.invalidArgument` for a bad name, level or
  ///   alignment or after `finish()`, `.duplicateName` for a repeated name,
  ///   `.io` when writing fails.
  public func add(
    name: String, bytes: UnsafeRawBufferPointer, method: ZipMethod = .stored, alignment: Int = 1
  ) throws {
    try add(name: name, parts: [bytes], method: method, alignment: alignment)
  }

  /// Adds an entry holding `bytes` (small entries: a pickle, a version file).
  public func add(name: String, bytes: [UInt8], method: ZipMethod = .stored, alignment: Int = 1) throws {
    try bytes.withUnsafeBytes { try add(name: name, parts: [$0], method: method, alignment: alignment) }
  }

  /// Adds an entry whose data is `header` followed by a tensor's bytes.
  ///
  /// Stored entries copy tensor bytes that came unchanged from a file inside
  /// the kernel (see `OutputFile/write(_:)-(TensorBytes)`).
  public func add(
    name: String, header: [UInt8], data: TensorBytes, method: ZipMethod = .stored, alignment: Int = 1
  ) throws {
    try header.withUnsafeBytes { head in
      try data.withUnsafeBytes { body in
        try add(name: name, parts: [head, body], method: method, alignment: alignment, lastPart: data)
      }
    }
  }

  /// Adds an entry whose data is the concatenation of `parts` (a header and
  /// a payload, say), without copying them together first.
  public func add(
    name: String, parts: [UnsafeRawBufferPointer], method: ZipMethod = .stored, alignment: Int = 1
  ) throws {
    try add(name: name, parts: parts, method: method, alignment: alignment, lastPart: nil)
  }

  /// `lastPart`, when given, holds the same bytes as the last of `parts` and is
  /// what stored entries write (so file-backed bytes are copied in the kernel).
  private func add(
    name: String, parts: [UnsafeRawBufferPointer], method: ZipMethod, alignment: Int, lastPart: TensorBytes?
  ) throws {
    guard !finished else {
      throw CheckpointError(.invalidArgument, "zip archive already finished; cannot add '\(name)'")
    }
    let nameBytes = Array(name.utf8)
    guard !nameBytes.isEmpty, nameBytes.count <= 0xFFFF else {
      throw CheckpointError(
        .invalidArgument, "zip entry name must be 1 to 65535 bytes, '\(name)' has \(nameBytes.count)")
    }
    guard alignment >= 1, alignment <= 0x8000 else {
      throw CheckpointError(.invalidArgument, "zip alignment must be 1 to 32768, got \(alignment)")
    }
    if case .deflate(let level) = method, !(0...9).contains(level) {
      throw CheckpointError(.invalidArgument, "deflate level must be 0 to 9, got \(level)")
    }
    guard !names.contains(name) else {
      throw CheckpointError(.duplicateName, "duplicate zip entry name '\(name)'")
    }

    var size = 0
    for part in parts {
      let (sum, overflow) = size.addingReportingOverflow(part.count)
      guard !overflow else { throw CheckpointError(.invalidArgument, "zip entry '\(name)' is too large") }
      size = sum
    }
    // Large stored entries compute their CRC on another thread while the data
    // is written, and patch it into the local header afterwards.
    let concurrentCRC = method == .stored && size >= ZipWriter.concurrentCRCThreshold
    var crc: UInt32 = concurrentCRC ? 0 : ZipWriter.crc32(parts)

    var flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : ZipRecord.utf8Flag
    if case .deflate(let level) = method { flags |= ZipRecord.deflateFlags(level: level) }
    // The local zip64 field must be sized before the compressed size is known.
    let worstCase: Int
    switch method {
    case .stored: worstCase = size
    case .deflate: worstCase = Zlib.compressBound(size)
    }
    let localZip64 = forceZip64 || size >= Int(ZipRecord.marker32) || worstCase >= Int(ZipRecord.marker32)
    let headerOffset = file.position
    var header = localHeader(
      nameBytes: nameBytes, flags: flags, method: method.code, crc: crc,
      sizes: (size, method == .stored ? size : 0), zip64: localZip64)
    if alignment > 1 {
      // torch's getPadding: an "FB" field whose data fills up to the boundary.
      let start = headerOffset + header.count + 4
      let padding = (alignment - start % alignment) % alignment
      header.appendLittleEndian(ZipRecord.paddingExtraID)
      header.appendLittleEndian(UInt16(padding))
      header.append(contentsOf: repeatElement(UInt8(ascii: "Z"), count: padding))
      let extraLength = header.count - ZipRecord.localHeaderSize - nameBytes.count
      guard extraLength <= 0xFFFF else {
        throw CheckpointError(.invalidArgument, "zip entry '\(name)': padding does not fit the extra field")
      }
      header[28] = UInt8(extraLength & 0xFF)
      header[29] = UInt8(extraLength >> 8)
    }
    try file.write(header)

    var compressedSize = size
    switch method {
    case .stored:
      let writeParts = { [file] in
        for (i, part) in parts.enumerated() {
          if i == parts.count - 1, let lastPart { try file.write(lastPart) } else { try file.write(part) }
        }
      }
      if concurrentCRC {
        crc = try ZipWriter.crc32(parts, whileRunning: writeParts)
        try file.patch(crc.littleEndianBytes, at: headerOffset + 14)
      } else {
        try writeParts()
      }
    case .deflate(let level):
      let dataStart = file.position
      let stream = try DeflateStream(level: level, framing: .raw)
      let nonEmpty = parts.filter { $0.count > 0 }
      if nonEmpty.isEmpty {
        try stream.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { try file.write($0) }
      }
      for (i, part) in nonEmpty.enumerated() {
        try stream.compress(part, finish: i == nonEmpty.count - 1) { try file.write($0) }
      }
      compressedSize = file.position - dataStart
      // Patch the compressed size into the local header (or its zip64 field).
      if localZip64 {
        let fieldOffset = headerOffset + ZipRecord.localHeaderSize + nameBytes.count + 4
        try file.patch(UInt64(compressedSize).littleEndianBytes, at: fieldOffset + 8)
      } else {
        try file.patch(UInt32(compressedSize).littleEndianBytes, at: headerOffset + 18)
      }
    }
    names.insert(name)
    records.append(
      CentralRecord(
        nameBytes: nameBytes, flags: flags, method: method.code, crc: crc, compressedSize: compressedSize,
        uncompressedSize: size, headerOffset: headerOffset))
  }

  /// Writes the central directory and the end records; the archive is complete.
  ///
  /// - Parameter comment: the archive comment (at most 65,535 bytes).
  public func finish(comment: [UInt8] = []) throws {
    guard !finished else {
      throw CheckpointError(.invalidArgument, "zip archive already finished")
    }
    guard comment.count <= Int(UInt16.max) else {
      throw CheckpointError(
        .invalidArgument, "zip archive comment of \(comment.count) bytes exceeds 65535")
    }
    finished = true
    let directoryOffset = file.position
    for record in records {
      try file.write(centralHeader(record))
    }
    let directorySize = file.position - directoryOffset
    let count = records.count
    let needsZip64 =
      forceZip64 || count >= Int(ZipRecord.marker16) || directorySize >= Int(ZipRecord.marker32)
      || directoryOffset >= Int(ZipRecord.marker32)
    var end: [UInt8] = []
    if needsZip64 {
      let recordOffset = file.position
      end.appendLittleEndian(ZipRecord.zip64EndSignature)
      end.appendLittleEndian(UInt64(ZipRecord.zip64EndSize - 12))
      end.appendLittleEndian(UInt16(0x0300 | 45))  // made by: Unix, 4.5
      end.appendLittleEndian(UInt16(45))
      end.appendLittleEndian(UInt32(0))
      end.appendLittleEndian(UInt32(0))
      end.appendLittleEndian(UInt64(count))
      end.appendLittleEndian(UInt64(count))
      end.appendLittleEndian(UInt64(directorySize))
      end.appendLittleEndian(UInt64(directoryOffset))
      end.appendLittleEndian(ZipRecord.zip64LocatorSignature)
      end.appendLittleEndian(UInt32(0))
      end.appendLittleEndian(UInt64(recordOffset))
      end.appendLittleEndian(UInt32(1))
    }
    end.appendLittleEndian(ZipRecord.endSignature)
    end.appendLittleEndian(UInt16(0))
    end.appendLittleEndian(UInt16(0))
    let count16 = needsZip64 ? ZipRecord.marker16 : UInt16(count)
    end.appendLittleEndian(count16)
    end.appendLittleEndian(count16)
    end.appendLittleEndian(needsZip64 ? ZipRecord.marker32 : UInt32(directorySize))
    end.appendLittleEndian(needsZip64 ? ZipRecord.marker32 : UInt32(directoryOffset))
    end.appendLittleEndian(UInt16(comment.count))
    end.append(contentsOf: comment)
    try file.write(end)
  }

  private func localHeader(
    nameBytes: [UInt8], flags: UInt16, method: UInt16, crc: UInt32,
    sizes: (uncompressed: Int, compressed: Int),
    zip64: Bool
  ) -> [UInt8] {
    var header: [UInt8] = []
    header.reserveCapacity(ZipRecord.localHeaderSize + nameBytes.count + 20)
    header.appendLittleEndian(ZipRecord.localHeaderSignature)
    header.appendLittleEndian(versionNeeded(method: method, zip64: zip64))
    header.appendLittleEndian(flags)
    header.appendLittleEndian(method)
    header.appendLittleEndian(ZipRecord.dosTime)
    header.appendLittleEndian(ZipRecord.dosDate)
    header.appendLittleEndian(crc)
    header.appendLittleEndian(zip64 ? ZipRecord.marker32 : UInt32(sizes.compressed))
    header.appendLittleEndian(zip64 ? ZipRecord.marker32 : UInt32(sizes.uncompressed))
    header.appendLittleEndian(UInt16(nameBytes.count))
    header.appendLittleEndian(UInt16(zip64 ? 20 : 0))
    header.append(contentsOf: nameBytes)
    if zip64 {
      header.appendLittleEndian(ZipRecord.zip64ExtraID)
      header.appendLittleEndian(UInt16(16))
      header.appendLittleEndian(UInt64(sizes.uncompressed))
      header.appendLittleEndian(UInt64(sizes.compressed))
    }
    return header
  }

  private func centralHeader(_ record: CentralRecord) -> [UInt8] {
    let limit = Int(ZipRecord.marker32)
    let wideUncompressed = forceZip64 || record.uncompressedSize >= limit
    let wideCompressed = forceZip64 || record.compressedSize >= limit
    let wideOffset = forceZip64 || record.headerOffset >= limit
    var zip64: [UInt8] = []
    if wideUncompressed { zip64.appendLittleEndian(UInt64(record.uncompressedSize)) }
    if wideCompressed { zip64.appendLittleEndian(UInt64(record.compressedSize)) }
    if wideOffset { zip64.appendLittleEndian(UInt64(record.headerOffset)) }
    let needsZip64 = !zip64.isEmpty
    let version = versionNeeded(method: record.method, zip64: needsZip64)

    var header: [UInt8] = []
    header.reserveCapacity(ZipRecord.centralHeaderSize + record.nameBytes.count + 28)
    header.appendLittleEndian(ZipRecord.centralHeaderSignature)
    header.appendLittleEndian(UInt16(0x0300) | version)  // made by: Unix
    header.appendLittleEndian(version)
    header.appendLittleEndian(record.flags)
    header.appendLittleEndian(record.method)
    header.appendLittleEndian(ZipRecord.dosTime)
    header.appendLittleEndian(ZipRecord.dosDate)
    header.appendLittleEndian(record.crc)
    header.appendLittleEndian(wideCompressed ? ZipRecord.marker32 : UInt32(record.compressedSize))
    header.appendLittleEndian(wideUncompressed ? ZipRecord.marker32 : UInt32(record.uncompressedSize))
    header.appendLittleEndian(UInt16(record.nameBytes.count))
    header.appendLittleEndian(UInt16(needsZip64 ? zip64.count + 4 : 0))
    header.appendLittleEndian(UInt16(0))  // comment length
    header.appendLittleEndian(UInt16(0))  // disk start
    header.appendLittleEndian(UInt16(0))  // internal attributes
    header.appendLittleEndian(UInt32(0o100644) << 16)  // external: regular file, rw-r--r--
    header.appendLittleEndian(wideOffset ? ZipRecord.marker32 : UInt32(record.headerOffset))
    header.append(contentsOf: record.nameBytes)
    if needsZip64 {
      header.appendLittleEndian(ZipRecord.zip64ExtraID)
      header.appendLittleEndian(UInt16(zip64.count))
      header.append(contentsOf: zip64)
    }
    return header
  }

  /// Stored entries at least this large get their CRC computed concurrently with the write.
  static let concurrentCRCThreshold = 4 << 20

  /// The CRC-32 of the concatenated `parts`.
  private static func crc32(_ parts: [UnsafeRawBufferPointer]) -> UInt32 {
    parts.reduce(0) { Zlib.crc32($1, seed: $0) }
  }

  /// The CRC-32 of `parts`, computed on another thread while `body` runs.
  ///
  /// Waits for the computation even when `body` throws: `parts` must stay valid until then.
  private static func crc32(
    _ parts: [UnsafeRawBufferPointer], whileRunning body: () throws -> Void
  ) throws -> UInt32 {
    final class Job: @unchecked Sendable {
      let parts: [UnsafeRawBufferPointer]
      var result: UInt32 = 0
      init(_ parts: [UnsafeRawBufferPointer]) { self.parts = parts }
    }
    let job = Job(parts)
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global(qos: .userInitiated).async {
      job.result = crc32(job.parts)
      done.signal()
    }
    do {
      try body()
    } catch {
      done.wait()
      throw error
    }
    done.wait()
    return job.result
  }

  /// 1.0 for stored, 2.0 for deflate, 4.5 with zip64 fields.
  private func versionNeeded(method: UInt16, zip64: Bool) -> UInt16 {
    zip64 ? 45 : (method == 0 ? 10 : 20)
  }
}
