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

  /// Writes `checkpoint` as a `.keras` archive that `keras.saving.load_model` loads: the model's
  /// Keras config (``configKey`` in the metadata, as a `.keras` archive read here carries it into
  /// every format that keeps metadata), `metadata.json` (the source's, else one naming `ckpt`) and
  /// `model.weights.h5` in the Keras 3 layout. Written atomically: the weights file is built
  /// beside `path`, the archive is written to a temporary file in the same folder, synced and
  /// renamed.
  ///
  /// - Throws: `CheckpointError` `.unsupported` when the metadata holds no Keras model config (a
  ///   model cannot be rebuilt from weights alone), `.invalidArgument` for a tensor that is not a
  ///   Keras 3 variable path (`layers/{layer}/…`, `optimizer/…`) or whose layer is not one of the
  ///   config's.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    try CheckpointError.locating(file: path) {
      guard let config = checkpoint.metadata[configKey], let layers = try layerPaths(config) else {
        throw CheckpointError(
          .unsupported,
          "a .keras archive needs the model's Keras config (config.json), which this checkpoint does not "
            + "carry: convert from a .keras archive (its config travels in the metadata of safetensors, "
            + "npz, .ckz and GGUF files), or write Keras 3 weights (.weights.h5) and load them with load_weights"
        )
      }
      try checkLayers(checkpoint, layers: layers)
      let metadata = checkpoint.metadata[metadataKey] ?? defaultMetadata()
      var weights = checkpoint
      weights.metadata = [:]
      let folder = (path as NSString).deletingLastPathComponent
      let temporary =
        (folder.isEmpty ? "." : folder) + "/.ckpt-keras-\(UInt64.random(in: 0...UInt64.max)).weights.h5"
      defer { unlink(temporary) }
      try HDF5CheckpointWriter.write(weights, to: temporary, layout: .keras3, options: options)
      let bytes = try InputFile(path: temporary).mapShared()
      try AtomicFile.write(to: path) { file in
        let archive = ZipWriter(file: file)
        // The order Keras writes them in (`_save_model_to_fileobj`).
        try archive.add(name: "metadata.json", bytes: Array(metadata.utf8))
        try archive.add(name: "config.json", bytes: Array(config.utf8))
        try bytes.withUnsafeBytes { try archive.add(name: "model.weights.h5", bytes: $0) }
        try archive.finish()
      }
    }
  }

  /// Every metadata key but the archive's own two is left out of a `.keras` archive.
  public static func droppedMetadata(_ metadata: [String: String]) -> [String] {
    metadata.keys.filter { $0 != configKey && $0 != metadataKey }.sorted()
  }

  /// The names Keras 3 files the top-level layers of the model `config` under (`layers/{name}/`):
  /// each layer's class in snake case, numbered from the second of a class on (`dense`,
  /// `dense_1`), as `saving_lib` names them; `nil` when `config` is not a Keras model config
  /// (a Hugging Face `config.json`, say).
  static func layerPaths(_ config: String) throws -> Set<String>? {
    guard let root = try? JSONValue.parse(Array(config.utf8)).objectValue,
      case .string? = root.first(where: { $0.0 == "class_name" })?.1,
      let body = root.first(where: { $0.0 == "config" })?.1.objectValue,
      let layers = body.first(where: { $0.0 == "layers" })?.1.arrayValue
    else { return nil }
    var used: [String: Int] = [:]
    var names = Set<String>()
    for layer in layers {
      guard case .string(let className)? = layer.objectValue?.first(where: { $0.0 == "class_name" })?.1 else {
        throw CheckpointError(.corrupt, "config.json: a layer of the model has no class_name")
      }
      let base = snakeCase(className)
      let count = used[base, default: 0]
      used[base] = count + 1
      names.insert(count == 0 ? base : "\(base)_\(count)")
    }
    return names
  }

  /// Keras's `naming.to_snake_case`: `TransformerEncoder` → `transformer_encoder`,
  /// `LSTM` → `lstm`, `GRUCell` → `gru_cell`, `Conv2D` → `conv2d`.
  static func snakeCase(_ name: String) -> String {
    let letters = Array(name.filter { $0.isLetter || $0.isNumber || $0 == "_" })
    var out = ""
    for (index, character) in letters.enumerated() {
      if index > 0, character.isUppercase {
        let previous = letters[index - 1]
        let next = index + 1 < letters.count ? letters[index + 1] : nil
        // "(.)([A-Z][a-z]+)" then "([a-z])([A-Z])".
        if previous.isLowercase || (next?.isLowercase ?? false) { out += "_" }
      }
      out.append(character)
    }
    return out.lowercased()
  }

  /// Every tensor must be a Keras 3 variable of one of the config's layers, or optimizer state.
  private static func checkLayers(_ checkpoint: Checkpoint, layers: Set<String>) throws {
    for tensor in checkpoint.tensors {
      let parts = tensor.name.split(separator: "/", omittingEmptySubsequences: false)
      if parts.first == "optimizer", parts.count > 1 { continue }
      guard parts.count > 2, parts[0] == "layers" else {
        throw CheckpointError(
          .invalidArgument,
          "not a Keras 3 variable path (layers/{layer}/...): convert with --layout keras3 first",
          tensor: tensor.name)
      }
      guard layers.contains(String(parts[1])) else {
        throw CheckpointError(
          .invalidArgument,
          "layer '\(parts[1])' is not a layer of the model's config (its layers: "
            + layers.sorted().joined(separator: ", ") + ")", tensor: tensor.name)
      }
    }
  }

  /// `metadata.json` for an archive whose source kept none: who wrote it, and when.
  private static func defaultMetadata() -> String {
    let date = ISO8601DateFormatter().string(from: Date())
    return "{\"saved_by\": \"ckpt \(CheckpointKitVersion.current)\", \"date_saved\": \"\(date)\"}"
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
