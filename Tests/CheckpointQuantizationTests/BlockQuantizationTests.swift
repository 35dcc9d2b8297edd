import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointQuantization

final class BlockQuantizationTests: XCTestCase {
  /// Q8_0 of the fixture input is byte-identical to gguf-py's `quants.quantize` (zeros, ties,
  /// huge and tiny magnitudes, subnormals, NaN, ±inf, equal ± maxima included).
  func testQ8_0MatchesGGUFPyByteForByte() throws {
    try assertMatches(.q8_0, file: "quant_q8_0.bin", blockBytes: 34)
  }

  /// Q4_0 of the fixture input is byte-identical to gguf-py's `quants.quantize`.
  func testQ4_0MatchesGGUFPyByteForByte() throws {
    try assertMatches(.q4_0, file: "quant_q4_0.bin", blockBytes: 18)
  }

  /// BF16 matches gguf-py's `quants.quantize(x, BF16)` (ggml's rounding, NaN kept quiet).
  func testBF16MatchesGGUFPy() throws {
    try assertMatches(.bf16, file: "quant_bf16.bin", blockBytes: 2)
  }

  /// F16 matches numpy's `astype(float16)` (round to nearest even, overflow to inf, subnormals).
  func testF16MatchesNumpy() throws {
    try assertMatches(.f16, file: "quant_f16.bin", blockBytes: 2)
  }

  /// Dequantized blocks equal gguf-py's `dequantize` formula: Q8_0 `q·d`, Q4_0 `(q−8)·d`.
  func testDequantizeBlocks() throws {
    var block = [UInt8](repeating: 0, count: 34)
    block[0] = 0x00
    block[1] = 0x3C  // d = 1.0
    block[2] = UInt8(bitPattern: -127)
    block[3] = 5
    var out = [Float](repeating: .nan, count: 32)
    block.withUnsafeBytes { raw in
      out.withUnsafeMutableBufferPointer {
        Q8_0Block.dequantize(raw.baseAddress!, blocks: 1, into: $0.baseAddress!)
      }
    }
    XCTAssertEqual(Array(out[0..<3]), [-127, 5, 0])
    var q4 = [UInt8](repeating: 0x88, count: 18)
    q4[0] = 0x00
    q4[1] = 0x40  // d = 2.0
    q4[2] = 0xF0  // q[0] = 0, q[16] = 15
    out = [Float](repeating: .nan, count: 32)
    q4.withUnsafeBytes { raw in
      out.withUnsafeMutableBufferPointer {
        Q4_0Block.dequantize(raw.baseAddress!, blocks: 1, into: $0.baseAddress!)
      }
    }
    XCTAssertEqual(out[0], -16)
    XCTAssertEqual(out[16], 14)
    XCTAssertEqual(out[1], 0)
  }

  /// The error the kernels measure while quantizing equals dequantizing the output and
  /// comparing it with the input afterwards (NaN and ±inf originals skipped).
  func testFusedErrorMatchesSeparatePass() throws {
    let input = try QuantizationFixtures.input()
    for scheme in [QuantizationScheme.q8_0, .q4_0] {
      let output = try TensorQuantizer.quantize(
        try QuantizationFixtures.inputBytes(), dtype: .f32,
        shape: [QuantizationFixtures.rows, QuantizationFixtures.columns], scheme: scheme)
      let restored = try FloatDecoding.decode(output.bytes, dtype: scheme.outputDType)
      var expected = QuantizationLoss()
      expected.add(original: input, restored: restored, count: input.count)
      XCTAssertEqual(output.statistics.count, expected.count, "\(scheme)")
      XCTAssertEqual(output.statistics.maxAbsError, expected.maxAbsError, "\(scheme)")
      // The fixture's fp16-overflowing scales restore ±inf: both passes see an infinite error.
      XCTAssertEqual(output.statistics.maxAbsError, .infinity, "\(scheme)")
      XCTAssertEqual(output.statistics.errorEnergy.isNaN, expected.errorEnergy.isNaN, "\(scheme)")
      if !expected.errorEnergy.isNaN {
        XCTAssertEqual(
          output.statistics.errorEnergy, expected.errorEnergy, accuracy: expected.errorEnergy * 1e-4)
      }
      XCTAssertEqual(
        output.statistics.signalEnergy, expected.signalEnergy, accuracy: expected.signalEnergy * 1e-4)
      // On rows with representable scales the figures are finite and agree.
      let rows = [0, 1, 2, 4, 5, 7, 10, 11, 12]
      let finiteInput = rows.flatMap { input[$0 * 256..<($0 + 1) * 256] }
      let finiteOutput = try TensorQuantizer.quantize(
        finiteInput.withUnsafeBytes { TensorBytes($0) }, dtype: .f32, shape: [rows.count, 256], scheme: scheme
      )
      let finiteRestored = try FloatDecoding.decode(finiteOutput.bytes, dtype: scheme.outputDType)
      var separate = QuantizationLoss()
      separate.add(original: finiteInput, restored: finiteRestored, count: finiteInput.count)
      XCTAssertEqual(finiteOutput.statistics.maxAbsError, separate.maxAbsError, "\(scheme)")
      XCTAssertEqual(finiteOutput.statistics.rmse, separate.rmse, accuracy: separate.rmse * 1e-5, "\(scheme)")
      XCTAssertTrue(finiteOutput.statistics.snrDB.isFinite)
    }
  }

  private func assertMatches(
    _ scheme: QuantizationScheme, file: String, blockBytes: Int, line: UInt = #line
  ) throws {
    let output = try TensorQuantizer.quantize(
      try QuantizationFixtures.inputBytes(), dtype: .f32,
      shape: [QuantizationFixtures.rows, QuantizationFixtures.columns], scheme: scheme)
    let expected = try QuantizationFixtures.expected(file)
    let actual = output.bytes.array
    XCTAssertEqual(actual.count, expected.count, line: line)
    if let first = zip(actual, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
      let block = first / blockBytes
      XCTFail(
        "\(scheme) differs from gguf-py first in block \(block) (row \(block * blockBytes / (expected.count / QuantizationFixtures.rows))): "
          + "ours \(Array(actual[block * blockBytes..<min(actual.count, (block + 1) * blockBytes)])) "
          + "gguf-py \(Array(expected[block * blockBytes..<min(expected.count, (block + 1) * blockBytes)]))",
        line: line)
    }
  }
}
