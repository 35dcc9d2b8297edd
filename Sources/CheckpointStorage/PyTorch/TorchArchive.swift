import CheckpointCore

/// Reads a `torch.save` zip archive (PyTorch ≥ 1.6) safely.
///
/// The top folder is taken from the entries (`<top>/data.pkl`, not always
/// `archive/`). `data.pkl` is unpickled up front by the restricted
/// ``PickleMachine`` (headers only); every storage it names must exist as
/// `<top>/data/<key>` with exactly `count × element size` bytes, checked before
/// any tensor data is read. Tensors are found at any depth of nested dicts and
/// named by dotted path (`model.encoder.weight`, `optimizer.state.0.exp_avg`);
/// scalars become metadata. Tensor bytes are read on ``Tensor/load()`` and
/// materialised from the storage view exactly (offset, size, stride).
///
/// A record that several tensors view is read once and kept while the tensors
/// live (``TorchRecordCache``), so aliases load as the same memory.
///
/// Pre-1.6 (non-zip) files and TorchScript archives are refused with an
/// `.unsupported` error; no other loader is ever tried.
enum TorchArchive {
  /// The most bytes `data.pkl` may have (it holds headers only).
  static let maxPickleSize = 256 << 20
  /// The deepest nesting of containers walked for tensors.
  static let maxDepth = 64

  /// Reads the checkpoint at `path`; with `key`, only the top-level entry `key` (a dict).
  static func read(path: String, key: String? = nil) throws -> Checkpoint {
    let file = try InputFile(path: path)
    let prefix = try file.read(count: min(file.size, 16), at: 0)
    guard prefix.starts(with: [0x50, 0x4B, 0x03, 0x04]) else {
      if TorchFormat.isLegacy(prefix: prefix) {
        throw CheckpointError(
          .unsupported,
          "legacy (pre-1.6, non-zip) torch.save file is not supported; re-save it with torch.save in torch ≥ 1.6",
          file: path)
      }
      throw CheckpointError(.badFormat, "not a torch.save zip archive", file: path)
    }
    let zip = try ZipReader(file: file)
    let top = try topFolder(zip, path: path)
    try checkByteOrder(zip, top: top)

    guard let pickleEntry = zip.entry(named: top + "/data.pkl") else {
      throw CheckpointError(.badFormat, "no \(top)/data.pkl in the archive", file: path)
    }
    guard pickleEntry.uncompressedSize <= maxPickleSize else {
      throw CheckpointError(
        .corrupt, "\(top)/data.pkl has \(pickleEntry.uncompressedSize) bytes (limit \(maxPickleSize))",
        file: path, offset: pickleEntry.dataOffset)
    }
    let storages = StorageTable(zip: zip, top: top)
    let pickle = try zip.read(pickleEntry).array
    let baseOffset = pickleEntry.method == .stored ? pickleEntry.dataOffset : 0
    let result = try CheckpointError.locating(file: path) {
      try PickleMachine.run(pickle, baseOffset: baseOffset) { pid in
        let value = try PickleAllowList.persistentLoad(pid)
        if case .storage(let storage) = value { try storages.check(storage) }
        return value
      }
    }

    var root = result.root
    if let key {
      guard case .dict(let dict) = root else {
        throw CheckpointError(
          .notFound, "the archive holds a \(root.typeName), so it has no key '\(key)'", file: path)
      }
      guard let selected = dict[.string(key)] else {
        let keys = dict.keys.map(\.pathComponent).joined(separator: ", ")
        throw CheckpointError(.notFound, "no key '\(key)' at the top level (keys: \(keys))", file: path)
      }
      guard case .dict = selected else {
        throw CheckpointError(
          .invalidArgument, "key '\(key)' holds a \(selected.typeName), not a dict", file: path)
      }
      root = selected
    }
    guard case .dict = root else {
      throw CheckpointError(
        .unsupported, "the archive holds a \(root.typeName), not a dict of tensors", file: path)
    }
    var found = TreeWalk()
    try CheckpointError.locating(file: path) { try found.walk(root, path: "", depth: 0) }
    withExtendedLifetime(result.arena) {}

    let cache = TorchRecordCache()
    var views: [String: Int] = [:]
    for (_, view) in found.tensors { views[view.storage.key, default: 0] += 1 }
    let tensors = try found.tensors.map { name, view in
      try CheckpointError.locating(file: path, tensor: name) {
        try makeTensor(
          name: name, view: view, zip: zip, top: top,
          cache: views[view.storage.key, default: 0] > 1 ? cache : nil)
      }
    }
    return try CheckpointError.locating(file: path) {
      try Checkpoint(format: TorchFormat.identifier, tensors: tensors, metadata: found.metadata)
    }
  }

