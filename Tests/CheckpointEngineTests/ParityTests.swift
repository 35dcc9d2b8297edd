import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// Every architecture in every layout against the framework's own outputs (max abs error ≤ 1e-5).
///
/// Each fixture is a model saved by PyTorch, tf_keras, Keras 3 (keras_hub) or Hugging Face
/// transformers, with the inputs it was run on and what it returned (Fixtures/gen/engine.py).
/// Every saved file of a model (.safetensors and .pt, .weights.h5, .h5) is run.
final class ParityTests: XCTestCase {
  private func assertParity(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let fixture = try EngineFixtures.load(name)
    let inputs = try FormatRegistry.read(path: fixture.inputs)
    let expected = try FormatRegistry.read(path: fixture.outputs)
    XCTAssertFalse(fixture.models.isEmpty, "no model file for \(name)", file: file, line: line)
    for path in fixture.models {
      let model = try Model(
        try FormatRegistry.read(path: path), architecture: try Architecture(parsing: fixture.arch),
        options: fixture.options)
      XCTAssertEqual(model.layout.rawValue, fixture.layout, path, file: file, line: line)
      let label = (path as NSString).lastPathComponent
      let error = try EngineFixtures.assertMatches(
        try model.run(inputs), expected, label: label, file: file, line: line)
      print("parity \(fixture.arch) \(fixture.layout) \(label): max abs error \(error)")
    }
  }

  func testEveryFixtureHasATest() throws {
    XCTAssertEqual(
      try EngineFixtures.all(),
      [
        "encoder_bert_hf", "encoder_nobias_pytorch", "encoder_post_gelu_tanh_pytorch",
        "encoder_post_relu_keras3",
        "encoder_post_relu_pytorch", "encoder_pre_gelu_keras3", "encoder_pre_gelu_pytorch", "gru_keras2",
        "gru_keras3", "gru_pytorch", "gru_reset_before_keras2", "gru_reset_before_keras3", "lstm_keras2",
        "lstm_keras3", "lstm_proj_pytorch", "lstm_pytorch", "seq2seq_lstm_keras2", "seq2seq_lstm_keras3",
        "seq2seq_lstm_pytorch", "transformer_bart_hf", "transformer_keras3", "transformer_pre_gelu_pytorch",
        "transformer_pytorch",
      ])
  }

  func testEncoderBERTHF() throws {
    try assertParity("encoder_bert_hf")
  }

  func testEncoderNoBiasPyTorch() throws {
    try assertParity("encoder_nobias_pytorch")
  }

  func testEncoderPostGELUTanhPyTorch() throws {
    try assertParity("encoder_post_gelu_tanh_pytorch")
  }

  func testEncoderPostReLUKeras3() throws {
    try assertParity("encoder_post_relu_keras3")
  }

  func testEncoderPostReLUPyTorch() throws {
    try assertParity("encoder_post_relu_pytorch")
  }

  func testEncoderPreGELUKeras3() throws {
    try assertParity("encoder_pre_gelu_keras3")
  }

  func testEncoderPreGELUPyTorch() throws {
    try assertParity("encoder_pre_gelu_pytorch")
  }

  func testGRUKeras2() throws {
    try assertParity("gru_keras2")
  }

  func testGRUKeras3() throws {
    try assertParity("gru_keras3")
  }

  func testGRUPyTorch() throws {
    try assertParity("gru_pytorch")
  }

  func testGRUResetBeforeKeras2() throws {
    try assertParity("gru_reset_before_keras2")
  }

  func testGRUResetBeforeKeras3() throws {
    try assertParity("gru_reset_before_keras3")
  }

  func testLSTMKeras2() throws {
    try assertParity("lstm_keras2")
  }

  func testLSTMKeras3() throws {
    try assertParity("lstm_keras3")
  }

  func testLSTMProjectionPyTorch() throws {
    try assertParity("lstm_proj_pytorch")
  }

  func testLSTMPyTorch() throws {
    try assertParity("lstm_pytorch")
  }

  func testSeq2SeqLSTMKeras2() throws {
    try assertParity("seq2seq_lstm_keras2")
  }

  func testSeq2SeqLSTMKeras3() throws {
    try assertParity("seq2seq_lstm_keras3")
  }

  func testSeq2SeqLSTMPyTorch() throws {
    try assertParity("seq2seq_lstm_pytorch")
  }

  func testTransformerBARTHF() throws {
    try assertParity("transformer_bart_hf")
  }

  func testTransformerKeras3() throws {
    try assertParity("transformer_keras3")
  }

  func testTransformerPreGELUPyTorch() throws {
    try assertParity("transformer_pre_gelu_pytorch")
  }

  func testTransformerPyTorch() throws {
    try assertParity("transformer_pytorch")
  }
}
