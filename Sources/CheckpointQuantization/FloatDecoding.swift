import CheckpointCore

/// Decodes tensor bytes of any float dtype (and ggml blocks) to `Float` values.
public enum FloatDecoding {
  /// Whether ``decode(_:dtype:)`` reads `dtype`.
  public static func canDecode(_ dtype: DType) -> Bool {
    switch dtype {
    case .f32, .f16, .bf16, .f64, .q8_0, .q4_0: return true
    default: return false
    }
  }

  /// The values of `bytes` (little-endian, `dtype`), as float32.
  ///
  /// - Throws: `.unsupportedDType` for dtypes other than F32, F16, BF16, F64, Q8_0, Q4_0;
  ///   `.invalidShape` when the byte count is not a whole number of elements or blocks.
  public static func decode(_ bytes: TensorBytes, dtype: DType) throws -> [Float] {
    guard canDecode(dtype) else {
      throw CheckpointError(.unsupportedDType, "cannot read \(dtype) values as floats")
    }
    guard bytes.count % dtype.blockBytes == 0 else {
      throw CheckpointError(.invalidShape, "\(bytes.count) bytes are not a whole number of \(dtype) blocks")
    }
    let count = bytes.count / dtype.blockBytes * dtype.blockElements
    return bytes.withUnsafeBytes { raw in
      [Float](unsafeUninitializedCapacity: count) { out, initialized in
        guard let base = raw.baseAddress, let dst = out.baseAddress else {
          initialized = 0
          return
        }
        decode(base, dtype: dtype, count: count, into: dst)
        initialized = count
      }
    }
  }

  /// Decodes `count` values of `dtype` at `source` into `destination` (split over threads).
  static func decode(
    _ source: UnsafeRawPointer, dtype: DType, count: Int, into destination: UnsafeMutablePointer<Float>
  ) {
    let unit = dtype.blockElements
    ParallelChunks.run(units: count / unit, minimumUnits: 65_536 / unit) { range in
      let start = range.lowerBound * unit
      let n = range.count * unit
      let out = destination + start
      switch dtype {
      case .f32:
        UnsafeMutableRawPointer(out).copyMemory(from: source + start * 4, byteCount: n * 4)
      case .f16:
        for i in 0..<n {
          out[i] = HalfPrecision.float(
            halfBits: (source + (start + i) * 2).loadUnaligned(as: UInt16.self).littleEndian)
        }
      case .bf16:
        for i in 0..<n {
          out[i] = HalfPrecision.float(
            bfloat16Bits: (source + (start + i) * 2).loadUnaligned(as: UInt16.self).littleEndian)
        }
      case .f64:
        for i in 0..<n {
          out[i] = Float(
            Double(bitPattern: (source + (start + i) * 8).loadUnaligned(as: UInt64.self).littleEndian))
        }
      case .q8_0:
        Q8_0Block.dequantize(source + range.lowerBound * 34, blocks: range.count, into: out)
      case .q4_0:
        Q4_0Block.dequantize(source + range.lowerBound * 18, blocks: range.count, into: out)
      default:
        break
      }
    }
  }
}
