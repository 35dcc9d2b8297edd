import CheckpointCore

/// The index of a sharded safetensors checkpoint (`model.safetensors.index.json`):
/// `{"metadata": {"total_size": N, ...}, "weight_map": {tensor: shard file}}`.
public struct SafetensorsIndex: Sendable {
  /// The largest index file accepted (huggingface_hub itself refuses indexes over 10 MB).
  public static let maximumSize = 100_000_000

  /// One `weight_map` entry.
  public struct Entry: Sendable, Equatable {
    /// The tensor's name.
    public var tensor: String
    /// The shard file, relative to the index's folder.
    public var shard: String
    /// The byte offset of the entry in the index file (0 for a planned index).
    public var offset: Int

    /// Creates an entry.
    public init(tensor: String, shard: String, offset: Int = 0) {
      self.tensor = tensor
      self.shard = shard
      self.offset = offset
    }
  }

  /// The `metadata` object's members, in file order.
  public var metadata: [(String, JSONValue)]
  /// The `weight_map` entries, in file order.
  public var weightMap: [Entry]

  /// Creates an index.
  public init(metadata: [(String, JSONValue)], weightMap: [Entry]) {
    self.metadata = metadata
    self.weightMap = weightMap
  }

  /// The declared `total_size`, when it is an integer.
  public var totalSize: Int? {
    metadata.first { $0.0 == "total_size" }?.1.intValue
  }

  /// The metadata as strings: strings as they are, anything else as compact JSON.
  public var renderedMetadata: [String: String] {
    var rendered: [String: String] = [:]
    for (key, value) in metadata {
      rendered[key] = value.stringValue ?? value.compactText
    }
    return rendered
  }

  /// The shard files, sorted by name (for `model-00001-of-00003.safetensors`
  /// names, in shard number order).
  public var shards: [String] {
    Set(weightMap.map(\.shard)).sorted { SafetensorsDTypes.codePointPrecedes($0, $1) }
  }

  /// Reads and validates the index file at `path`.
  ///
  /// - Throws: `CheckpointError` naming the file, the tensor and the byte offset.
  public init(reading path: String) throws {
    let file = try InputFile(path: path)
    guard file.size <= SafetensorsIndex.maximumSize else {
      throw CheckpointError(
        .corrupt, "index is \(file.size) bytes, over the limit of \(SafetensorsIndex.maximumSize)",
        file: path, offset: 0)
    }
    let text = try file.read(count: file.size, at: 0)
    self = try CheckpointError.locating(file: path) { try SafetensorsIndex(text: text) }
  }

  /// Parses index text.
  init(text: [UInt8]) throws {
    let json: JSONValue
    do {
      json = try JSONValue.parse(text)
    } catch let error as JSONValue.ParseError {
      if case .duplicateKey(let key) = error.reason, JSONMemberOffsets.depth(in: text, at: error.offset) == 2
      {
        throw CheckpointError(
          .duplicateName, "duplicate tensor name '\(key)' in the index", tensor: key, offset: error.offset)
      }
      throw CheckpointError(
        .corrupt, "index is not valid JSON: \(error.message)", offset: error.offset)
    }
    let start = JSONMemberOffsets.firstNonWhitespace(in: text)
    guard let members = json.objectValue else {
      throw CheckpointError(.corrupt, "index is not a JSON object", offset: start)
    }
    let positions = JSONMemberOffsets.members(in: text, objectAt: start)
    func offset(of key: String) -> Int {
      guard let index = members.firstIndex(where: { $0.0 == key }), index < positions.count else {
        return start
      }
      return positions[index].value
    }

    switch json["metadata"] {
    case nil, .null?: metadata = []
    case .object(let items)?: metadata = items
    default:
      throw CheckpointError(.corrupt, "index 'metadata' is not an object", offset: offset(of: "metadata"))
    }

    guard let map = json["weight_map"] else {
      throw CheckpointError(.corrupt, "index has no 'weight_map'", offset: start)
    }
    guard let entries = map.objectValue else {
      throw CheckpointError(.corrupt, "index 'weight_map' is not an object", offset: offset(of: "weight_map"))
    }
    let entryPositions = JSONMemberOffsets.members(in: text, objectAt: offset(of: "weight_map"))
    weightMap = []
    weightMap.reserveCapacity(entries.count)
    for (index, (tensor, value)) in entries.enumerated() {
      let at = index < entryPositions.count ? entryPositions[index].value : offset(of: "weight_map")
      guard let shard = value.stringValue else {
        throw CheckpointError(
          .corrupt, "weight_map value is not a file name", tensor: tensor, offset: at)
      }
      try CheckpointError.locating(tensor: tensor, offset: at) {
        try SafetensorsIndex.checkShardName(shard)
      }
      weightMap.append(Entry(tensor: tensor, shard: shard, offset: at))
    }
  }

