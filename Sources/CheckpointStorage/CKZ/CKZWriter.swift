import CheckpointCore
import Dispatch

/// Writes a `.ckz` file in one streaming pass: header, one section per
/// tensor, index, footer.
///
/// Tensors are loaded, encoded, written and dropped in order. Chunks are
/// encoded in parallel a window at a time; consecutive small tensors are
/// encoded together (up to ``groupBytes``) so that they keep every core busy
/// too. Memory stays bounded by one large tensor (or one group of small
/// ones) plus one window of encoded chunks.
struct CKZWriter {
  /// The codec setting for every tensor.
  var compression: CompressionSetting
  /// Raw bytes per chunk.
  var chunkSize: Int = CKZFormat.chunkSize
  /// Chunks encoded at once: two per thread (``CheckpointCore/Processors/threads``).
  var windowSize: Int = max(4, 2 * Processors.threads)
  /// Consecutive tensors whose sizes add up to at most this are encoded as one group.
  var groupBytes: Int = 8 << 20
  /// Receives bytes written.
  var progress: (any ProgressReporter)?

  private var codec: CKZCodec { compression.codec == .zlib ? .zlib : .none }

  /// Writes `checkpoint` with `provenance` to `out`.
  func write(
    _ checkpoint: Checkpoint, provenance: @autoclosure () throws -> [String: String], to out: OutputFile
  ) throws {
    try out.write(CKZLayout.header())
    var entries: [CKZTensorEntry] = []
    entries.reserveCapacity(checkpoint.tensors.count)
    let tensors = checkpoint.tensors
    var start = 0
    while start < tensors.count {
      var end = start + 1
      var total = tensors[start].byteCount
      while end < tensors.count, tensors[end].byteCount <= groupBytes - total {
        total += tensors[end].byteCount
        end += 1
      }
      entries += try writeGroup(tensors[start..<end], to: out)
      start = end
    }
    try out.pad(toMultipleOf: CKZLayout.alignment)
    // The index may wait for the source's SHA-256: meanwhile, the disk takes the tensors.
    try out.startWritingBack()
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

  /// A loaded tensor being written.
  fileprivate struct Section {
    var entry: CKZTensorEntry
    var bytes: TensorBytes
    var chunkCount: Int
  }

  /// Loads, encodes and writes consecutive tensors; returns their index entries.
  private func writeGroup(_ tensors: ArraySlice<Tensor>, to out: OutputFile) throws -> [CKZTensorEntry] {
    let codec = self.codec
    // Load the group's tensors concurrently: readers that decode or verify
    // (a .ckz source, a zip member) then use every core for small tensors too.
    let tensors = Array(tensors)
    var loaded = [Result<TensorBytes, Error>](repeating: .success(.empty), count: tensors.count)
    loaded.withUnsafeMutableBufferPointer { slots in
      DispatchQueue.concurrentPerform(iterations: tensors.count) { index in
        slots[index] = Result { try tensors[index].load() }
      }
    }
    var sections: [Section] = try zip(tensors, loaded).map { tensor, result in
      let bytes = try CheckpointError.locating(tensor: tensor.name) { try result.get() }
      let group = codec == .zlib ? CKZChunkCodec.groupWidth(for: tensor.dtype) : 1
      let entry = CKZTensorEntry(
        info: tensor.info, codec: codec, level: codec == .zlib ? compression.level : 0, groupWidth: group,
        offset: 0, rawByteCount: bytes.count, chunkSize: chunkSize, chunks: [], storedByteCount: 0)
      let chunks = bytes.count / chunkSize + (bytes.count % chunkSize == 0 ? 0 : 1)
      return Section(entry: entry, bytes: bytes, chunkCount: chunks)
    }
    var jobs: [(section: Int, chunk: Int)] = []
    for (index, section) in sections.enumerated() {
      for chunk in 0..<section.chunkCount { jobs.append((index, chunk)) }
    }
    let window = windowSize
    var entries: [CKZTensorEntry] = []
    var current = 0  // the section being written
    var started = false
    var next = 0  // the next job to write
    var windowStart = 0
    var windowEnd = min(window, jobs.count)
    var results = encode(jobs[0..<windowEnd], sections)
    while true {
      // Encode the next window on other threads while this one is written.
      let nextEnd = min(windowEnd + window, jobs.count)
      let pending =
        windowEnd < nextEnd ? PendingEncode(jobs: Array(jobs[windowEnd..<nextEnd]), sections, self) : nil
      // Write every section part that is ready, in file order. On an error, the window
      // being encoded is waited for first: no thread of this writer outlives the call.
      do {
        while current < sections.count {
          if !started {
            try out.pad(toMultipleOf: CKZLayout.alignment)
            sections[current].entry.offset = out.position
            started = true
          }
          if sections[current].entry.chunks.count == sections[current].chunkCount {
            var entry = sections[current].entry
            entry.storedByteCount = out.position - entry.offset
            entries.append(entry)
            sections[current].bytes = .empty
            current += 1
            started = false
            continue
          }
          guard next < windowEnd else { break }
          let encoded = try CheckpointError.locating(tensor: sections[current].entry.info.name) {
            try results[next - windowStart].get()
          }
          let range = sections[current].entry.rawRange(ofChunk: jobs[next].chunk)
          if let stored = encoded.stored {
            try out.write(stored)
          } else {
            try out.write(sections[current].bytes.slice(range))
          }
          sections[current].entry.chunks.append(
            CKZChunk(
              storedSize: encoded.stored?.count ?? range.count, rawCRC: encoded.rawCRC,
              storedCRC: encoded.storedCRC))
          progress?.advance(bytes: range.count)
          next += 1
        }
      } catch {
        _ = pending?.wait()
        throw error
      }
      guard let pending else { break }
      results = pending.wait()
      windowStart = windowEnd
      windowEnd = nextEnd
    }
    return entries
  }

  /// Chunks being encoded in the background.
  private final class PendingEncode: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var results: [Result<EncodedChunk, Error>] = []

    init(jobs: [(section: Int, chunk: Int)], _ sections: [Section], _ writer: CKZWriter) {
      DispatchQueue.global().async {
        self.results = writer.encode(jobs[...], sections)
        self.done.signal()
      }
    }

    func wait() -> [Result<EncodedChunk, Error>] {
      done.wait()
      return results
    }
  }

