import CheckpointCore

/// Decoding tensor bytes into the engine's numbers (little-endian, row-major).
public enum TensorValues {
  /// The tensor's values as `Float` (F32, F16, BF16, F64 and integer types).
  ///
  /// - Throws: `CheckpointError` when the bytes cannot be read or the dtype is not a plain number.
  public static func floats(_ tensor: Tensor) throws -> [Float] {
    let bytes = try tensor.load()
    let count = try Shape.elementCount(tensor.shape)
    return try CheckpointError.locating(tensor: tensor.name) {
      try bytes.withUnsafeBytes { raw -> [Float] in
        switch tensor.dtype {
        case .f32 where UInt32(littleEndian: 1) == 1:
          // Little-endian host: the bytes are the values.
          return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0, let source = raw.baseAddress, let target = buffer.baseAddress {
              UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: count * 4)
            }
            initialized = count
          }
        case .f32:
          return (0..<count).map {
            Float(
              bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
          }
        case .f64:
          return (0..<count).map {
            Float(
              Double(
                bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))))
          }
        case .f16:
          return (0..<count).map {
            halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))
          }
        case .bf16:
          return (0..<count).map {
            Float(
              bitPattern: UInt32(
                UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) << 16)
          }
        default:
          return try integers(raw, dtype: tensor.dtype, count: count).map { Float($0) }
        }
      }
    }
  }

  /// The tensor's values as `Int` (integer and boolean types).
  static func ints(_ tensor: Tensor) throws -> [Int] {
    let bytes = try tensor.load()
    let count = try Shape.elementCount(tensor.shape)
    return try CheckpointError.locating(tensor: tensor.name) {
      try bytes.withUnsafeBytes { raw in try integers(raw, dtype: tensor.dtype, count: count) }
    }
  }

  private static func integers(_ raw: UnsafeRawBufferPointer, dtype: DType, count: Int) throws -> [Int] {
    func read<T: FixedWidthInteger>(_: T.Type) -> [Int] {
      (0..<count).map {
        Int(
          truncatingIfNeeded: T(
            littleEndian: raw.loadUnaligned(fromByteOffset: $0 * T.bitWidth / 8, as: T.self)))
      }
    }
    switch dtype {
    case .i64: return read(Int64.self)
    case .i32: return read(Int32.self)
    case .i16: return read(Int16.self)
    case .i8: return read(Int8.self)
    case .u64: return read(UInt64.self)
    case .u32: return read(UInt32.self)
    case .u16: return read(UInt16.self)
    case .u8, .bool: return read(UInt8.self)
    default:
      throw CheckpointError(.unsupportedDType, "expected an integer or boolean array, found \(dtype)")
    }
  }

  /// IEEE binary16 to binary32.
  static func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
      // Zero or subnormal: mantissa · 2^-24.
      let value = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
      return sign == 0 ? value : -value
    }
    if exponent == 31 {
      return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
  }

  /// A float32 tensor holding `matrix`.
  public static func tensor(_ name: String, _ matrix: Matrix) throws -> Tensor {
    let bytes = TensorBytes.allocate(count: matrix.count * 4) { buffer in
      for (index, value) in matrix.values.enumerated() {
        buffer.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
      }
    }
    return try Tensor(name: name, dtype: .f32, shape: matrix.shape, bytes: bytes)
  }
}
