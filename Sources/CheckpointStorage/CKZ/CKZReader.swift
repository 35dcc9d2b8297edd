import CheckpointCore
import Dispatch

/// A problem found while verifying one chunk (or the padding after a tensor).
public struct CKZChunkFailure: Sendable, Equatable {
  /// The tensor's name.
  public var tensor: String
  /// The chunk's number, or `nil` for the padding after the tensor's section.
  public var chunk: Int?
  /// What was wrong.
  public var error: CheckpointError
}

/// Reads a `.ckz` file: checks header, footer and index when opened, and
/// decodes tensors on demand, verifying every chunk's CRCs by default.
///
/// Uncompressed (`none`) tensors are memory-mapped (zero-copy); compressed
/// chunks are decoded in parallel on all cores.
public final class CKZReader: Sendable {
  /// The index entries, in file order.
  public let entries: [CKZTensorEntry]
  /// The file's user metadata.
  public let metadata: [String: String]
  /// The file's provenance (`source_format`, `source_sha256`, ...).
  public let provenance: [String: String]
  /// Whether loads verify the chunk CRCs.
  public let verifiesChecksums: Bool
  private let source: any CKZByteSource
  private let indexOffset: Int

  /// Opens the file at `path`.
  public convenience init(path: String, verifyChecksums: Bool = true) throws {
    let file = try InputFile(path: path)
    try self.init(source: file, verifyChecksums: verifyChecksums)
  }

  /// Opens `.ckz` bytes held in memory (`name` is used in error messages).
  public convenience init(bytes: [UInt8], name: String = "<memory>", verifyChecksums: Bool = true) throws {
    try self.init(source: CKZMemorySource(bytes, name: name), verifyChecksums: verifyChecksums)
  }

  init(source: any CKZByteSource, verifyChecksums: Bool) throws {
    self.source = source
    self.verifiesChecksums = verifyChecksums
    let (index, indexOffset) = try CheckpointError.locating(file: source.name) {
      try Self.readIndex(source)
    }
    self.entries = index.entries
    self.metadata = index.metadata
    self.provenance = index.provenance
    self.indexOffset = indexOffset
  }

  private static func readIndex(_ source: any CKZByteSource) throws -> (CKZIndex, Int) {
    let minimum = CKZLayout.headerSize + CKZLayout.footerSize
    guard source.size >= minimum else {
      if source.size >= 8, try source.read(count: 8, at: 0) != CKZLayout.magic {
        throw CheckpointError(.badFormat, "not a .ckz file (bad magic)", offset: 0)
      }
      throw CheckpointError(
        .truncated, "file has \(source.size) bytes; a .ckz file has at least \(minimum)", offset: 0)
    }
    try CKZLayout.checkHeader(try source.read(count: CKZLayout.headerSize, at: 0))
    let footerAt = source.size - CKZLayout.footerSize
    let footer = try CKZLayout.Footer(
      decoding: try source.read(count: CKZLayout.footerSize, at: footerAt), fileSize: source.size)
    let bytes = try source.read(count: footer.indexLength, at: footer.indexOffset)
    let crc = Zlib.crc32(bytes)
    guard crc == footer.indexCRC else {
      throw CheckpointError(
        .checksumMismatch,
        "index CRC32 mismatch (footer says \(CKZLayout.hex(footer.indexCRC)), index gives \(CKZLayout.hex(crc))): the index is corrupt",
        offset: footer.indexOffset)
    }
    return (try CKZIndex(decoding: bytes, indexOffset: footer.indexOffset), footer.indexOffset)
  }

  /// The checkpoint: tensors load lazily through this reader; provenance
  /// appears in the metadata under `ckz.` keys.
  public func checkpoint() throws -> Checkpoint {
    let tensors = entries.indices.map { index -> Tensor in
      let entry = entries[index]
      var tensor = Tensor(info: entry.info, byteCount: entry.rawByteCount) { [self] in
        try load(index)
      }
      tensor.storedByteCount = entry.storedByteCount
      return tensor
    }
    var combined = metadata
    for (key, value) in provenance { combined[CKZFormat.provenanceKeyPrefix + key] = value }
    return try Checkpoint(format: CKZFormat.identifier, tensors: tensors, metadata: combined)
  }

  /// The entry of the tensor named `name`.
  public func entry(named name: String) -> CKZTensorEntry? {
    entries.first { $0.info.name == name }
  }

  /// Loads tensor number `index`, verifying CRCs unless disabled.
  ///
  /// - Throws: the first problem found, naming the tensor, the chunk and the byte offset.
  public func load(_ index: Int) throws -> TensorBytes {
    var result: TensorBytes = .empty
    let failures = decode(index, keep: &result, stopEarly: true)
    if let first = failures.first { throw first.error }
    return result
  }

  /// Decodes every chunk of tensor number `index` and reports every problem found.
  public func verify(_ index: Int) -> [CKZChunkFailure] {
    var result: TensorBytes = .empty
    return decode(index, keep: &result, stopEarly: false)
  }

  /// Verifies every tensor (several at a time, so small tensors use every
  /// core too) and reports every problem found, in file order.
  public func verifyAll() -> [CKZChunkFailure] {
    var perTensor = [[CKZChunkFailure]](repeating: [], count: entries.count)
    perTensor.withUnsafeMutableBufferPointer { slots in
      DispatchQueue.concurrentPerform(iterations: entries.count) { index in
        slots[index] = verify(index)
      }
    }
    return perTensor.flatMap { $0 }
  }

