import CheckpointCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A sharded safetensors checkpoint: an index (`model.safetensors.index.json`)
/// and the shard files it names (`model-00001-of-00003.safetensors`, ...),
/// read and written as one checkpoint.
///
/// Reading validates the index (shard names must stay beside it) and every
/// shard's header: each `weight_map` entry must exist in the shard it names,
/// every tensor of a shard must be listed, and no tensor may appear in two
/// shards. The index's `total_size` is often inexact in the wild, so a
/// mismatch is recorded in the metadata under ``totalSizeNoteKey`` instead of
/// failing. Metadata is the index's `metadata` rendered as strings plus each
/// shard's `__metadata__` (the index and earlier shards win on conflicts),
/// without the index's derived sizes (`total_size`, `total_parameters`): they
/// describe the shards, not the model, and writers compute them anew.
/// Tensors are listed shard by shard (shards sorted by file name, which is
/// shard number order for Hugging Face names), each shard in data order.
///
/// A folder holding exactly one `*.safetensors.index.json` reads as that index.
///
/// Writing splits tensors greedily in checkpoint order like huggingface_hub's
/// `split_state_dict_into_shards` (a tensor over the limit gets a shard of its
/// own), names the shards after the index (`model.safetensors.index.json` →
/// `model-00001-of-00003.safetensors`), writes each shard atomically and the
/// index last, as transformers formats it. The index is written even for a
/// single shard.
public enum ShardedSafetensorsFormat: CheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `safetensors-sharded`.
  public static let identifier = "safetensors-sharded"
  /// The extensions that name this format, when writing and when no magic bytes match:
  /// `.safetensors.index.json`, `.index.json`.
  public static let fileExtensions = ["safetensors.index.json", "index.json"]

  /// huggingface_hub's default largest shard, used when no `--shard-size` is given.
  public static let defaultShardSize = 5_000_000_000

  /// The metadata key that records a `total_size` that does not match the tensors.
  public static let totalSizeNoteKey = "ckpt.total_size_note"

  /// Metadata keys that belong to the index rather than to the shards.
  public static let indexKeys: Set<String> = ["total_size", "total_parameters", totalSizeNoteKey]

  /// An index is JSON without a magic number: detected by extension only.
  public static func matches(prefix: [UInt8]) -> Bool { false }

  /// Reads the checkpoint at `path`, validating it as the type's documentation says; tensor bytes are read
  /// lazily.
  public static func read(path: String) throws -> Checkpoint {
    let indexPath = try SafetensorsFolder.checkpointFile(in: path) ?? path
    let index = try SafetensorsIndex(reading: indexPath)
    let folder = SafetensorsFolder.folder(of: indexPath)

    var metadata = index.renderedMetadata
    for key in indexKeys { metadata[key] = nil }
    var tensors: [Tensor] = []
    var check = SafetensorsIndex.ShardCheck(index)
    for shard in index.shards {
      let shardPath = folder + "/" + shard
      let (file, header) = try CheckpointError.locating(file: shardPath) {
        let file = try InputFile(path: shardPath)
        return (file, try SafetensorsHeader(reading: file))
      }
      for entry in header.entries {
        try check.found(entry.info.name, in: shard, path: shardPath, offset: entry.fieldOffset)
      }
      tensors += SafetensorsFormat.tensors(of: file, header: header)
      for (key, value) in header.metadata ?? [:] where metadata[key] == nil {
        metadata[key] = value
      }
    }
    try check.finish(index: index, path: indexPath)

    let bytes = tensors.reduce(0) { $0 &+ $1.byteCount }
    if let declared = index.metadata.first(where: { $0.0 == "total_size" })?.1, declared.intValue != bytes {
      metadata[totalSizeNoteKey] =
        "index total_size \(declared.compactText) differs from the \(bytes) bytes of tensor data"
    }
    return try CheckpointError.locating(file: indexPath) {
      try Checkpoint(format: identifier, tensors: tensors, metadata: metadata)
    }
  }

  /// The shard plan: which tensors go into which shard, in order.
  ///
  /// Greedy in tensor order, as huggingface_hub's `split_state_dict_into_shards`:
  /// a tensor larger than `limit` is appended as a shard of its own right away
  /// (the open shard stays open); otherwise the open shard is closed when the
  /// tensor would push it over `limit`.
  public static func plan(byteCounts: [Int], limit: Int) -> [[Int]] {
    var shards: [[Int]] = []
    var current: [Int] = []
    var currentSize = 0
    for (index, size) in byteCounts.enumerated() {
      if size > limit {
        shards.append([index])
        continue
      }
      if size > limit - currentSize {
        shards.append(current)
        current = []
        currentSize = 0
      }
      current.append(index)
      currentSize += size
    }
    if !current.isEmpty { shards.append(current) }
    return shards
  }

  /// The shard file names for an index named `indexName`: the prefix is the
  /// index name without `.safetensors.index.json` (or `.index.json`).
  public static func shardNames(indexName: String, count: Int) -> [String] {
    var prefix = indexName
    for suffix in [".safetensors.index.json", ".index.json", ".safetensors"] where prefix.hasSuffix(suffix) {
      prefix = String(prefix.dropLast(suffix.count))
    }
    if prefix.isEmpty { prefix = "model" }
    func number(_ value: Int) -> String {
      let digits = String(value)
      return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }
    return (0..<count).map { "\(prefix)-\(number($0 + 1))-of-\(number(count)).safetensors" }
  }

  /// Writes the shards and then the index at `path` (creating its folder if needed).
  ///
  /// A failure removes the shards this call wrote and leaves no index.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    let limit = options.shardSize ?? defaultShardSize
    guard limit > 0 else {
      throw CheckpointError(.invalidArgument, "shard size must be positive", file: path)
    }
    for tensor in checkpoint.tensors {
      try CheckpointError.locating(file: path) {
        try SafetensorsDTypes.checkWritable(tensor.dtype, tensor: tensor.name)
      }
    }
    let folder = SafetensorsFolder.folder(of: path)
    let indexName = String(path.split(separator: "/").last ?? "model.safetensors.index.json")
    try SafetensorsFolder.createFolder(folder)

    let plan = plan(byteCounts: checkpoint.tensors.map(\.byteCount), limit: limit)
    let names = shardNames(indexName: indexName, count: plan.count)
    var shardMetadata = checkpoint.metadata
    for key in indexKeys { shardMetadata[key] = nil }

    options.progress?.begin(label: "writing", totalBytes: checkpoint.byteCount)
    defer { options.progress?.end() }
    var written: [String] = []
    do {
      var weightMap: [SafetensorsIndex.Entry] = []
      for (members, name) in zip(plan, names) {
        let tensors = members.map { checkpoint.tensors[$0] }
        let shardPath = folder + "/" + name
        try SafetensorsFormat.writeFile(tensors, metadata: shardMetadata, to: shardPath) {
          options.progress?.advance(bytes: $0)
        }
        written.append(shardPath)
        weightMap += tensors.map { SafetensorsIndex.Entry(tensor: $0.name, shard: name) }
      }
      let index = SafetensorsIndex(
        metadata: [("total_size", .integer(Int64(checkpoint.byteCount)))], weightMap: weightMap)
      let text = Array(index.text.utf8)
      try AtomicFile.write(to: path) { try $0.write(text) }
    } catch {
      for shard in written { unlink(shard) }
      throw error
    }
  }
}
