import CheckpointCore

/// One `TensorProto` of `GraphProto.initializer`, located in the file without copying its data.
struct ONNXInitializer {
  /// Where the tensor's values are.
  enum Values {
    /// `raw_data`: little-endian bytes at these file offsets.
    case raw(Range<Int>)
    /// One typed field (`float_data`, `int32_data`, ...): its occurrences, packed or not.
    case typed(ONNXTensorType.ValueField, [ProtobufWire.Field])
    /// `data_location = EXTERNAL`: the `external_data` entries.
    case external([String: String])
    /// No values (valid only for a tensor without elements).
    case none
  }

  /// `name` (field 8).
  var name = ""
  /// `dims` (field 1).
  var dims: [Int] = []
  /// `data_type` (field 2).
  var dataType = 0
  /// Where the values are.
  var values = Values.none
  /// The file offset of the `TensorProto`'s field tag.
  var offset: Int
}

/// The parts of a `ModelProto` found by scanning the mapped file: the initializers, located in
/// place, and the bytes of every other field of the model and of its graph, which swift-protobuf
/// decodes (they are small: nodes, inputs, outputs, metadata).
struct ONNXModelScan {
  /// The most dimensions an initializer may have.
  static let maximumDimensions = 64

  /// `graph.initializer`, in file order.
  var initializers: [ONNXInitializer] = []
  /// The model's fields other than `graph`, as they are in the file.
  var modelFields: [UInt8] = []
  /// The graph's fields other than `initializer`, as they are in the file.
  var graphFields: [UInt8] = []

  /// Scans the `ModelProto` that is the whole of `bytes`.
  init(_ bytes: UnsafeRawBufferPointer) throws {
    var model = ProtobufWire(bytes, range: 0..<bytes.count)
    var sawGraph = false
    while let field = try model.nextField() {
      if field.number == 7 {
        sawGraph = true
        try scanGraph(try model.message(field, "ModelProto.graph"), bytes)
      } else {
        modelFields.append(contentsOf: bytes[field.start..<field.end])
      }
    }
    guard sawGraph else {
      throw CheckpointError(.badFormat, "not an ONNX model: the ModelProto has no graph (field 7)")
    }
  }

  private mutating func scanGraph(_ graph: ProtobufWire, _ bytes: UnsafeRawBufferPointer) throws {
    var graph = graph
    while let field = try graph.nextField() {
      switch field.number {
      case 5:
        let message = try graph.message(field, "GraphProto.initializer")
        do {
          initializers.append(try Self.tensor(message, at: field.start))
        } catch let error as CheckpointError {
          throw error.located(tensor: Self.name(in: message), offset: field.start)
        }
      case 15:
        throw CheckpointError(
          .unsupported, "sparse initializers (GraphProto.sparse_initializer) are not supported",
          offset: field.start)
      default:
        graphFields.append(contentsOf: bytes[field.start..<field.end])
      }
    }
  }

  /// The name of the `TensorProto` in `message`, if it can be found before any damage.
  static func name(in message: ProtobufWire) -> String? {
    var message = message
    var name: String?
    while let field = try? message.nextField() {
      if field.number == 8, let text = try? message.string(of: field, "name") { name = text }
    }
    return name
  }

  /// Scans one `TensorProto`. Later occurrences of a singular field win, as protobuf says.
  static func tensor(_ message: ProtobufWire, at offset: Int) throws -> ONNXInitializer {
    var message = message
    var tensor = ONNXInitializer(offset: offset)
    var raw: Range<Int>?
    var typed: (ONNXTensorType.ValueField, [ProtobufWire.Field])?
    var external: [String: String] = [:]
    var location: UInt64 = 0
    while let field = try message.nextField() {
      switch field.number {
      case 1:
        try appendDims(field, of: message, to: &tensor.dims)
      case 2:
        let code = try message.value(of: field, "data_type")
        guard code <= UInt64(Int32.max) else {
          throw CheckpointError(.corrupt, "data_type \(code) is out of range", offset: field.start)
        }
        tensor.dataType = Int(code)
      case 3:
        throw CheckpointError(.unsupported, "segmented tensors (TensorProto.segment) are not supported")
      case 8:
        tensor.name = try message.string(of: field, "the tensor's name")
      case 9:
        guard field.wireType == .lengthDelimited else {
          throw message.wrongType(field, "raw_data", expected: "length-delimited")
        }
        raw = field.payload
      case 13:
        let (key, value) = try entry(try message.message(field, "external_data"))
        external[key] = value
      case 14:
        location = try message.value(of: field, "data_location")
      default:
        guard let kind = ONNXTensorType.ValueField(rawValue: field.number) else { continue }
        if let (previous, _) = typed, previous != kind {
          throw CheckpointError(
            .corrupt, "values in both \(previous.name) and \(kind.name)", offset: field.start)
        }
        typed = (kind, (typed?.1 ?? []) + [field])
      }
    }
    switch (location, raw, typed) {
    case (0, let raw?, nil): tensor.values = .raw(raw)
    case (0, nil, let (kind, fields)?): tensor.values = .typed(kind, fields)
    case (0, nil, nil): tensor.values = .none
    case (0, _?, let (kind, _)?):
      throw CheckpointError(.corrupt, "values in both raw_data and \(kind.name)", offset: offset)
    case (1, nil, nil): tensor.values = .external(external)
    case (1, _, _):
      throw CheckpointError(
        .corrupt, "data_location is EXTERNAL but the tensor also holds values", offset: offset)
    default:
      throw CheckpointError(.corrupt, "unknown data_location \(location)", offset: offset)
    }
    return tensor
  }

  /// Appends the `dims` in `field` (one varint, or packed varints).
  private static func appendDims(_ field: ProtobufWire.Field, of message: ProtobufWire, to dims: inout [Int])
    throws
  {
    var values: [UInt64] = []
    if field.wireType == .lengthDelimited {
      var packed = ProtobufWire(message.bytes, range: field.payload)
      while !packed.isAtEnd, dims.count + values.count <= maximumDimensions {
        values.append(try packed.varint("dims"))
      }
    } else {
      values.append(try message.value(of: field, "dims"))
    }
    for value in values {
      let dim = Int64(bitPattern: value)
      guard dim >= 0 else {
        throw CheckpointError(.invalidShape, "negative dimension \(dim)", offset: field.start)
      }
      dims.append(Int(dim))
    }
    guard dims.count <= maximumDimensions else {
      throw CheckpointError(
        .invalidShape, "more than \(maximumDimensions) dimensions", offset: field.start)
    }
  }

  /// The key (field 1) and value (field 2) of a `StringStringEntryProto`.
  static func entry(_ message: ProtobufWire) throws -> (String, String) {
    var message = message
    var key = ""
    var value = ""
    while let field = try message.nextField() {
      switch field.number {
      case 1: key = try message.string(of: field, "external_data key")
      case 2: value = try message.string(of: field, "external_data value")
      default: continue
      }
    }
    return (key, value)
  }
}
