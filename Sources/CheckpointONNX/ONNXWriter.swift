import CheckpointCore
import CheckpointONNXSchema
import CheckpointStorage
import SwiftProtobuf

/// Writes a checkpoint as an ONNX `ModelProto` whose graph has no nodes and holds every tensor
/// as an initializer: a weights container that `onnx.checker.check_model` accepts.
///
/// The model's fields, the graph's name and each initializer's `TensorProto` without its data
/// are serialized by swift-protobuf; the `raw_data` of each tensor is streamed after its
/// `TensorProto` fields (protobuf fields may come in any order), so no tensor is held in memory
/// beyond the one being written. The model records IR version 8 and opset 17 (IR 9 and opset 19
/// when it holds float8 tensors, which need them), `producer_name` `ckpt`, and the
/// checkpoint's metadata (but for the `onnx.` keys) as `metadata_props`, sorted by key.
///
/// Tensors of at least `WriteOptions/externalDataThreshold` bytes go to the side file
/// `<model file name>.data` beside the model (`data_location = EXTERNAL`, `location`, `offset`,
/// `length`), each at an offset that is a multiple of 64. Without a threshold every tensor is
/// inline unless the model would pass protobuf's 2 GiB limit; then every tensor of 1 KiB and
/// more (onnx's own default `size_threshold`) goes to the side file. The side file's temporary is
/// renamed only after the model is in place, so a failure leaves neither.
enum ONNXWriter {
  /// The largest protobuf message onnx, onnxruntime and swift-protobuf read: 2 GiB - 1.
  static let protobufLimit = Int(Int32.max)
  /// The threshold used when a model would not fit inline: onnx's default `size_threshold`.
  static let defaultExternalThreshold = 1024
  /// The alignment of tensors in the side file.
  static let externalAlignment = 64

  /// One tensor, planned: its initializer's fields without data, and where its data goes.
  struct Planned {
    var tensor: Tensor
    /// The serialized `TensorProto` without `raw_data`.
    var fields: [UInt8]
    /// The tensor's offset in the side file, or `nil` when it is inline.
    var externalOffset: Int?

    /// The size of the initializer's `TensorProto`.
    var messageSize: Int {
      externalOffset != nil
        ? fields.count
        : fields.count + 1 + ProtobufWire.varintSize(UInt64(tensor.byteCount)) + tensor.byteCount
    }
  }

