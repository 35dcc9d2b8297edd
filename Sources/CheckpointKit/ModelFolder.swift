import CheckpointCore
import CheckpointStorage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A Hugging Face model folder read as one checkpoint: the weights transformers would load
/// (`SafetensorsFolder/checkpointFile(in:)`: `model.safetensors` or its shard index, else
/// `pytorch_model.bin` or its shard index) and the model's own `config.json`.
///
/// The config's text is kept in the checkpoint's metadata under ``configKey``, where the
/// recognisers read what names and shapes cannot tell (heads, eps, activation, norm placement),
/// `ckpt inspect` shows it, and formats with metadata carry it into what `ckpt` writes.
public enum ModelFolder {
  /// The metadata key that holds the folder's `config.json`.
  public static let configKey = Checkpoint.configKey
  /// The largest `config.json` read (transformers' own are a few KiB).
  public static let maximumConfigSize = 16 << 20

  /// Reads the folder `path`.
  ///
  /// - Throws: `CheckpointError` naming the file: no weights, several candidates, a malformed
  ///   `config.json` or shard index, a shard that does not hold what the index says.
  public static func read(path: String, key: String? = nil) throws -> Checkpoint {
    guard let weights = try SafetensorsFolder.checkpointFile(in: path) else {
      throw CheckpointError(.invalidArgument, "not a folder", file: path)
    }
    var checkpoint: Checkpoint
    if weights.hasSuffix("/" + SafetensorsFolder.torchIndexName) {
      guard key == nil else {
        throw CheckpointError(
          .invalidArgument, "--key is not supported for sharded PyTorch weights", file: path)
      }
      checkpoint = try readTorchShards(index: weights)
    } else {
      checkpoint = try FormatRegistry.read(path: weights, key: key)
    }
    if let config = try config(in: path) { checkpoint.metadata[configKey] = config }
    return checkpoint
  }

  /// The folder's files that are neither its weights nor its config (tokenizer, vocabulary,
  /// generation config, ...): a conversion does not carry them, and says so.
  public static func otherFiles(in folder: String) -> [String] {
    guard let weights = (try? SafetensorsFolder.checkpointFile(in: folder)).flatMap({ $0 }) else { return [] }
    let used = Set([configKey, String(weights.split(separator: "/").last ?? "")])
    var shards: Set<String> = []
    if weights.hasSuffix(".index.json"), let index = try? SafetensorsIndex(reading: weights) {
      shards = Set(index.shards)
    }
    return ((try? SafetensorsFolder.entries(in: folder)) ?? []).filter {
      !$0.hasPrefix(".") && !used.contains($0) && !shards.contains($0)
    }
  }

  /// The text of the folder's `config.json`, checked to be a JSON object; nil when it has none.
  public static func config(in folder: String) throws -> String? {
    let path = (folder.hasSuffix("/") ? folder : folder + "/") + "config.json"
    guard let file = try? InputFile(path: path) else { return nil }
    return try CheckpointError.locating(file: path) {
      guard file.size <= maximumConfigSize else {
        throw CheckpointError(
          .corrupt, "config.json is \(file.size) bytes, over the limit of \(maximumConfigSize)")
      }
      let bytes = try file.read(count: file.size, at: 0)
      let json: JSONValue
      do {
        json = try JSONValue.parse(bytes)
      } catch let error as JSONValue.ParseError {
        throw CheckpointError(
          .corrupt, "config.json is not valid JSON: \(error.message)", offset: error.offset)
      }
      guard json.objectValue != nil else {
        throw CheckpointError(.corrupt, "config.json is not a JSON object")
      }
      return String(decoding: bytes, as: UTF8.self)
    }
  }

  /// `pytorch_model.bin.index.json` and the `torch.save` shards it names, as one checkpoint:
  /// every `weight_map` entry must be in the shard it names, every tensor of a shard listed,
  /// no tensor in two shards (as for sharded safetensors).
  static func readTorchShards(index path: String) throws -> Checkpoint {
    let index = try SafetensorsIndex(reading: path)
    let folder = SafetensorsFolder.folder(of: path)
    var tensors: [Tensor] = []
    var check = SafetensorsIndex.ShardCheck(index)
    for shard in index.shards {
      let shardPath = folder + "/" + shard
      let checkpoint = try CheckpointError.locating(file: shardPath) { try TorchFormat.read(path: shardPath) }
      for tensor in checkpoint.tensors {
        try check.found(tensor.name, in: shard, path: shardPath)
        tensors.append(tensor)
      }
    }
    try check.finish(index: index, path: path)
    var metadata = index.renderedMetadata
    for key in ShardedSafetensorsFormat.indexKeys { metadata[key] = nil }
    return try CheckpointError.locating(file: path) {
      try Checkpoint(format: TorchFormat.identifier, tensors: tensors, metadata: metadata)
    }
  }

  /// Writes `checkpoint` as a Hugging Face model folder at `path`: `config.json` (the source's,
  /// which its metadata carries, else one written from what the checkpoint proves for a BERT
  /// encoder: ``HFConfig``) and `model.safetensors`, or shards and their index with a
  /// shard size, the weights' metadata reduced to transformers' `{"format": "pt"}` and what
  /// else the source's safetensors header held.
  ///
  /// The folder is written beside its place under a hidden temporary name and renamed into place
  /// when complete, so a failure leaves no folder and no partial shard set. An existing
  /// non-empty folder is refused rather than mixed with.
  ///
  /// - Throws: `.invalidArgument` when the checkpoint has no `config.json` and none can be
  ///   written (a folder without one is not a model transformers can load; write a file
  ///   instead), or the folder is not empty.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    let target = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    let config =
      try checkpoint.metadata[configKey]
      ?? CheckpointError.locating(file: target) {
        try HFConfig.written(for: checkpoint)
      }
    if SafetensorsFolder.isFolder(target), let entries = try? SafetensorsFolder.entries(in: target),
      !entries.isEmpty
    {
      throw CheckpointError(
        .invalidArgument,
        "the folder is not empty (\(entries.prefix(3).joined(separator: ", "))); choose a new folder",
        file: target)
    }
    var template = Array(
      (SafetensorsFolder.folder(of: target) + "/.ckpt-folder-XXXXXX").utf8CString)
    try pointerOrErrno("mkdtemp", file: target, failure: "cannot create a temporary folder") {
      template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    }
    let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    do {
      var weights = checkpoint
      weights.metadata[configKey] = nil
      if weights.metadata["format"] == nil { weights.metadata["format"] = "pt" }
      if options.shardSize != nil {
        try ShardedSafetensorsFormat.write(
          weights, to: temporary + "/model.safetensors.index.json", options: options)
      } else {
        try SafetensorsFormat.write(weights, to: temporary + "/model.safetensors", options: options)
      }
      try AtomicFile.write(to: temporary + "/config.json") { try $0.write(Array(config.utf8)) }
      if SafetensorsFolder.isFolder(target) { rmdir(target) }
      try valueOrErrno("rename", file: target) { rename(temporary, target) }
    } catch {
      for name in (try? SafetensorsFolder.entries(in: temporary)) ?? [] { unlink(temporary + "/" + name) }
      rmdir(temporary)
      throw error
    }
  }
}
