import CheckpointCore

/// ONNX's `TensorProto.DataType` codes that ckpt reads and writes, and the typed field that
/// holds each one's values when a tensor does not use `raw_data`.
enum ONNXTensorType {
  /// The typed `TensorProto` fields that can hold values, by field number.
  enum ValueField: Int, CaseIterable {
    case floatData = 4
    case int32Data = 5
    case int64Data = 7
    case doubleData = 10
    case uint64Data = 11

    /// The field's name in onnx.proto.
    var name: String {
      switch self {
      case .floatData: return "float_data"
      case .int32Data: return "int32_data"
      case .int64Data: return "int64_data"
      case .doubleData: return "double_data"
      case .uint64Data: return "uint64_data"
      }
    }

    /// The wire type of one unpacked element.
    var elementWireType: ProtobufWire.WireType {
      switch self {
      case .floatData: return .fixed32
      case .doubleData: return .fixed64
      case .int32Data, .int64Data, .uint64Data: return .varint
      }
    }
  }

  /// DType by ONNX data type code (`FLOAT8E4M3FN` and `FLOAT8E5M2` are ckpt's F8 types).
  static let dtypes: [Int: DType] = [
    1: .f32, 2: .u8, 3: .i8, 4: .u16, 5: .i16, 6: .i32, 7: .i64, 9: .bool, 10: .f16, 11: .f64,
    12: .u32, 13: .u64, 16: .bf16, 17: .f8e4m3, 19: .f8e5m2,
  ]

  /// ONNX's names of the codes, for messages.
  static let names: [Int: String] = [
    0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
    8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
    15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
    20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1", 24: "FLOAT8E8M0",
  ]

  /// The dtype of ONNX data type `code`.
  static func dtype(code: Int) throws -> DType {
    guard let dtype = dtypes[code] else {
      let name = names[code].map { "\($0) (\(code))" } ?? "\(code)"
      throw CheckpointError(.unsupportedDType, "ONNX data type \(name) is not supported")
    }
    return dtype
  }

  /// The ONNX data type code of `dtype`.
  static func code(of dtype: DType) throws -> Int {
    guard let code = dtypes.first(where: { $0.value == dtype })?.key else {
      throw CheckpointError(.unsupportedDType, "ONNX cannot store \(dtype) tensors")
    }
    return code
  }

  /// The typed field ONNX stores `dtype`'s values in (onnx.proto's comments on each field).
  static func valueField(of dtype: DType) -> ValueField {
    switch dtype {
    case .f32: return .floatData
    case .i64: return .int64Data
    case .f64: return .doubleData
    case .u32, .u64: return .uint64Data
    default: return .int32Data
    }
  }
}