  static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    guard options.shardSize == nil else {
      throw CheckpointError(
        .invalidArgument, "ONNX output is not sharded; --shard-size applies to safetensors")
    }
    if let compression = options.compression, compression.codec != .none {
      throw CheckpointError(.invalidArgument, "ONNX files are not compressed (--compress \(compression))")
    }
    if let threshold = options.externalDataThreshold, threshold < 0 {
      throw CheckpointError(.invalidArgument, "the external data threshold must not be negative")
    }
    let dataName = (path.split(separator: "/").last.map(String.init) ?? path) + ".data"
    let dataPath = String(path.dropLast(path.split(separator: "/").last?.count ?? 0)) + dataName
    let prefix = try modelFields(checkpoint)
    let graphName = try graphFields()
    let plan = try self.plan(checkpoint, options: options, location: dataName)
    let size = modelSize(prefix: prefix, graph: graphName, plan: plan)
    let writeModel = {
      try AtomicFile.write(to: path, expectedSize: size) { out in
        try out.write(prefix)
        var head = ProtobufWire.tag(7, .lengthDelimited)
        ProtobufWire.appendVarint(UInt64(graphSize(graph: graphName, plan: plan)), to: &head)
        try out.write(head + graphName)
        for entry in plan {
          var bytes = ProtobufWire.tag(5, .lengthDelimited)
          ProtobufWire.appendVarint(UInt64(entry.messageSize), to: &bytes)
          bytes += entry.fields
          guard entry.externalOffset == nil else {
            try out.write(bytes)
            continue
          }
          bytes += ProtobufWire.tag(9, .lengthDelimited)
          ProtobufWire.appendVarint(UInt64(entry.tensor.byteCount), to: &bytes)
          try out.write(bytes)
          try out.write(try entry.tensor.load())
        }
      }
    }
    let external = plan.filter { $0.externalOffset != nil }
    guard let last = external.last, let lastOffset = last.externalOffset else { return try writeModel() }
    try CheckpointError.locating(file: dataPath) {
      try AtomicFile.write(to: dataPath, expectedSize: lastOffset + last.tensor.byteCount) { out in
        for entry in external {
          try out.writeZeros((entry.externalOffset ?? 0) - out.position)
          try out.write(try entry.tensor.load())
        }
        try CheckpointError.locating(file: path) { try writeModel() }
      }
    }
  }

  /// Where each tensor goes: inline, or to the side file `location` when it has at least
  /// `options.externalDataThreshold` bytes (by default, only when the model would not fit inline).
  ///
  /// - Throws: `.invalidArgument` when the model is over protobuf's limit even so.
  static func plan(_ checkpoint: Checkpoint, options: WriteOptions, location: String) throws -> [Planned] {
    let prefix = try modelFields(checkpoint)
    let graph = try graphFields()
    var plan = try planned(
      checkpoint, threshold: options.externalDataThreshold ?? Int.max, location: location)
    var size = modelSize(prefix: prefix, graph: graph, plan: plan)
    if options.externalDataThreshold == nil, size > protobufLimit {
      plan = try planned(checkpoint, threshold: defaultExternalThreshold, location: location)
      size = modelSize(prefix: prefix, graph: graph, plan: plan)
    }
    guard size <= protobufLimit else {
      throw CheckpointError(
        .invalidArgument,
        "the model would be \(size) bytes, over protobuf's 2 GiB limit; lower the external data threshold")
    }
    return plan
  }

  /// The `ModelProto` fields before the graph.
  private static func modelFields(_ checkpoint: Checkpoint) throws -> [UInt8] {
    let float8 = checkpoint.tensors.contains { $0.dtype == .f8e4m3 || $0.dtype == .f8e5m2 }
    var model = Onnx_ModelProto()
    model.irVersion = float8 ? 9 : 8
    model.producerName = "ckpt"
    model.producerVersion = CheckpointKitVersion.current
    var opset = Onnx_OperatorSetIdProto()
    opset.domain = ""
    opset.version = float8 ? 19 : 17
    model.opsetImport = [opset]
    model.metadataProps = ONNXFormat.userMetadata(checkpoint.metadata).sorted { $0.key < $1.key }.map {
      var entry = Onnx_StringStringEntryProto()
      entry.key = $0.key
      entry.value = $0.value
      return entry
    }
    return try model.serializedBytes()
  }

  /// The `GraphProto` fields before the initializers: its name.
  private static func graphFields() throws -> [UInt8] {
    var graph = Onnx_GraphProto()
    graph.name = "ckpt"
    return try graph.serializedBytes()
  }

  /// Plans every tensor: inline, or in the side file when it has at least `threshold` bytes.
  private static func planned(_ checkpoint: Checkpoint, threshold: Int, location: String) throws -> [Planned]
  {
    var names = Set<String>()
    var externalEnd = 0
    return try checkpoint.tensors.map { tensor in
      try CheckpointError.locating(tensor: tensor.name) {
        guard !tensor.name.isEmpty else {
          throw CheckpointError(.invalidArgument, "ONNX initializers need a name")
        }
        guard names.insert(tensor.name).inserted else {
          throw CheckpointError(.duplicateName, "duplicate tensor name")
        }
        let expected = try tensor.info.byteCount()
        guard tensor.byteCount == expected else {
          throw CheckpointError(
            .invalidShape,
            "tensor holds \(tensor.byteCount) bytes, shape \(Shape.describe(tensor.shape)) \(tensor.dtype) needs \(expected)"
          )
        }
        var proto = Onnx_TensorProto()
        proto.name = tensor.name
        proto.dims = tensor.shape.map(Int64.init)
        proto.dataType = Int32(try ONNXTensorType.code(of: tensor.dtype))
        var offset: Int?
        if tensor.byteCount > 0, tensor.byteCount >= threshold {
          let start = (externalEnd + externalAlignment - 1) / externalAlignment * externalAlignment
          offset = start
          externalEnd = start + tensor.byteCount
          proto.dataLocation = .external
          proto.externalData = [
            ("location", location), ("offset", String(start)), ("length", String(tensor.byteCount)),
          ]
          .map {
            var entry = Onnx_StringStringEntryProto()
            entry.key = $0.0
            entry.value = $0.1
            return entry
          }
        }
        return Planned(tensor: tensor, fields: try proto.serializedBytes(), externalOffset: offset)
      }
    }
  }

  private static func graphSize(graph: [UInt8], plan: [Planned]) -> Int {
    plan.reduce(graph.count) { $0 + 1 + ProtobufWire.varintSize(UInt64($1.messageSize)) + $1.messageSize }
  }

  private static func modelSize(prefix: [UInt8], graph: [UInt8], plan: [Planned]) -> Int {
    let size = graphSize(graph: graph, plan: plan)
    return prefix.count + 1 + ProtobufWire.varintSize(UInt64(size)) + size
  }
}

extension ONNXFormat {
  /// Writes `checkpoint` to `path` atomically as a node-less weights graph, tensors of at least
  /// `options.externalDataThreshold` bytes (by default none, unless the model would pass 2 GiB)
  /// in the side file `<path>.data` (Docs/onnx.md).
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    try ONNXWriter.write(checkpoint, to: path, options: options)
  }
}
