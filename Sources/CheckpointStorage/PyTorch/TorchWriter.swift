import CheckpointCore

/// Writes a checkpoint as a `torch.save` zip archive of an `OrderedDict` of tensors.
///
/// Layout (what `torch.load(path, weights_only=True)` reads):
/// `archive/byteorder` (`little`, first so torch finds the top folder), one
/// stored, 64-byte-aligned, CRC-32-checked record `archive/data/<key>` per
/// storage, `archive/data.pkl` (see ``PickleWriter``) and `archive/version`.
/// Tensors stream one at a time: loaded, written, dropped.
///
/// Shared storage is written once: a tensor with the same dtype, shape and
/// bytes as one already written (two names for one tensor, tied weights)
/// refers to that storage instead of writing a copy — candidates are found by
/// CRC-32 and confirmed by comparing every byte. Those tensors alias after
/// `torch.load`, as they do after `torch.save` of tied weights.
enum TorchWriter {
  /// The top folder name.
  static let top = "archive"

  static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    // Refuse unsupported dtypes before creating anything.
    for tensor in checkpoint.tensors where PickleAllowList.storageTypeName(for: tensor.dtype) == nil {
      throw CheckpointError(
        .unsupportedDType, "PyTorch storages cannot hold \(tensor.dtype)", file: path, tensor: tensor.name)
    }
    try AtomicFile.write(to: path) { file in
      let zip = ZipWriter(file: file)
      try add(zip, "byteorder", Array("little".utf8))
      var entries: [PickleWriter.Entry] = []
      var written: [Signature: [Int]] = [:]  // signature → indices of tensors owning a storage
      var storageCount = 0
      for (index, tensor) in checkpoint.tensors.enumerated() {
        let bytes = try tensor.load()
        let elements = try Shape.elementCount(tensor.shape)
        let signature = Signature(
          dtype: tensor.dtype, shape: tensor.shape, crc: Zlib.crc32(bytes))
        var storageKey: String?
        for candidate in written[signature, default: []] {
          if try checkpoint.tensors[candidate].load() == bytes {
            storageKey = entries[candidate].storageKey
            break
          }
        }
        if storageKey == nil {
          let key = String(storageCount)
          storageCount += 1
          try bytes.withUnsafeBytes { raw in
            try zip.add(name: top + "/data/" + key, bytes: raw, method: .stored, alignment: 64)
          }
          written[signature, default: []].append(index)
          storageKey = key
        }
        entries.append(
          PickleWriter.Entry(
            name: tensor.name, storageKey: storageKey ?? "", dtype: tensor.dtype, storageCount: elements,
            shape: tensor.shape))
        options.progress?.advance(bytes: tensor.byteCount)
      }
      try add(zip, "data.pkl", try PickleWriter.stateDict(entries))
      try add(zip, "version", Array("3\n".utf8))
      try zip.finish()
    }
  }

  private struct Signature: Hashable {
    var dtype: DType
    var shape: [Int]
    var crc: UInt32
  }

  private static func add(_ zip: ZipWriter, _ name: String, _ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes {
      try zip.add(name: top + "/" + name, bytes: $0, method: .stored, alignment: 64)
    }
  }
}
