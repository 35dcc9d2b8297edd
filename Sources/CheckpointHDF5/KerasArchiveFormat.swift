import CheckpointCore
import CheckpointStorage
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Keras 3's default save format, the `.keras` archive (`model.save("m.keras")`): a zip of
/// `config.json` (the model's layers and their settings), `metadata.json` (Keras version, date)
/// and `model.weights.h5` (the Keras 3 weights layout).
///
/// Reading gives the weights as a `keras3` checkpoint would, with `config.json` kept in the
/// metadata under ``configKey`` (where the recognisers read heads, activation, eps and norm
/// placement: a `.keras` Transformer runs without flags) and `metadata.json` under
/// ``metadataKey``. libhdf5 reads only files, so the weights entry is copied to a private
/// temporary file, opened (after the same checks and probe as any HDF5 file), and unlinked at
/// once: the open file keeps its data until the checkpoint is released.
public enum KerasArchiveFormat: CheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `keras-archive`.
  public static let identifier = "keras-archive"
  /// The extensions that name this format, when writing and when no magic bytes match: `.keras`.
  public static let fileExtensions = ["keras"]
  /// The metadata key of the archive's `config.json` (the same key as a Hugging Face folder's).
  public static let configKey = Checkpoint.configKey
  /// The metadata key of the archive's `metadata.json`.
  public static let metadataKey = "keras_metadata.json"
  /// The entries Keras writes.
  static let entryNames = ["config.json", "metadata.json", "model.weights.h5"]
  /// The largest `config.json` / `metadata.json` read.
  static let maximumJSONSize = 16 << 20

  /// A zip whose first entry is one Keras writes.
  public static func matches(prefix: [UInt8]) -> Bool {
    guard prefix.count >= 30, prefix[0] == 0x50, prefix[1] == 0x4B, prefix[2] == 3, prefix[3] == 4 else {
      return false
    }
    let length = Int(prefix[26]) | Int(prefix[27]) << 8
    guard 30 + length <= prefix.count else { return false }
    let name = String(decoding: prefix[30..<(30 + length)], as: UTF8.self)
    return entryNames.contains(name)
  }

  /// Reads the checkpoint at `path`, validating it as the type's documentation says; tensor bytes are read
  /// lazily.
  public static func read(path: String) throws -> Checkpoint {
    try CheckpointError.locating(file: path) {
      let archive = try ZipReader(path: path)
      guard let weights = archive.entry(named: "model.weights.h5") else {
        throw CheckpointError(.notFound, "the .keras archive has no model.weights.h5")
      }
      guard let configEntry = archive.entry(named: "config.json") else {
        throw CheckpointError(.notFound, "the .keras archive has no config.json")
      }
      let config = try json(archive, configEntry)
      let kerasMetadata = try archive.entry(named: "metadata.json").map { try json(archive, $0) }
      let bytes = try CheckpointError.locating(tensor: "model.weights.h5") { try archive.read(weights) }
      var checkpoint = try withTemporaryCopy(bytes) { temporary in
        do {
          return try HDF5CheckpointReader.read(path: temporary)
        } catch var error as CheckpointError {
          // Name the entry, not the temporary copy; the archive's path is added on the way up.
          if error.file == temporary { error.file = nil }
          error.message =
            "model.weights.h5: " + error.message.replacingOccurrences(of: temporary, with: "model.weights.h5")
          throw error
        }
      }
      checkpoint.format = identifier
      checkpoint.metadata[configKey] = config
      if let kerasMetadata { checkpoint.metadata[metadataKey] = kerasMetadata }
      return checkpoint
    }
  }

  /// Writes `checkpoint` to `path` atomically: a temporary file in the same folder, synced, then renamed.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    throw CheckpointError(
      .unsupported,
      "writing .keras archives is not supported yet; write Keras 3 weights (.weights.h5) and load them into "
        + "the model with load_weights", file: path)
  }

  /// The text of a JSON entry, checked to be a JSON object.
  private static func json(_ archive: ZipReader, _ entry: ZipEntry) throws -> String {
    try CheckpointError.locating(tensor: entry.name) {
      guard entry.uncompressedSize <= maximumJSONSize else {
        throw CheckpointError(
          .corrupt, "\(entry.name) is \(entry.uncompressedSize) bytes, over \(maximumJSONSize)")
      }
      let bytes = try archive.read(entry)
      let text = bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
      do {
        guard try JSONValue.parse(Array(text.utf8)).objectValue != nil else {
          throw CheckpointError(.corrupt, "\(entry.name) is not a JSON object")
        }
      } catch let error as JSONValue.ParseError {
        throw CheckpointError(
          .corrupt, "\(entry.name) is not valid JSON: \(error.message)", offset: error.offset)
      }
      return text
    }
  }

  /// Runs `body` on a private temporary file holding `bytes` (mode 0600 in `$TMPDIR`), and
  /// unlinks it when `body` returns or throws.
  private static func withTemporaryCopy<R>(_ bytes: TensorBytes, _ body: (String) throws -> R) throws -> R {
    let folder = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array((folder + "/ckpt-keras-XXXXXX.h5").utf8CString)
    let descriptor = try valueOrErrno("mkstemps", failure: "cannot create a temporary file in \(folder)") {
      template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 3) }
    }
    let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    defer { unlink(temporary) }
    do {
      try bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
          let written = try valueOrErrno(
            "write", failure: "cannot write the temporary copy of model.weights.h5"
          ) {
            #if canImport(Glibc)
              Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            #else
              Darwin.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            #endif
          }
          guard written > 0 else {
            throw CheckpointError(
              .io, "cannot write the temporary copy of model.weights.h5: \(String(cString: strerror(errno)))")
          }
          offset += written
        }
      }
      close(descriptor)
    } catch {
      close(descriptor)
      throw error
    }
    return try body(temporary)
  }
}
