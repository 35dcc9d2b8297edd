import CheckpointCore
import CheckpointEngine
import CheckpointModels
import CheckpointVerification
import XCTest

/// A model rounded to BF16 verifies against its F32 original with the BF16 tolerance, and
/// faults are still caught under it.
final class ReducedPrecisionTests: XCTestCase {
  /// `checkpoint` with every F32 tensor rounded to BF16 (round to nearest, ties to even).
  private func bf16(_ checkpoint: Checkpoint) throws -> Checkpoint {
    let tensors = try checkpoint.tensors.map { tensor -> Tensor in
      let values = try TensorValues.floats(tensor)
      let bytes = TensorBytes.allocate(count: values.count * 2) { buffer in
        for (index, value) in values.enumerated() {
          let bits = value.bitPattern
          let rounded = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
          buffer.storeBytes(of: rounded.littleEndian, toByteOffset: index * 2, as: UInt16.self)
        }
      }
      return try Tensor(name: tensor.name, dtype: .bf16, shape: tensor.shape, bytes: bytes)
    }
    return try Checkpoint(format: "memory", tensors: tensors, metadata: checkpoint.metadata)
  }

  func testBF16RoundingVerifiesWithBF16Tolerance() throws {
    for (file, heads) in [
      ("lstm_pytorch.safetensors", nil), ("gru_pytorch.safetensors", nil),
      ("transformer_pytorch.safetensors", 2),
    ] as [(String, Int?)] {
      let a = try Faults.fixture(file)
      let b = try bf16(a)
      let report = try ParityVerifier.verify(
        a, b, options: ParityOptions(engine: ModelSettings(heads: heads)))
      XCTAssertEqual(report.tolerance.dtype, "BF16")
      XCTAssertTrue(report.passed, "\(file)\n\(report.text)")
      XCTAssertGreaterThan(report.whole.statistics?.maxAbsError ?? 0, 0, file)
      // With float32's tolerance the rounding shows.
      let strict = try ParityVerifier.verify(
        a, b, options: ParityOptions(rtol: 1.3e-6, atol: 1e-5, engine: ModelSettings(heads: heads)))
      XCTAssertFalse(strict.passed, file)
      XCTAssertEqual(strict.tolerance.dtype, "custom")
    }
  }

  func testFaultCaughtUnderBF16Tolerance() throws {
    let a = try Faults.fixture("lstm_pytorch.safetensors")
    let b = try bf16(
      try Faults.editing(a, "weight_ih_l0") { values, shape in
        (Faults.swapBlocks(values, rows: 4, columns: shape[1], 1, 3), shape)
      })
    let report = try ParityVerifier.verify(a, b)
    XCTAssertEqual(report.firstFailure, "lstm.l0", report.text)
  }
}
