import CheckpointCore
import CheckpointEngine
import CheckpointVerification
import XCTest

final class ToleranceTests: XCTestCase {
  func testDefaultsByDType() {
    XCTAssertEqual(Tolerance.default(for: .f32), Tolerance(dtype: "F32", rtol: 1.3e-6, atol: 1e-5))
    XCTAssertEqual(Tolerance.default(for: .f16).rtol, 1e-3)
    XCTAssertEqual(Tolerance.default(for: .bf16).rtol, 1.6e-2)
    XCTAssertEqual(Tolerance.default(for: .q4_0).dtype, "Q4_0")
  }

  func testLoosestDTypeOfBothCheckpoints() throws {
    let f32 = try Checkpoint(tensors: [try TensorValues.tensor("w", Matrix(shape: [2], values: [1, 2]))])
    let f16 = try Checkpoint(tensors: [
      try Tensor(name: "w", dtype: .f16, shape: [2], bytes: TensorBytes.allocate(count: 4) { _ in })
    ])
    XCTAssertEqual(Tolerance.default(for: [f32, f16]).dtype, "F16")
    XCTAssertEqual(Tolerance.default(for: [f32, f32]).dtype, "F32")
  }

  func testStatistics() {
    let tolerance = Tolerance.default(for: .f32)
    let stats = ErrorStatistics([1, 2, 0, -4], [1, 2.5, 0, -4], tolerance: tolerance)
    XCTAssertEqual(stats.maxAbsError, 0.5)
    XCTAssertEqual(stats.maxRelError, 0.25)
    XCTAssertEqual(stats.mismatches, 1)
    XCTAssertEqual(stats.cosine, (1 + 5 + 16) / ((21.0).squareRoot() * (23.25).squareRoot()), accuracy: 1e-12)
    XCTAssertTrue(ErrorStatistics([1e5], [1e5 + 0.1], tolerance: tolerance).passed)  // 1e-5 + 1.3e-6·1e5
    XCTAssertFalse(ErrorStatistics([Float.nan], [1], tolerance: tolerance).passed)
    XCTAssertTrue(ErrorStatistics([Float.nan], [Float.nan], tolerance: tolerance).passed)
  }

  func testSplitMix64ReferenceValues() {
    // The first outputs of SplitMix64 from seed 0 (the reference C implementation's).
    var generator = SplitMix64(seed: 0)
    XCTAssertEqual(generator.next(), 0xE220_A839_7B1D_CDAF)
    XCTAssertEqual(generator.next(), 0x6E78_9E6A_A1B9_65F4)
  }

  func testSeededInputsAreDeterministic() throws {
    let specs = [
      InputSpec(name: "x", isTokens: false, size: 3), InputSpec(name: "t", isTokens: true, size: 10),
    ]
    let first = try SeededInputs.make(for: specs, seed: 42, batch: 2, length: 5)
    let second = try SeededInputs.make(for: specs, seed: 42, batch: 2, length: 5)
    XCTAssertEqual(first["x"]?.shape, [2, 5, 3])
    XCTAssertEqual(first["t"]?.dtype, .i64)
    XCTAssertEqual(try first["x"]?.load(), try second["x"]?.load())
    XCTAssertEqual(try first["t"]?.load(), try second["t"]?.load())
    let other = try SeededInputs.make(for: specs, seed: 43, batch: 2, length: 5)
    XCTAssertNotEqual(try first["x"]?.load(), try other["x"]?.load())
    let values = try TensorValues.floats(try XCTUnwrap(first["x"]))
    XCTAssertLessThan(abs(values.reduce(0, +) / Float(values.count)), 1)
  }
}
