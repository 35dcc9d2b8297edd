import CheckpointCore
import XCTest

/// Parameters, buffers and training state, from names and dtypes.
final class TensorRoleTests: XCTestCase {
  private func role(_ name: String, _ dtype: DType = .f32) -> TensorRole {
    TensorRole.of(TensorInfo(name: name, dtype: dtype, shape: [2]))
  }

  func testRolesFollowTheFrameworksSpellings() {
    let cases: [(String, DType, TensorRole)] = [
      ("encoder.layer.0.attention.self.query.weight", .f32, .parameter),
      ("lstm/lstm/lstm_cell/kernel:0", .f32, .parameter),
      ("layers/dense/vars/0", .bf16, .parameter),
      ("w.q8", .q8_0, .parameter),
      ("int8.weight", .i8, .parameter),
      ("embeddings.position_ids", .i64, .buffer),
      ("bn.running_mean", .f32, .buffer),
      ("bn.num_batches_tracked", .i64, .buffer),
      ("batch_normalization/batch_normalization/moving_variance:0", .f32, .buffer),
      ("mask", .bool, .buffer),
      ("optimizer.state.0.exp_avg", .f32, .trainingState),
      ("optimizer_weights/Adam/m/dense/bias:0", .f32, .trainingState),
      ("optimizer/vars/0", .i64, .trainingState),
      ("lr_scheduler.last_epoch", .i64, .trainingState),
      ("epoch", .i64, .trainingState),
      ("decoder.step", .f32, .parameter),
    ]
    for (name, dtype, expected) in cases {
      XCTAssertEqual(role(name, dtype), expected, name)
    }
  }

  func testOnlyParametersCountAsParameters() throws {
    let checkpoint = try Checkpoint(
      format: "memory",
      tensors: [
        try Tensor(
          name: "w", dtype: .f32, shape: [2, 3], bytes: TensorBytes([UInt8](repeating: 0, count: 24))),
        try Tensor(
          name: "position_ids", dtype: .i64, shape: [4], bytes: TensorBytes([UInt8](repeating: 0, count: 32))),
        try Tensor(
          name: "optimizer.state.0.exp_avg", dtype: .f32, shape: [2, 3],
          bytes: TensorBytes([UInt8](repeating: 0, count: 24))),
      ])
    XCTAssertEqual(checkpoint.parameterCount, 6)
    XCTAssertEqual(checkpoint.elementCount(.buffer), 4)
    XCTAssertEqual(checkpoint.elementCount(.trainingState), 6)
  }
}