  /// The single folder holding `data.pkl`; TorchScript archives are refused.
  private static func topFolder(_ zip: ZipReader, path: String) throws -> String {
    let tops = zip.entries.compactMap { entry -> String? in
      let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
      return parts.count == 2 && parts[1] == "data.pkl" && !parts[0].isEmpty ? String(parts[0]) : nil
    }
    guard let top = tops.first else {
      throw CheckpointError(
        .badFormat, "zip archive without a <folder>/data.pkl entry: not a torch.save archive", file: path)
    }
    guard tops.count == 1 else {
      throw CheckpointError(
        .corrupt, "several top folders hold a data.pkl: \(tops.joined(separator: ", "))", file: path)
    }
    if zip.entry(named: top + "/constants.pkl") != nil
      || zip.entries.contains(where: { $0.name.hasPrefix(top + "/code/") })
    {
      throw CheckpointError(
        .unsupported,
        "TorchScript archive (torch.jit.save) is not supported; save the module's state_dict() with torch.save",
        file: path)
    }
    return top
  }

  private static func checkByteOrder(_ zip: ZipReader, top: String) throws {
    guard let entry = zip.entry(named: top + "/byteorder") else { return }  // before torch 1.12: little
    guard entry.uncompressedSize <= 16 else {
      throw CheckpointError(
        .corrupt, "byteorder record of \(entry.uncompressedSize) bytes", offset: entry.dataOffset)
    }
    let order = String(decoding: try zip.read(entry).array, as: UTF8.self)
    guard order == "little" else {
      throw CheckpointError(
        .unsupported, "byte order '\(order)' (only little-endian archives are supported)",
        offset: entry.dataOffset)
    }
  }

  private static func makeTensor(
    name: String, view: TorchTensorReference, zip: ZipReader, top: String, cache: TorchRecordCache?
  ) throws -> Tensor {
    let dtype = view.storage.dtype
    let info = TensorInfo(name: name, dtype: dtype, shape: view.shape)
    let byteCount = try info.byteCount()
    let recordName = top + "/data/" + view.storage.key
    guard let entry = zip.entry(named: recordName) else {
      throw CheckpointError(.notFound, "storage record \(recordName) is missing")
    }
    var tensor = Tensor(info: info, byteCount: byteCount) {
      guard byteCount > 0 else { return .empty }
      let record = try cache?.record(view.storage.key) { try zip.read(entry) } ?? zip.read(entry)
      return try TorchStridedCopy.materialise(view, from: record)
    }
    if entry.method != .stored, byteCount == entry.uncompressedSize {
      // A deflated record read whole: report its size on disk.
      tensor.storedByteCount = entry.compressedSize
    }
    return tensor
  }
}

/// The storages named by persistent ids, each checked once against its record.
private final class StorageTable {
  private let zip: ZipReader
  private let top: String
  private var seen: [String: TorchStorageReference] = [:]

  init(zip: ZipReader, top: String) {
    self.zip = zip
    self.top = top
  }

