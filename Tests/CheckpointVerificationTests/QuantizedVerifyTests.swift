import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// What `ckpt quantize` writes can be verified and diffed: Q8_0/Q4_0 weights are dequantized as
/// `ckpt run` and `ckpt convert` dequantize them, and judged with the stored dtype's tolerance.
final class QuantizedVerifyTests: XCTestCase {
  func testAQuantizedFileVerifiesAndDiffsAgainstItsSource() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var generator = SplitMix64(seed: 3)
      func random(_ shape: [Int]) -> [Float] {
        (0..<shape.reduce(1, *)).map { _ in Float.random(in: -0.2...0.2, using: &generator) }
      }
      let shapes: [(String, [Int])] = [
        ("weight_ih_l0", [256, 64]), ("weight_hh_l0", [256, 64]), ("bias_ih_l0", [256]),
        ("bias_hh_l0", [256]),
      ]
      let checkpoint = try Checkpoint(
        format: "memory",
        tensors: try shapes.map { try TensorValues.tensor($0.0, Matrix(shape: $0.1, values: random($0.1))) })
      let source = folder + "/lstm.safetensors"
      try FormatRegistry.write(checkpoint, to: source)
      for scheme in ["q8_0", "q4_0"] {
        let quantized = folder + "/lstm-\(scheme).gguf"
        let made = try TestFixtures.runCkpt(["quantize", source, quantized, "--scheme", scheme, "-q"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let report = try ParityVerifier.verify(
          try FormatRegistry.read(path: source), try FormatRegistry.read(path: quantized))
        XCTAssertEqual(report.tolerance.dtype, scheme.uppercased())
        XCTAssertTrue(report.passed, report.text)
        XCTAssertGreaterThan(report.whole.statistics?.maxAbsError ?? 0, 0)
        let diff = try TensorDiff.compare(
          try FormatRegistry.read(path: source), try FormatRegistry.read(path: quantized))
        let statuses = Dictionary(uniqueKeysWithValues: diff.tensors.map { ($0.name, $0.status) })
        XCTAssertEqual(statuses["weight_ih_l0"], .close, scheme)
        XCTAssertEqual(statuses["bias_ih_l0"], .identical, scheme)
      }
    }
  }
}
