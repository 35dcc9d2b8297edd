import CheckpointCore

/// The values of a tensor stored in a typed `TensorProto` field rather than `raw_data`:
/// counted when the file is read (so a count that does not match the dims is an error before any
/// load) and decoded into little-endian tensor bytes when the tensor is loaded.
///
/// `float_data` and `double_data` hold the elements' IEEE bits (fixed32, fixed64);
/// `int32_data` holds int8, int16, int32, uint8, uint16, bool (any nonzero value is true) and the
/// bit patterns of float16, bfloat16 and float8 as varints; `int64_data` and `uint64_data` hold
/// varints. Each value is stored in the element's width (its low bytes), as onnx's
/// `numpy_helper.to_array` does.
enum ONNXTypedValues {
  /// The number of elements in `fields`, each packed or a single unpacked value.
  static func count(
    of kind: ONNXTensorType.ValueField, in fields: [ProtobufWire.Field], bytes: UnsafeRawBufferPointer
  ) throws -> Int {
    var total = 0
    for field in fields {
      let count: Int
      switch (field.wireType, kind.elementWireType) {
      case (.lengthDelimited, .fixed32), (.lengthDelimited, .fixed64):
        let size = kind.elementWireType == .fixed32 ? 4 : 8
        guard field.payload.count % size == 0 else {
          throw CheckpointError(
            .corrupt, "packed \(kind.name) holds \(field.payload.count) bytes, not a multiple of \(size)",
            offset: field.start)
        }
        count = field.payload.count / size
      case (.lengthDelimited, _):
        count = try ProtobufWire.varintCount(bytes, in: field.payload)
      case (let wire, let expected) where wire == expected:
        count = 1
      default:
        throw CheckpointError(
          .corrupt, "\(kind.name) has wire type \(field.wireType.rawValue)", offset: field.start)
      }
      total += count
    }
    return total
  }

  /// Decodes `fields`, whose payload offsets are relative to `bytes`, into `dtype` elements.
  static func decode(
    _ kind: ONNXTensorType.ValueField, _ fields: [ProtobufWire.Field], from bytes: UnsafeRawBufferPointer,
    dtype: DType, into out: UnsafeMutableRawBufferPointer
  ) throws {
    let width = dtype.elementSize ?? 1
    var index = 0
    func store(_ value: UInt64) throws {
      guard index * width + width <= out.count else {
        throw CheckpointError(.corrupt, "more \(kind.name) values than the dims hold")
      }
      let bits = dtype == .bool ? (value == 0 ? 0 : 1) : value
      for byte in 0..<width {
        out[index * width + byte] = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(byte)))
      }
      index += 1
    }
    for field in fields {
      var cursor = ProtobufWire(bytes, range: field.payload)
      switch kind.elementWireType {
      case .fixed32, .fixed64:
        let size = kind.elementWireType == .fixed32 ? 4 : 8
        var position = field.payload.lowerBound
        while position + size <= field.payload.upperBound {
          var value: UInt64 = 0
          for byte in 0..<size { value |= UInt64(bytes[position + byte]) << (8 * UInt64(byte)) }
          try store(value)
          position += size
        }
      default:
        if field.wireType == .lengthDelimited {
          while !cursor.isAtEnd { try store(try cursor.varint(kind.name)) }
        } else {
          try store(try cursor.varint(kind.name))
        }
      }
    }
    guard index * width == out.count else {
      throw CheckpointError(
        .corrupt, "\(kind.name) holds \(index) values, the dims need \(out.count / width)")
    }
  }
}
