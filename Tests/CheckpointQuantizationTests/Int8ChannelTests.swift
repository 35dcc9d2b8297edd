import CheckpointCore
import XCTest

@testable import CheckpointQuantization

final class Int8ChannelTests: XCTestCase {
  /// Each row gets scale amax/127 and values roundf(x/scale), clamped; NaN → 0, inf → ±127.
  func testPerRowValuesAndScales() throws {
    let values: [Float] = [127, -63.5, 0.5, 1, 0, 0, 0, 0, 2.54, -1.27, .nan, .infinity]
    let bytes = values.withUnsafeBytes { TensorBytes($0) }
    let output = try TensorQuantizer.quantize(bytes, dtype: .f32, shape: [3, 4], scheme: .int8)
    XCTAssertEqual(
      output.bytes.array.map { Int8(bitPattern: $0) }, [127, -64, 1, 1, 0, 0, 0, 0, 127, -64, 0, 127])
    let scales = try XCTUnwrap(output.scales).array
    let floats = stride(from: 0, to: scales.count, by: 4).map { i in
      Float(bitPattern: scales[i..<i + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
    }
    XCTAssertEqual(floats, [1, 0, Float(2.54) / 127])
  }

  /// The report's figures: RMSE, max abs error and SNR of the dequantized values.
  func testErrorStatistics() throws {
    let values: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
    let restored: [Float] = [1, 2, 3, 4, 5, 6, 7, 10]
    var statistics = QuantizationLoss()
    statistics.add(original: values, restored: restored, count: 8)
    XCTAssertEqual(statistics.rmse, (4.0 / 8).squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(statistics.maxAbsError, 2)
    XCTAssertEqual(statistics.snrDB, 10 * log10(204.0 / 4), accuracy: 1e-9)
  }

  /// The 16-lane path gives the element-by-element path's bytes and scale (ties included).
  func testVectorPathMatchesScalarPath() {
    var generator = SystemRandomNumberGenerator()
    for length in [16, 37, 100, 1000] {
      var row = (0..<length).map { _ in Float.random(in: -2...2, using: &generator) }
      row[3] = 2.54  // amax: scale 0.02, so 0.05 × k + 0.01 hit .5 ties
      for k in stride(from: 4, to: length, by: 7) { row[k] = 0.01 + 0.02 * Float(k % 50) - 0.5 }
      var fast = [Int8](repeating: 0, count: length)
      var slow = [Int8](repeating: 0, count: length)
      let a = row.withUnsafeBufferPointer { x in
        fast.withUnsafeMutableBufferPointer {
          Int8Channel.quantize(x.baseAddress!, count: length, into: $0.baseAddress!)
        }
      }
      let b = row.withUnsafeBufferPointer { x in
        slow.withUnsafeMutableBufferPointer {
          Int8Channel.quantizeSlowly(x.baseAddress!, count: length, into: $0.baseAddress!)
        }
      }
      XCTAssertEqual(a, b)
      XCTAssertEqual(fast, slow, "length \(length)")
    }
  }
}
