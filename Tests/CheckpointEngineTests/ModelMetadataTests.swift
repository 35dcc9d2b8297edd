import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// Settings the file records (a Keras `model_config`, an HF `config`) fill what names cannot tell.
final class ModelMetadataTests: XCTestCase {
  func testMetadataSuppliesHeadsActivationNormAndEps() throws {
    let fixture = try EngineFixtures.load("encoder_pre_gelu_pytorch")
    var checkpoint = try FormatRegistry.read(
      path: TestFixtures.path("engine/encoder_pre_gelu_pytorch.safetensors"))
    checkpoint.metadata["config"] =
      #"{"encoder": {"num_heads": 2, "activation": "gelu", "normalize_first": true, "layer_norm_epsilon": 1e-6}}"#
    let model = try Model(checkpoint, architecture: .transformerEncoder)
    XCTAssertEqual(
      model.summary,
      "Transformer encoder (pytorch): 2 layer(s), d_model 8, heads 2, gelu, pre-norm, eps 1e-06, final norm")
    try EngineFixtures.assertMatches(
      try model.run(try FormatRegistry.read(path: fixture.inputs)),
      try FormatRegistry.read(path: fixture.outputs),
      label: "metadata")
    // Flags win over metadata.
    let flagged = try Model(
      checkpoint, architecture: .transformerEncoder, options: ModelSettings(activation: .relu))
    XCTAssertTrue(flagged.summary.contains("heads 2, relu, pre-norm"), flagged.summary)
  }

  func testKerasModelConfigRefusesHardSigmoid() throws {
    var checkpoint = try FormatRegistry.read(path: TestFixtures.path("engine/lstm_keras2.h5"))
    let config = try XCTUnwrap(checkpoint.metadata["model_config"])
    XCTAssertNoThrow(try Model(checkpoint, architecture: .lstm))
    checkpoint.metadata["model_config"] = config.replacingOccurrences(
      of: #""recurrent_activation": "sigmoid""#, with: #""recurrent_activation": "hard_sigmoid""#)
    XCTAssertThrowsError(try Model(checkpoint, architecture: .lstm)) { error in
      XCTAssertEqual((error as? CheckpointError)?.kind, .unsupported)
      XCTAssertTrue(
        "\(error)".contains(
          "Keras layer 'bidirectional' (Bidirectional(LSTM)) uses recurrent_activation 'hard_sigmoid'; "
            + "the engine implements 'sigmoid'"), "\(error)")
    }
  }
}