  /// Refuses shard names that could leave the index's folder: absolute paths,
  /// `..` components, empty names and NUL bytes.
  public static func checkShardName(_ name: String) throws {
    let components = name.split(separator: "/", omittingEmptySubsequences: false)
    guard !name.isEmpty, !name.contains("\0") else {
      throw CheckpointError(.corrupt, "shard name '\(name)' is empty or holds a NUL byte")
    }
    guard !name.hasPrefix("/") else {
      throw CheckpointError(.corrupt, "shard '\(name)' is an absolute path; shards must sit beside the index")
    }
    guard !components.contains("..") else {
      throw CheckpointError(.corrupt, "shard '\(name)' leaves the index's folder ('..')")
    }
    guard components.last.map({ !$0.isEmpty }) ?? false else {
      throw CheckpointError(.corrupt, "shard name '\(name)' names a folder, not a file")
    }
  }

  /// The index text as transformers writes it: `json.dumps(index, indent=2, sort_keys=True) + "\n"`.
  public var text: String {
    let map = JSONValue.object(weightMap.map { ($0.tensor, .string($0.shard)) })
    return PythonJSON.indented(.object([("metadata", .object(metadata)), ("weight_map", map)])) + "\n"
  }
}

extension SafetensorsIndex {
  /// The checks a shard set gets against its index, whatever the shards' format: each tensor a
  /// shard holds must be listed for that shard and in no other shard, and every listed tensor
  /// must be found (`finish(index:)`).
  public struct ShardCheck {
    private let listed: [String: String]
    private var foundIn: [String: String] = [:]

    /// A check against `index`.
    public init(_ index: SafetensorsIndex) {
      var listed: [String: String] = [:]
      for entry in index.weightMap { listed[entry.tensor] = entry.shard }
      self.listed = listed
    }

    /// Records tensor `name`, found in `shard` (the file `path`, at `offset` when known).
    public mutating func found(_ name: String, in shard: String, path: String, offset: Int? = nil) throws {
      if let other = foundIn[name] {
        throw CheckpointError(
          .duplicateName, "tensor appears in two shards, \(other) and \(shard)", file: path, tensor: name,
          offset: offset)
      }
      guard let listing = listed[name] else {
        throw CheckpointError(
          .corrupt, "tensor is in shard \(shard) but not in the index's weight_map", file: path, tensor: name,
          offset: offset)
      }
      guard listing == shard else {
        throw CheckpointError(
          .corrupt, "tensor is in shard \(shard) but the index maps it to \(listing)", file: path,
          tensor: name,
          offset: offset)
      }
      foundIn[name] = shard
    }

    /// Refuses a listed tensor that no shard held (the index at `path`).
    public func finish(index: SafetensorsIndex, path: String) throws {
      for entry in index.weightMap where foundIn[entry.tensor] == nil {
        throw CheckpointError(
          .notFound, "the index maps the tensor to \(entry.shard), which does not contain it", file: path,
          tensor: entry.tensor, offset: entry.offset)
      }
    }
  }
}