  private func decode(_ index: Int, keep result: inout TensorBytes, stopEarly: Bool) -> [CKZChunkFailure] {
    let entry = entries[index]
    func failure(_ chunk: Int?, _ error: Error) -> CKZChunkFailure {
      let checkpointError =
        (error as? CheckpointError) ?? CheckpointError(.io, "\(error)")
      return CKZChunkFailure(
        tensor: entry.info.name, chunk: chunk,
        error: checkpointError.located(file: source.name, tensor: entry.info.name))
    }
    let section: TensorBytes
    do {
      section = try source.view(count: entry.storedByteCount, at: entry.offset)
      try checkPadding(after: index)
    } catch {
      return [failure(nil, error)]
    }
    var starts: [Int] = []
    starts.reserveCapacity(entry.chunks.count)
    var cursor = 0
    for chunk in entry.chunks {
      starts.append(cursor)
      cursor += chunk.storedSize
    }
    let count = entry.chunks.count
    var errors = [CheckpointError?](repeating: nil, count: count)
    let verify = verifiesChecksums || !stopEarly
    switch entry.codec {
    case .none:
      if verify {
        section.withUnsafeBytes { stored in
          errors.withUnsafeMutableBufferPointer { slots in
            DispatchQueue.concurrentPerform(iterations: count) { chunk in
              let range = entry.rawRange(ofChunk: chunk)
              let crc = Zlib.crc32(UnsafeRawBufferPointer(rebasing: stored[range]))
              if crc != entry.chunks[chunk].rawCRC {
                slots[chunk] = mismatch(
                  entry, chunk, start: starts[chunk], what: "data", expected: entry.chunks[chunk].rawCRC,
                  found: crc)
              }
            }
          }
        }
      }
      result = section
    case .zlib:
      result = TensorBytes.allocate(count: entry.rawByteCount) { output in
        section.withUnsafeBytes { stored in
          errors.withUnsafeMutableBufferPointer { slots in
            DispatchQueue.concurrentPerform(iterations: count) { chunk in
              slots[chunk] = decodeChunk(
                entry, chunk, start: starts[chunk], stored: stored, output: output, verify: verify)
            }
          }
        }
      }
    }
    var failures: [CKZChunkFailure] = []
    for (chunk, error) in errors.enumerated() {
      if let error {
        failures.append(failure(chunk, error))
        if stopEarly { break }
      }
    }
    if verify && failures.isEmpty {
      // Every raw chunk matched its CRC: hand them on so a writer need not compute them again.
      result = result.withChecksums(
        TensorBytes.ChunkChecksums(chunkSize: entry.chunkSize, crc32: entry.chunks.map(\.rawCRC)))
    }
    return failures
  }

  private func decodeChunk(
    _ entry: CKZTensorEntry, _ chunk: Int, start: Int, stored: UnsafeRawBufferPointer,
    output: UnsafeMutableRawBufferPointer, verify: Bool
  ) -> CheckpointError? {
    let record = entry.chunks[chunk]
    let input = UnsafeRawBufferPointer(rebasing: stored[start..<start + record.storedSize])
    if verify {
      let crc = Zlib.crc32(input)
      if crc != record.storedCRC {
        return mismatch(
          entry, chunk, start: start, what: "stored bytes", expected: record.storedCRC, found: crc)
      }
    }
    let range = entry.rawRange(ofChunk: chunk)
    let target = UnsafeMutableRawBufferPointer(rebasing: output[range])
    do {
      try CKZChunkCodec.decode(input, into: target, group: entry.groupWidth)
    } catch let error as CheckpointError {
      return CheckpointError(
        error.kind, "chunk \(chunk) of \(entry.chunks.count): \(error.message)", offset: entry.offset + start)
    } catch {
      return CheckpointError(.corrupt, "chunk \(chunk): \(error)", offset: entry.offset + start)
    }
    if verify {
      let crc = Zlib.crc32(UnsafeRawBufferPointer(target))
      if crc != record.rawCRC {
        return mismatch(
          entry, chunk, start: start, what: "decoded bytes", expected: record.rawCRC, found: crc)
      }
    }
    return nil
  }

  private func mismatch(
    _ entry: CKZTensorEntry, _ chunk: Int, start: Int, what: String, expected: UInt32, found: UInt32
  ) -> CheckpointError {
    let range = entry.rawRange(ofChunk: chunk)
    return CheckpointError(
      .checksumMismatch,
      "chunk \(chunk) of \(entry.chunks.count) (raw bytes \(range.lowerBound)..<\(range.upperBound)): CRC32 of the \(what) is \(CKZLayout.hex(found)), the index says \(CKZLayout.hex(expected))",
      offset: entry.offset + start)
  }

  /// Checks that the padding between tensor `index`'s section and the next part is zero.
  private func checkPadding(after index: Int) throws {
    let entry = entries[index]
    let end = entry.offset + entry.storedByteCount
    let next = index + 1 < entries.count ? entries[index + 1].offset : indexOffset
    guard next > end else { return }
    let padding = try source.read(count: next - end, at: end)
    if let bad = padding.firstIndex(where: { $0 != 0 }) {
      throw CheckpointError(
        .corrupt, "padding byte after the tensor's section is \(padding[bad]), not 0", offset: end + bad)
    }
  }
}
