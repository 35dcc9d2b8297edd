import CheckpointCore

/// Writes a checkpoint as a `torch.save` zip archive of an `OrderedDict` of tensors.
///
/// Layout (what `torch.load(path, weights_only=True)` reads):
/// `archive/byteorder` (`little`, first so torch finds the top folder), one
/// stored, 64-byte-aligned, CRC-32-checked record `archive/data/<key>` per
/// storage, `archive/data.pkl` (see ``PickleWriter``) and `archive/version`.
/// Tensors stream one at a time: loaded, written, dropped.
///
/// Shared storage is written once: a tensor whose loaded bytes are the very
/// memory of a tensor already written, with the same dtype and shape (two names
/// for one tensor, tied weights — the PyTorch reader keeps shared records, see
/// ``TorchRecordCache``), refers to that storage instead of a copy. Tensors that merely
/// have equal values are written separately, so nothing aliases after
/// `torch.load` that did not alias before. Views that are not one contiguous
/// run (a transpose of a written tensor) are written as their own storage.
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
      var written: [Signature: Int] = [:]  // where each written tensor's bytes lived → its index
      var storageCount = 0
      for (index, tensor) in checkpoint.tensors.enumerated() {
        let bytes = try tensor.load()
        let elements = try Shape.elementCount(tensor.shape)
        let signature = bytes.withUnsafeBytes {
          Signature(
            address: $0.baseAddress.map { UInt(bitPattern: $0) }, dtype: tensor.dtype, shape: tensor.shape)
        }
        var storageKey: String?
        if signature.address != nil, let candidate = written[signature] {
          // The address may have been reused since; the candidate's bytes, loaded now
          // while ours are alive, share our memory only if it is the same storage.
          let again = try checkpoint.tensors[candidate].load()
          if again.withUnsafeBytes({ $0.baseAddress }) == bytes.withUnsafeBytes({ $0.baseAddress }) {
            storageKey = entries[candidate].storageKey
          }
        }
        if storageKey == nil {
          let key = String(storageCount)
          storageCount += 1
          try bytes.withUnsafeBytes { raw in
            try zip.add(name: top + "/data/" + key, bytes: raw, method: .stored, alignment: 64)
          }
          storageKey = key
        }
        written[signature] = index
        entries.append(
          PickleWriter.Entry(
            name: tensor.name, storageKey: storageKey ?? "", dtype: tensor.dtype, storageCount: elements,
            shape: tensor.shape))
      }
      try add(zip, "data.pkl", try PickleWriter.stateDict(entries))
      try add(zip, "version", Array("3\n".utf8))
      try zip.finish()
    }
  }

  private struct Signature: Hashable {
    var address: UInt?
    var dtype: DType
    var shape: [Int]
  }

  private static func add(_ zip: ZipWriter, _ name: String, _ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes {
      try zip.add(name: top + "/" + name, bytes: $0, method: .stored, alignment: 64)
    }
  }
}
