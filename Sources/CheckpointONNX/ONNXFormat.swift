import CheckpointCore
import CheckpointStorage
import SwiftProtobuf

/// ONNX models (`.onnx`): the graph's initializers as tensors, the model's descriptive fields as
/// metadata (Docs/onnx.md).
///
/// Reading scans the memory-mapped file with a protobuf wire-format reader (`ProtobufWire`) that
/// locates each initializer's `raw_data`, typed value fields or external data without copying
/// them; the rest of the model and of its graph (metadata, opsets, inputs, outputs, nodes) is
/// decoded by swift-protobuf from ONNX's own schema. A tensor's bytes are read when it is loaded:
/// `raw_data` and external data are mapped (copied when not aligned to the element size), typed
/// fields decoded. External data must lie in the model's folder (`ONNXExternalData`).
///
/// The metadata: each of `metadata_props` under its own key, and `onnx.ir_version`,
/// `onnx.producer_name`, `onnx.producer_version`, `onnx.domain`, `onnx.model_version`,
/// `onnx.doc_string`, `onnx.opset_import` (JSON: domain → version) and `onnx.graph` (JSON: the
/// graph's name, inputs and outputs with types and shapes, node count and op counts). The
/// `onnx.` keys describe the file and are not carried into files written from it.
///
/// Writing produces a `ModelProto` whose graph has no nodes and holds every tensor as an
/// initializer (`ONNXWriter`), with tensors at or above the external data threshold in a side
/// file (`WriteOptions/externalDataThreshold`).
public enum ONNXFormat: CheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `onnx`.
  public static let identifier = "onnx"
  /// The extensions that name this format: `.onnx`.
  public static let fileExtensions = ["onnx"]
  /// The prefix of the metadata keys that describe the file rather than the weights.
  public static let metadataPrefix = "onnx."
  /// How deep swift-protobuf may nest messages (subgraphs of `If`/`Loop` nodes) in a model read.
  static let messageDepthLimit = 64

  /// Whether `prefix` starts like a `ModelProto` written by onnx or torch: `ir_version` (field 1)
  /// with a value 1–20, then a tag of another `ModelProto` field. ONNX has no magic bytes; files
  /// that do not start so are recognised by their extension.
  public static func matches(prefix: [UInt8]) -> Bool {
    guard prefix.count >= 3, prefix[0] == 0x08, (1...20).contains(prefix[1]) else { return false }
    return [0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72].contains(prefix[2])
  }

  /// The metadata that belongs to the weights: every key but the `onnx.` ones.
  public static func userMetadata(_ metadata: [String: String]) -> [String: String] {
    metadata.filter { !$0.key.hasPrefix(metadataPrefix) }
  }

  /// Reads the model at `path`: its initializers, checked against their dims and types, load lazily.
  public static func read(path: String) throws -> Checkpoint {
    let file = try InputFile(path: path)
    return try CheckpointError.locating(file: path) {
      // The whole-file mapping lives only while scanning; loads map their own ranges, so the
      // pages a conversion touches are released tensor by tensor.
      let mapped = try file.mapShared()
      return try mapped.withUnsafeBytes { bytes in
        let scan = try ONNXModelScan(bytes)
        let external = ONNXExternalData(modelPath: path)
        var seen = Set<String>()
        var tensors: [Tensor] = []
        for initializer in scan.initializers {
          try CheckpointError.locating(tensor: initializer.name, offset: initializer.offset) {
            guard !initializer.name.isEmpty else {
              throw CheckpointError(.corrupt, "an initializer has no name")
            }
            guard seen.insert(initializer.name).inserted else {
              throw CheckpointError(.duplicateName, "duplicate initializer name")
            }
            tensors.append(try tensor(initializer, file: file, bytes: bytes, external: external))
          }
        }
        let metadata = try self.metadata(scan)
        return try Checkpoint(format: identifier, tensors: tensors, metadata: metadata)
      }
    }
  }

  /// The lazily loaded tensor of `initializer`, its values checked against its dims and type.
  private static func tensor(
    _ initializer: ONNXInitializer, file: InputFile, bytes: UnsafeRawBufferPointer, external: ONNXExternalData
  ) throws -> Tensor {
    let dtype = try ONNXTensorType.dtype(code: initializer.dataType)
    let info = TensorInfo(name: initializer.name, dtype: dtype, shape: initializer.dims)
    let count = try info.byteCount()
    let elements = try Shape.elementCount(initializer.dims)
    let needs = "shape \(Shape.describe(info.shape)) \(dtype) needs"
    switch initializer.values {
    case .raw(let range):
      guard range.count == count else {
        throw CheckpointError(
          .invalidShape, "raw_data holds \(range.count) bytes, \(needs) \(count)", offset: range.lowerBound)
      }
      return mappedTensor(info, count: count, file: file, offset: range.lowerBound)
    case .external(let entries):
      let (data, offset) = try external.locate(entries, byteCount: count)
      return mappedTensor(info, count: count, file: data, offset: offset)
    case .typed(let kind, let fields):
      guard kind == ONNXTensorType.valueField(of: dtype) else {
        throw CheckpointError(
          .corrupt,
          "\(dtype) values are in \(kind.name); ONNX keeps them in \(ONNXTensorType.valueField(of: dtype).name)"
        )
      }
      let found = try ONNXTypedValues.count(of: kind, in: fields, bytes: bytes)
      guard found == elements else {
        throw CheckpointError(.invalidShape, "\(kind.name) holds \(found) values, \(needs) \(elements)")
      }
      return typedTensor(info, count: count, kind: kind, fields: fields, file: file)
    case .none:
      guard count == 0 else {
        throw CheckpointError(
          .corrupt, "no values (no raw_data, typed field or external data), \(needs) \(count) bytes")
      }
      return Tensor(info: info, byteCount: 0) { .empty }
    }
  }

  /// A tensor whose `count` bytes lie at `offset` in `file`: mapped when aligned to the element
  /// size and large, read otherwise, after checking that the file still holds them.
  private static func mappedTensor(_ info: TensorInfo, count: Int, file: InputFile, offset: Int) -> Tensor {
    let aligned = offset % (info.dtype.elementSize ?? 1) == 0
    return Tensor(info: info, byteCount: count) {
      try CheckpointError.locating(file: file.path, offset: offset) {
        guard aligned, count >= 1 << 16 else { return try file.readBytes(count: count, at: offset) }
        // Touching a mapped page past the end of a file that shrank would crash (SIGBUS).
        let now = try InputFile(path: file.path).size
        guard offset <= now, count <= now - offset else {
          throw CheckpointError(.truncated, "the file shrank to \(now) bytes after it was opened")
        }
        return try file.mapBytes(count: count, at: offset)
      }
    }
  }

  /// A tensor decoded from typed fields, read again from `file` when loaded.
  private static func typedTensor(
    _ info: TensorInfo, count: Int, kind: ONNXTensorType.ValueField, fields: [ProtobufWire.Field],
    file: InputFile
  ) -> Tensor {
    let start = fields.map(\.start).min() ?? 0
    let end = fields.map(\.end).max() ?? 0
    let shifted = fields.map { field in
      var copy = field
      copy.start -= start
      copy.payload = (field.payload.lowerBound - start)..<(field.payload.upperBound - start)
      return copy
    }
    return Tensor(info: info, byteCount: count) {
      let stored = try file.read(count: end - start, at: start)
      return try TensorBytes.allocate(count: count) { out in
        try stored.withUnsafeBytes { bytes in
          try CheckpointError.locating(file: file.path, offset: start) {
            try ONNXTypedValues.decode(kind, shifted, from: bytes, dtype: info.dtype, into: out)
          }
        }
      }
    }
  }
}
