import CheckpointCore
import CheckpointTestSupport
import XCTest

/// Systematic damage to `.onnx` files written by torch.onnx.export and the onnx package: every
/// byte at boundary values and every truncation. Crafted cases (varint overflow, lengths, dims,
/// external paths) are in `CheckpointONNXTests/ONNXMalformedTests`.
final class ONNXCorruptionTests: XCTestCase {
  private let fixtures = ["onnx/typed.onnx", "onnx/gru.onnx"]

  func testBytesAtBoundaryValues() throws {
    let outcomes = try CorruptionHarness.sweep(format: "onnx", fileExtension: "onnx") { harness in
      for fixture in fixtures {
        let original = try TestFixtures.bytes(fixture)
        XCTAssertTrue(try harness.check(original, "\(fixture) unchanged"))
        for (label, bytes) in Corruption.boundaryChanges(original, in: 0..<min(original.count, 500)) {
          try harness.check(bytes, "\(fixture) \(label)")
        }
      }
    }
    XCTAssertGreaterThan(outcomes.refused, 2000, "\(outcomes)")
  }

  /// A prefix that ends between two of the model's own fields after the graph is a valid, smaller
  /// model (protobuf has no end marker): typed.onnx has three such ends, before its opset_import and
  /// its two metadata_props. Every other prefix is refused.
  func testTruncations() throws {
    var total = 0
    let outcomes = try CorruptionHarness.sweep(format: "onnx", fileExtension: "onnx") { harness in
      for fixture in fixtures.prefix(1) {
        for (label, bytes) in Corruption.truncations(try TestFixtures.bytes(fixture)) {
          try harness.check(bytes, "\(fixture) \(label)")
          total += 1
        }
      }
    }
    XCTAssertGreaterThanOrEqual(outcomes.refused, total - 3, "\(outcomes)")
  }
}
