import CheckpointCore
import XCTest

@testable import CheckpointQuantization

/// The quantization kernels' 16-lane vector paths against their scalar paths, each forced
/// (`CKPT_SIMD=off` takes the scalar ones): the same bytes and the same error statistics.
final class ScalarPathTests: XCTestCase {
  /// Blocks of random values, with ±amax ties, exact halves, zeros, tiny and huge values, and
  /// non-finite values (which take the scalar path either way).
  private func blocks() -> [Float] {
    var generator = SystemRandomNumberGenerator()
    var values: [Float] = []
    for block in 0..<400 {
      var x = (0..<32).map { _ in Float.random(in: -3...3, using: &generator) }
      switch block % 10 {
      case 0:
        x[5] = 2.54
        x[9] = -2.54  // ±amax tie (Q4_0 takes the first)
      case 1: for k in 0..<32 { x[k] = 0.02 * Float(k) - 0.31 }  // halves after scaling
      case 2: x = [Float](repeating: 0, count: 32)
      case 3: x = x.map { $0 * 1e-30 }
      case 4: x = x.map { $0 * 1e30 }
      case 5: x[7] = -0.0
      case 6: x[3] = .nan
      case 7: x[11] = .infinity
      case 8:
        x = [Float](repeating: 0, count: 32)
        x[0] = -0.0  // the scale's sign comes from x[0]
      default: break
      }
      values += x
    }
    return values
  }

  /// A block kernel (`bytes` per block) run both ways: the same bytes and the same statistics.
  private func assertPathsAgree(
    bytes: Int,
    _ quantize: (UnsafePointer<Float>, Int, UnsafeMutableRawPointer, inout BlockErrorAccumulator, Bool) ->
      Void,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    let x = blocks()
    let count = x.count / 32
    var results: [([UInt8], QuantizationLoss)] = []
    for vector in [true, false] {
      var out = [UInt8](repeating: 0, count: count * bytes)
      var errors = BlockErrorAccumulator()
      x.withUnsafeBufferPointer { source in
        out.withUnsafeMutableBytes { quantize(source.baseAddress!, count, $0.baseAddress!, &errors, vector) }
      }
      results.append((out, errors.finish()))
    }
    XCTAssertEqual(results[0].0, results[1].0, file: file, line: line)
    assertSameStatistics(results[0].1, results[1].1, file: file, line: line)
  }

  func testQ8_0VectorAndScalarPathsAgree() {
    assertPathsAgree(bytes: Q8_0Block.byteCount) {
      Q8_0Block.quantize($0, blocks: $1, into: $2, errors: &$3, vector: $4)
    }
  }

  func testQ4_0VectorAndScalarPathsAgree() {
    assertPathsAgree(bytes: Q4_0Block.byteCount) {
      Q4_0Block.quantize($0, blocks: $1, into: $2, errors: &$3, vector: $4)
    }
  }

  func testInt8VectorAndScalarPathsAgree() {
    let x = blocks()
    for (start, length) in [(0, 32), (32, 77), (320, 1000), (0, x.count)] {
      var outputs: [[Int8]] = []
      var scales: [Float] = []
      for vector in [true, false] {
        var out = [Int8](repeating: 0, count: length)
        let scale = x.withUnsafeBufferPointer { source in
          out.withUnsafeMutableBufferPointer {
            Int8Channel.quantize(
              source.baseAddress! + start, count: length, into: $0.baseAddress!, vector: vector)
          }
        }
        outputs.append(out)
        scales.append(scale)
      }
      XCTAssertEqual(outputs[0], outputs[1], "row at \(start), \(length) values")
      XCTAssertEqual(scales[0].bitPattern, scales[1].bitPattern, "row at \(start), \(length) values")
    }
  }

  private func assertSameStatistics(
    _ a: QuantizationLoss, _ b: QuantizationLoss, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    XCTAssertEqual(a.signalEnergy.bitPattern, b.signalEnergy.bitPattern, file: file, line: line)
    XCTAssertEqual(a.errorEnergy.bitPattern, b.errorEnergy.bitPattern, file: file, line: line)
    XCTAssertEqual(a.maxAbsError.bitPattern, b.maxAbsError.bitPattern, file: file, line: line)
  }
}
