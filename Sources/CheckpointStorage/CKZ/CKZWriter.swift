import CheckpointCore
import Dispatch

/// Writes a `.ckz` file in one streaming pass: header, one section per
/// tensor (loaded, encoded and dropped one at a time), index, footer.
///
/// Chunks of a tensor are encoded in parallel, a batch at a time, so memory
/// stays bounded by the tensor being written plus one batch of chunks.
struct CKZWriter {
  /// The codec setting for every tensor.
  var compression: CompressionSetting
  /// Raw bytes per chunk.
  var chunkSize: Int = CKZFormat.chunkSize
  /// Chunks encoded at once.
  var batchSize: Int = max(4, 2 * System.activeProcessorCount)
  /// Receives bytes written.
  var progress: (any ProgressReporter)?

  /// Writes `checkpoint` with `provenance` to `out`.
  func write(
    _ checkpoint: Checkpoint, provenance: @autoclosure () throws -> [String: String], to out: OutputFile
  )
    throws
  {
    try out.write(CKZLayout.header())
    var entries: [CKZTensorEntry] = []
    entries.reserveCapacity(checkpoint.tensors.count)
    for tensor in checkpoint.tensors {
      try out.pad(toMultipleOf: CKZLayout.alignment)
      let entry = try CheckpointError.locating(tensor: tensor.name) {
        let bytes = try tensor.load()
        return try writeSection(bytes, info: tensor.info, to: out)
      }
      entries.append(entry)
    }
    try out.pad(toMultipleOf: CKZLayout.alignment)
    var metadata = checkpoint.metadata
    if checkpoint.format == CKZFormat.identifier {
      metadata = CKZFormat.userMetadata(metadata)
    }
    let index = CKZIndex(entries: entries, metadata: metadata, provenance: try provenance()).encoded()
    let indexOffset = out.position
    try out.write(index)
    let footer = CKZLayout.Footer(
      indexOffset: indexOffset, indexLength: index.count, indexCRC: Zlib.crc32(index))
    try out.write(footer.encoded())
  }

  /// Encodes and writes one tensor's section; returns its index entry.
  func writeSection(_ bytes: TensorBytes, info: TensorInfo, to out: OutputFile) throws -> CKZTensorEntry {
    let offset = out.position
    let count = bytes.count
    let chunkCount = count / chunkSize + (count % chunkSize == 0 ? 0 : 1)
    let codec: CKZCodec = compression.codec == .zlib ? .zlib : .none
    let group = codec == .zlib ? CKZChunkCodec.groupWidth(for: info.dtype) : 1
    var entry = CKZTensorEntry(
      info: info, codec: codec, level: codec == .zlib ? compression.level : 0, groupWidth: group,
      offset: offset, rawByteCount: count, chunkSize: chunkSize, chunks: [], storedByteCount: 0)
    func range(_ chunk: Int) -> Range<Int> {
      chunk * chunkSize..<min((chunk + 1) * chunkSize, count)
    }
    switch codec {
    case .none:
      var crcs = [UInt32](repeating: 0, count: chunkCount)
      bytes.withUnsafeBytes { raw in
        crcs.withUnsafeMutableBufferPointer { slots in
          DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            slots[chunk] = Zlib.crc32(UnsafeRawBufferPointer(rebasing: raw[range(chunk)]))
          }
        }
      }
      entry.chunks = crcs.enumerated().map {
        CKZChunk(storedSize: range($0.offset).count, rawCRC: $0.element, storedCRC: $0.element)
      }
      try out.write(bytes)
      progress?.advance(bytes: count)
    case .zlib:
      let level = compression.level
      var first = 0
      while first < chunkCount {
        let batch = min(batchSize, chunkCount - first)
        var results = [Result<EncodedChunk, Error>](repeating: .success(EncodedChunk()), count: batch)
        bytes.withUnsafeBytes { raw in
          results.withUnsafeMutableBufferPointer { slots in
            DispatchQueue.concurrentPerform(iterations: batch) { i in
              let input = UnsafeRawBufferPointer(rebasing: raw[range(first + i)])
              slots[i] = Result {
                let stored = try CKZChunkCodec.encode(input, group: group, level: level)
                return EncodedChunk(stored: stored, rawCRC: Zlib.crc32(input), storedCRC: Zlib.crc32(stored))
              }
            }
          }
        }
        for i in 0..<batch {
          let chunk = try results[i].get()
          try out.write(chunk.stored)
          entry.chunks.append(
            CKZChunk(storedSize: chunk.stored.count, rawCRC: chunk.rawCRC, storedCRC: chunk.storedCRC))
          progress?.advance(bytes: range(first + i).count)
        }
        first += batch
      }
    }
    entry.storedByteCount = out.position - offset
    return entry
  }
}

/// One encoded chunk and its checksums.
private struct EncodedChunk {
  var stored: [UInt8] = []
  var rawCRC: UInt32 = 0
  var storedCRC: UInt32 = 0
}
