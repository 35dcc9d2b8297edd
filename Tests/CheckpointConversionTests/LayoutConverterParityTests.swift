import CheckpointConversion
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointTestSupport
import XCTest

/// Each conversion, written in the target format and read back, run by our engine on the
/// fixture's inputs, reproduces the source framework's outputs (max abs error ≤ 1e-5,
/// `ConversionFixtures.tolerance`).
final class LayoutConverterParityTests: XCTestCase {
  private let twoHeads = ModelSettings(heads: 2)

  // Recurrent models.

  func testKeras2Seq2SeqLSTMToPyTorch() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "seq2seq_lstm_keras2.h5", to: .pytorch, writing: "s2s.safetensors", architecture: .seq2seqLSTM),
      ConversionFixtures.tolerance)
  }

  func testKeras3Seq2SeqLSTMToPyTorch() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "seq2seq_lstm_keras3.weights.h5", to: .pytorch, writing: "s2s.pt", architecture: .seq2seqLSTM),
      ConversionFixtures.tolerance)
  }

  func testKeras2BidirectionalGRUToPyTorch() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "gru_keras2.h5", to: .pytorch, writing: "gru.safetensors", architecture: .gru),
      ConversionFixtures.tolerance)
  }

  func testKeras3BidirectionalGRUToPyTorch() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "gru_keras3.weights.h5", to: .pytorch, writing: "gru.safetensors", architecture: .gru),
      ConversionFixtures.tolerance)
  }

  func testPyTorchBidirectionalLSTMToKeras2() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "lstm_pytorch.pt", to: .keras, writing: "lstm.h5", architecture: .lstm), ConversionFixtures.tolerance)
  }

  func testPyTorchBidirectionalLSTMToKeras3() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "lstm_pytorch.safetensors", to: .keras3, writing: "lstm.weights.h5", architecture: .lstm),
      ConversionFixtures.tolerance)
  }

  func testPyTorchGRUToKeras2AndKeras3() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "gru_pytorch.pt", to: .keras, writing: "gru.h5", architecture: .gru), ConversionFixtures.tolerance)
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "gru_pytorch.pt", to: .keras3, writing: "gru.weights.h5", architecture: .gru),
      ConversionFixtures.tolerance)
  }

  func testKeras3LSTMToKeras2() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "lstm_keras3.weights.h5", to: .keras, writing: "lstm.h5", architecture: .lstm),
      ConversionFixtures.tolerance)
  }

  // Transformers.

  func testPyTorchEncoderToKerasHub() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "encoder_post_relu_pytorch.pt", to: .keras3, writing: "encoder.weights.h5",
        architecture: .transformerEncoder,
        options: ConversionOptions(heads: 2)), ConversionFixtures.tolerance)
  }

  func testKerasHubEncoderToPyTorch() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "encoder_post_relu_keras3.weights.h5", to: .pytorch, writing: "encoder.safetensors",
        architecture: .transformerEncoder), ConversionFixtures.tolerance)
  }

  func testKerasHubPreNormGELUEncoderToPyTorch() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "encoder_pre_gelu_keras3.weights.h5", to: .pytorch, writing: "encoder.safetensors",
        architecture: .transformerEncoder,
        engine: ModelSettings(activation: .gelu, normFirst: true, eps: 1e-6)), ConversionFixtures.tolerance)
  }

  func testKerasHubEncoderDecoderToPyTorchAndHF() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "transformer_keras3.weights.h5", to: .pytorch, writing: "t.safetensors", architecture: .transformer),
      ConversionFixtures.tolerance)
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "transformer_keras3.weights.h5", to: .hf, writing: "t.safetensors", architecture: .transformer),
      ConversionFixtures.tolerance)
  }

  func testPyTorchTransformerToKerasHub() throws {
    // nn.Transformer's final encoder/decoder norms become LayerNormalization layers, encoder first.
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "transformer_pytorch.pt", to: .keras3, writing: "t.weights.h5", architecture: .transformer,
        options: ConversionOptions(heads: 2)), ConversionFixtures.tolerance)
  }

  func testHFBERTEncoderToPyTorch() throws {
    // The converted file records BERT's settings (GELU, eps 1e-12) for the PyTorch layers.
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "encoder_bert_hf.safetensors", to: .pytorch, writing: "bert.safetensors",
        architecture: .transformerEncoder,
        engine: twoHeads), ConversionFixtures.tolerance)
  }

  func testHFBERTEncoderToKerasHub() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "encoder_bert_hf.safetensors", to: .keras3, writing: "bert.weights.h5",
        architecture: .transformerEncoder,
        options: ConversionOptions(heads: 2),
        engine: ModelSettings(activation: .gelu, normFirst: false, eps: 1e-12)),
      ConversionFixtures.tolerance)
  }

  func testPyTorchEncoderToHFBERT() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "encoder_post_relu_pytorch.safetensors", to: .hf, writing: "bert.safetensors",
        architecture: .transformerEncoder, engine: twoHeads), ConversionFixtures.tolerance)
  }

  func testHFBARTToPyTorch() throws {
    XCTAssertLessThanOrEqual(
      try ConversionFixtures.convertedError(
        "transformer_bart_hf.safetensors", to: .pytorch, writing: "bart.safetensors",
        architecture: .transformer,
        engine: twoHeads), ConversionFixtures.tolerance)
  }
}
