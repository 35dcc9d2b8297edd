import CheckpointConversion
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// What has no exact mapping is an error that says why, never an approximation.
final class LayoutRefusalTests: XCTestCase {
  private func assertRefused(
    _ checkpoint: Checkpoint, to layout: CheckpointConversion.Layout,
    options: ConversionOptions = ConversionOptions(),
    mentioning text: String, line: UInt = #line
  ) {
    XCTAssertThrowsError(
      try LayoutConverter.convert(checkpoint, from: nil, to: layout, options: options), line: line
    ) { error in
      XCTAssertTrue("\(error)".contains(text), "\(error)", line: line)
    }
  }

  func testKerasGRUResetBeforeHasNoPyTorchEquivalent() throws {
    assertRefused(
      try ConversionFixtures.model("gru_reset_before_keras2.h5"), to: .pytorch,
      mentioning: "reset_after=False")
    assertRefused(
      try ConversionFixtures.model("gru_reset_before_keras3.weights.h5"), to: .pytorch,
      mentioning: "reset_after=False")
  }

  func testLSTMProjectionHasNoKerasEquivalent() throws {
    let model = try ConversionFixtures.model("lstm_proj_pytorch.safetensors")
    assertRefused(model, to: .keras, mentioning: "proj_size")
    assertRefused(model, to: .keras3, mentioning: "proj_size")
    // PyTorch → HF keeps PyTorch names: the projection is carried.
    XCTAssertNotNil(try LayoutConverter.convert(model, from: nil, to: .hf)["weight_hr_l0"])
  }

  func testTransformerHasNoKeras2Layer() throws {
    assertRefused(
      try ConversionFixtures.model("transformer_pytorch.safetensors"), to: .keras, mentioning: "tf.keras 2")
  }

  func testKerasKernelsNeedTheHeads() throws {
    assertRefused(
      try ConversionFixtures.model("encoder_post_relu_pytorch.safetensors"), to: .keras3,
      mentioning: "--heads")
  }

  func testKeyDimOtherThanEOverHeadsIsRefused() throws {
    // A keras_hub encoder with key_dim 3 (2 heads × 3 ≠ E = 8), built from the real file.
    let keras = try ConversionFixtures.model("encoder_post_relu_keras3.weights.h5")
    let tensors = try keras.tensors.map { tensor -> Tensor in
      let name = tensor.name
      var shape = tensor.shape
      if name.contains("_dense/vars/0"), name.contains("_self_attention_layer/") {
        shape = name.contains("output_dense") ? [2, 3, 8] : [8, 2, 3]
      } else if name.contains("_self_attention_layer/"), !name.contains("output_dense"), shape == [2, 4] {
        shape = [2, 3]
      }
      let count = shape.reduce(1, *) * 4
      return try Tensor(
        name: name, dtype: .f32, shape: shape, bytes: TensorBytes([UInt8](repeating: 0, count: count)))
    }
    assertRefused(try Checkpoint(format: "memory", tensors: tensors), to: .pytorch, mentioning: "key_dim")
  }

  func testUnknownTensorsAskForAMapRule() throws {
    let model = try ConversionFixtures.model("gru_pytorch.safetensors")
    let extra = try Tensor(name: "mystery", dtype: .f32, shape: [1], bytes: TensorBytes([0, 0, 0, 0]))
    let checkpoint = try Checkpoint(format: "memory", tensors: model.tensors + [extra])
    assertRefused(checkpoint, to: .keras, mentioning: "--map")
    // A drop rule handles it.
    let rules = try UserRule.parse(Array(#"{"rules": [{"match": "mystery", "drop": true}]}"#.utf8))
    XCTAssertEqual(
      try LayoutConverter.convert(checkpoint, from: nil, to: .keras, options: ConversionOptions(rules: rules))
        .tensors
        .count, 12)
  }
}