  /// Checks that `storage`'s record exists and has exactly `count × element size`
  /// bytes, and that every mention of the key agrees on dtype and count.
  func check(_ storage: TorchStorageReference) throws {
    if let previous = seen[storage.key] {
      guard previous.dtype == storage.dtype, previous.count == storage.count else {
        throw CheckpointError(
          .corrupt,
          "storage '\(storage.key)' is declared as \(previous.count) \(previous.dtype) and as \(storage.count) \(storage.dtype)"
        )
      }
      return
    }
    let name = top + "/data/" + storage.key
    guard let entry = zip.entry(named: name) else {
      throw CheckpointError(.notFound, "storage record \(name) is missing")
    }
    let expected = try storage.dtype.byteCount(elements: storage.count)
    guard entry.uncompressedSize == expected else {
      throw CheckpointError(
        .corrupt,
        "storage '\(storage.key)' declares \(storage.count) \(storage.dtype) elements (\(expected) bytes) but its record \(name) has \(entry.uncompressedSize) bytes",
        offset: entry.dataOffset)
    }
    seen[storage.key] = storage
  }
}

/// Walks the unpickled tree: tensors by dotted path, scalars as metadata
/// (strings as they are; numbers, booleans, `None` and tuples/lists of them as
/// JSON text; dtypes by name). Bytes values are not kept.
private struct TreeWalk {
  var tensors: [(String, TorchTensorReference)] = []
  var metadata: [String: String] = [:]
  private var onPath = Set<ObjectIdentifier>()

  mutating func walk(_ value: PickleValue, path: String, depth: Int) throws {
    guard depth <= TorchArchive.maxDepth else {
      throw CheckpointError(
        .unsupported, "containers nested deeper than \(TorchArchive.maxDepth) at '\(path)'")
    }
    func child(_ component: String) -> String { path.isEmpty ? component : path + "." + component }
    switch value {
    case .tensor(let tensor):
      tensors.append((path, tensor))
    case .dict(let dict):
      try enter(dict, path: path)
      for (key, item) in dict.items { try walk(item, path: child(key.pathComponent), depth: depth + 1) }
      onPath.remove(ObjectIdentifier(dict))
    case .tuple, .list:
      let items = value.sequenceItems ?? []
      if let text = TreeWalk.scalarText(value, depth: 0) {
        metadata[path] = text
      } else {
        let container: AnyObject
        switch value {
        case .tuple(let tuple): container = tuple
        case .list(let list): container = list
        default: container = PickleList()
        }
        try enter(container, path: path)
        for (index, item) in items.enumerated() {
          try walk(item, path: child(String(index)), depth: depth + 1)
        }
        onPath.remove(ObjectIdentifier(container))
      }
    case .storage:
      throw CheckpointError(.unsupported, "a bare storage at '\(path)' (only tensors are read)")
    default:
      if let text = TreeWalk.scalarText(value, depth: 0) { metadata[path] = text }
    }
  }

  private mutating func enter(_ container: AnyObject, path: String) throws {
    guard onPath.insert(ObjectIdentifier(container)).inserted else {
      throw CheckpointError(.unsupported, "the pickle refers to itself at '\(path)' (a cycle)")
    }
  }

  /// The text of a scalar, or of a tuple/list of scalars as JSON; `nil` when the
  /// value holds tensors or dicts. Strings are kept as they are at the top level.
  static func scalarText(_ value: PickleValue, depth: Int) -> String? {
    if depth == 0, case .string(let s) = value { return s }
    if depth == 0, case .float(let d) = value { return "\(d)" }  // 0.25, 1e-08, nan, inf
    if depth == 0, case .global(let global) = value { return global.qualifiedName }  // torch.bfloat16
    return json(value, depth: depth)?.compactText
  }

  private static func json(_ value: PickleValue, depth: Int) -> JSONValue? {
    switch value {
    case .none: return JSONValue.null
    case .bool(let b): return .bool(b)
    case .int(let i): return .integer(Int64(i))
    case .float(let d): return .double(d)
    case .string(let s): return .string(s)
    case .global(let global): return .string(global.qualifiedName)
    case .tuple, .list:
      guard depth < 8 else { return nil }
      var items: [JSONValue] = []
      for item in value.sequenceItems ?? [] {
        guard let json = json(item, depth: depth + 1) else { return nil }
        items.append(json)
      }
      return .array(items)
    case .bytes, .dict, .storage, .tensor: return nil
    }
  }
}
