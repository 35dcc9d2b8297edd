import CheckpointCore
import Dispatch

/// CheckpointKit's native format `.ckz`: chunked, optionally zlib-compressed
/// (with byte grouping of floating-point data), CRC32-checked, written in one
/// streaming pass, with an index at the end. See Docs/ckz-format.md.
///
/// Writing uses ``WriteOptions/compression`` (`none`, or `zlib:1`–`zlib:9`);
/// when it is `nil`, ``defaultCompression`` (`zlib:6`). With
/// ``WriteOptions/provenance``, the source format, layout, tool and the
/// SHA-256 of the source file are recorded; reading exposes them as metadata
/// keys `ckz.source_format`, `ckz.source_layout`, `ckz.tool`, `ckz.source_sha256`.
public enum CKZFormat: CheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `ckz`.
  public static let identifier = "ckz"
  /// The extensions that name this format, when writing and when no magic bytes match: `.ckz`.
  public static let fileExtensions = ["ckz"]
  /// `.ckz` stores any dtype by name, Q8_0/Q4_0 blocks included.
  public static var supportsBlockQuantization: Bool { true }

  /// The compression used when the options name none: `zlib:6`.
  public static let defaultCompression = CompressionSetting(codec: .zlib, level: 6)
  /// Raw bytes per chunk written: 1 MiB.
  public static let chunkSize = 1 << 20
  /// The prefix under which provenance appears in a read checkpoint's metadata.
  public static let provenanceKeyPrefix = "ckz."

  /// Whether `prefix`, the file's first bytes, starts the way this format's files do.
  public static func matches(prefix: [UInt8]) -> Bool {
    prefix.count >= 8 && Array(prefix[0..<8]) == CKZLayout.magic
  }

  /// Reads the checkpoint at `path`, validating it as the type's documentation says; tensor bytes are read
  /// lazily.
  public static func read(path: String) throws -> Checkpoint {
    try CKZReader(path: path).checkpoint()
  }

  /// Writes `checkpoint` to `path` atomically: a temporary file in the same folder, synced, then renamed.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    let compression = options.compression ?? defaultCompression
    let digest = options.provenance?.sourcePath.map(BackgroundDigest.init(path:))
    // On every path, the hashing thread is done before this returns: a process that
    // exits on an error while libcrypto still works on another thread can crash.
    defer { digest?.stop() }
    let writer = CKZWriter(compression: compression, progress: options.progress)
    options.progress?.begin(label: "writing \(path)", totalBytes: checkpoint.byteCount)
    // Stored: the raw bytes, a lower bound (the header, padding and index come on top), so
    // there is nothing to trim. Compressed: at most the raw bytes plus chunk tables, padding
    // and the index; the file is trimmed to what was written.
    let expected =
      compression.codec == .none
      ? checkpoint.byteCount : checkpoint.byteCount + 256 * checkpoint.tensors.count + (1 << 16)
    try AtomicFile.write(to: path, expectedSize: expected) { out in
      try writer.write(
        checkpoint, provenance: try provenance(options.provenance, digest: digest?.wait()), to: out)
    }
  }

  /// Metadata without the `ckz.` provenance keys a `.ckz` reader adds.
  public static func userMetadata(_ metadata: [String: String]) -> [String: String] {
    metadata.filter { !$0.key.hasPrefix(provenanceKeyPrefix) }
  }

  static func provenance(_ provenance: Provenance?, digest: [UInt8]?) throws -> [String: String] {
    guard let provenance else { return [:] }
    var map = ["tool": provenance.tool]
    if let format = provenance.sourceFormat { map["source_format"] = format }
    if let layout = provenance.sourceLayout { map["source_layout"] = layout }
    if let digest { map["source_sha256"] = SHA256.hex(digest) }
    return map
  }
}

/// The SHA-256 of a file, computed on another thread while the caller works.
///
/// The file is mapped before this returns, as a shared mapping
/// (``InputFile/mapShared()``): the source's tensors, read while it is hashed,
/// are views into the same pages rather than a second mapping of them.
private final class BackgroundDigest: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  /// Signalled to ask the hashing thread to give up early.
  private let stopRequest = DispatchSemaphore(value: 0)
  private var result: Result<[UInt8], Error> = .success([])

  init(path: String) {
    let file = Result { try InputFile(path: path).mapShared() }
    DispatchQueue.global().async {
      self.result = Result {
        try SHA256.digest(ofFile: try file.get(), path: path) {
          self.stopRequest.wait(timeout: .now()) == .timedOut
        }
      }
      self.done.signal()
    }
  }

  /// Asks the hashing thread to stop and waits until it has.
  func stop() {
    stopRequest.signal()
    done.wait()
    done.signal()
  }

  /// Waits for the digest.
  func wait() throws -> [UInt8] {
    done.wait()
    done.signal()
    return try CheckpointError.locating(file: nil) { try result.get() }
  }
}
