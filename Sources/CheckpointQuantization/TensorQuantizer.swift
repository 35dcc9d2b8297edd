import CheckpointCore
import Foundation

/// Quantizes one tensor's values with a scheme, in parallel over rows and blocks, and
/// measures the error of the result against the original.
public enum TensorQuantizer {
  /// The result of quantizing one tensor.
  public struct Output: Sendable {
    /// The quantized bytes (dtype ``QuantizationScheme/outputDType``, same shape).
    public var bytes: TensorBytes
    /// int8 only: one little-endian F32 scale per row (first dimension).
    public var scales: TensorBytes?
    /// The error of the dequantized values against the original.
    public var statistics: QuantizationLoss
  }

  /// Quantizes `bytes` (F32, F16, BF16 or F64 with `shape`) with `scheme`.
  ///
  /// - Throws: `.invalidShape` when the bytes do not match the shape, or when a Q8_0/Q4_0
  ///   tensor's last dimension is not a multiple of 32; `.unsupportedDType` for other dtypes.
  public static func quantize(
    _ bytes: TensorBytes, dtype: DType, shape: [Int], scheme: QuantizationScheme
  ) throws -> Output {
    let count = try Shape.elementCount(shape)
    guard try dtype.byteCount(elements: count) == bytes.count, [.f32, .f16, .bf16, .f64].contains(dtype)
    else {
      throw CheckpointError(
        .unsupportedDType, "cannot quantize \(dtype) data of shape \(Shape.describe(shape))")
    }
    return try withFloats(bytes, dtype: dtype, count: count) { x in
      switch scheme {
      case .q8_0, .q4_0:
        guard let last = shape.last, last % 32 == 0 else {
          throw CheckpointError(.invalidShape, "\(scheme) needs a last dimension that is a multiple of 32")
        }
        return blocks(x, count: count, scheme: scheme)
      case .f16, .bf16:
        return halves(x, count: count, bfloat: scheme == .bf16)
      case .int8:
        let rows = shape.first ?? 1
        return int8(x, rows: rows, columns: rows == 0 ? 0 : count / rows)
      }
    }
  }

  /// Calls `body` with the values as float32, without copying aligned F32 data.
  static func withFloats<R>(
    _ bytes: TensorBytes, dtype: DType, count: Int, _ body: (UnsafePointer<Float>) throws -> R
  ) throws -> R {
    if dtype == .f32 {
      let aligned = bytes.withUnsafeBytes { raw in
        raw.baseAddress.map { Int(bitPattern: $0) % MemoryLayout<Float>.alignment == 0 } ?? false
      }
      if aligned {
        return try bytes.withUnsafeBytes { raw in
          try body(raw.baseAddress!.assumingMemoryBound(to: Float.self))
        }
      }
    }
    let values = try FloatDecoding.decode(bytes, dtype: dtype)
    return try values.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else {
        var one: Float = 0
        return try body(&one)
      }
      return try body(base)
    }
  }

  private static func blocks(_ x: UnsafePointer<Float>, count: Int, scheme: QuantizationScheme) -> Output {
    let blockBytes = scheme == .q8_0 ? Q8_0Block.byteCount : Q4_0Block.byteCount
    let blockCount = count / 32
    let sink = StatisticsSink()
    let bytes = TensorBytes.allocate(count: blockCount * blockBytes) { out in
      guard let base = out.baseAddress else { return }
      ParallelChunks.run(units: blockCount, minimumUnits: 1024) { range in
        // The kernels measure the error as they go: one pass over the data.
        var errors = BlockErrorAccumulator()
        let source = x + range.lowerBound * 32
        let destination = base + range.lowerBound * blockBytes
        if scheme == .q8_0 {
          Q8_0Block.quantize(source, blocks: range.count, into: destination, errors: &errors)
        } else {
          Q4_0Block.quantize(source, blocks: range.count, into: destination, errors: &errors)
        }
        sink.merge(errors.finish())
      }
    }
    return Output(bytes: bytes, scales: nil, statistics: sink.value)
  }

  private static func halves(_ x: UnsafePointer<Float>, count: Int, bfloat: Bool) -> Output {
    let sink = StatisticsSink()
    let bytes = TensorBytes.allocate(count: count * 2) { out in
      guard let base = out.baseAddress?.assumingMemoryBound(to: UInt16.self) else { return }
      ParallelChunks.run(units: count, minimumUnits: 32_768) { range in
        let restored = UnsafeMutablePointer<Float>.allocate(capacity: range.count)
        defer { restored.deallocate() }
        for (k, i) in range.enumerated() {
          if bfloat {
            let h = HalfPrecision.bfloat16Bits(x[i])
            base[i] = h.littleEndian
            restored[k] = HalfPrecision.float(bfloat16Bits: h)
          } else {
            let h = HalfPrecision.halfBits(x[i])
            base[i] = h.littleEndian
            restored[k] = HalfPrecision.float(halfBits: h)
          }
        }
        var statistics = QuantizationLoss()
        statistics.add(original: x + range.lowerBound, restored: restored, count: range.count)
        sink.merge(statistics)
      }
    }
    return Output(bytes: bytes, scales: nil, statistics: sink.value)
  }

  private static func int8(_ x: UnsafePointer<Float>, rows: Int, columns: Int) -> Output {
    let sink = StatisticsSink()
    var scaleValues = [Float](repeating: 0, count: rows)
    let bytes = scaleValues.withUnsafeMutableBufferPointer { scales in
      TensorBytes.allocate(count: rows * columns) { out in
        guard let base = out.baseAddress?.assumingMemoryBound(to: Int8.self),
          let scaleBase = scales.baseAddress
        else { return }
        ParallelChunks.run(units: rows, minimumUnits: max(1, 16_384 / max(1, columns))) { range in
          let restored = UnsafeMutablePointer<Float>.allocate(capacity: max(1, columns))
          defer { restored.deallocate() }
          var statistics = QuantizationLoss()
          for row in range {
            let source = x + row * columns
            let q = base + row * columns
            let scale = Int8Channel.quantize(source, count: columns, into: q)
            scaleBase[row] = scale
            for i in 0..<columns { restored[i] = Int8Channel.dequantize(q[i], scale: scale) }
            statistics.add(original: source, restored: restored, count: columns)
          }
          sink.merge(statistics)
        }
      }
    }
    var scaleBytes: [UInt8] = []
    scaleBytes.reserveCapacity(rows * 4)
    for scale in scaleValues { scaleBytes.appendLittleEndian(scale.bitPattern) }
    return Output(bytes: bytes, scales: TensorBytes(scaleBytes), statistics: sink.value)
  }
}

/// Collects statistics from worker threads.
final class StatisticsSink: @unchecked Sendable {
  private let lock = NSLock()
  private var total = QuantizationLoss()

  func merge(_ part: QuantizationLoss) {
    lock.lock()
    total.merge(part)
    lock.unlock()
  }

  var value: QuantizationLoss {
    lock.lock()
    defer { lock.unlock() }
    return total
  }
}