  /// Encodes chunks (compressed ones in parallel).
  private func encode(
    _ jobs: ArraySlice<(section: Int, chunk: Int)>, _ sections: [Section]
  ) -> [Result<EncodedChunk, Error>] {
    let level = compression.level
    let codec = self.codec
    let first = jobs.startIndex
    var results = [Result<EncodedChunk, Error>](repeating: .success(EncodedChunk()), count: jobs.count)
    // Stored chunks only need their CRC (about 0.1 ms per MiB): one thread does, and leaves
    // the other cores to the source's SHA-256 and the copy.
    let threads = codec == .zlib ? jobs.count : 1
    results.withUnsafeMutableBufferPointer { slots in
      DispatchQueue.concurrentPerform(iterations: threads) { thread in
        for i in stride(from: thread, to: jobs.count, by: threads) {
          let (sectionIndex, chunk) = jobs[first + i]
          let section = sections[sectionIndex]
          let range = section.entry.rawRange(ofChunk: chunk)
          slots[i] = Result {
            try section.bytes.withUnsafeBytes { raw in
              let input = UnsafeRawBufferPointer(rebasing: raw[range])
              // A source that verified these bytes in the same chunks already knows their CRCs.
              let known = section.bytes.checksums.flatMap {
                $0.chunkSize == section.entry.chunkSize && chunk < $0.crc32.count ? $0.crc32[chunk] : nil
              }
              let rawCRC = known ?? Zlib.crc32(input)
              guard codec == .zlib else {
                return EncodedChunk(stored: nil, rawCRC: rawCRC, storedCRC: rawCRC)
              }
              let stored = try CKZChunkCodec.encode(input, group: section.entry.groupWidth, level: level)
              return EncodedChunk(stored: stored, rawCRC: rawCRC, storedCRC: Zlib.crc32(stored))
            }
          }
        }
      }
    }
    return results
  }
}

/// One encoded chunk and its checksums; `stored` is `nil` when the chunk is
/// stored as its raw bytes.
private struct EncodedChunk {
  var stored: [UInt8]?
  var rawCRC: UInt32 = 0
  var storedCRC: UInt32 = 0
}
