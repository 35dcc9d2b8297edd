import CheckpointConversion
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// Each conversion, written in the target format and read back, run by our engine on the
/// fixture's inputs, reproduces the source framework's outputs (max abs error ≤ 1e-5).
final class LayoutConverterParityTests: XCTestCase {
  private let twoHeads = EngineOptions(heads: 2)

  // Recurrent models.

  func testKeras2Seq2SeqLSTMToPyTorch() throws {
    try ConversionFixtures.assertConverted(
      "seq2seq_lstm_keras2.h5", to: .pytorch, writing: "s2s.safetensors", architecture: .seq2seqLSTM)
  }

  func testKeras3Seq2SeqLSTMToPyTorch() throws {
    try ConversionFixtures.assertConverted(
      "seq2seq_lstm_keras3.weights.h5", to: .pytorch, writing: "s2s.pt", architecture: .seq2seqLSTM)
  }

  func testKeras2BidirectionalGRUToPyTorch() throws {
    try ConversionFixtures.assertConverted(
      "gru_keras2.h5", to: .pytorch, writing: "gru.safetensors", architecture: .gru)
  }

  func testKeras3BidirectionalGRUToPyTorch() throws {
    try ConversionFixtures.assertConverted(
      "gru_keras3.weights.h5", to: .pytorch, writing: "gru.safetensors", architecture: .gru)
  }

  func testPyTorchBidirectionalLSTMToKeras2() throws {
    try ConversionFixtures.assertConverted(
      "lstm_pytorch.pt", to: .keras, writing: "lstm.h5", architecture: .lstm)
  }

  func testPyTorchBidirectionalLSTMToKeras3() throws {
    try ConversionFixtures.assertConverted(
      "lstm_pytorch.safetensors", to: .keras3, writing: "lstm.weights.h5", architecture: .lstm)
  }

  func testPyTorchGRUToKeras2AndKeras3() throws {
    try ConversionFixtures.assertConverted(
      "gru_pytorch.pt", to: .keras, writing: "gru.h5", architecture: .gru)
    try ConversionFixtures.assertConverted(
      "gru_pytorch.pt", to: .keras3, writing: "gru.weights.h5", architecture: .gru)
  }

  func testKeras3LSTMToKeras2() throws {
    try ConversionFixtures.assertConverted(
      "lstm_keras3.weights.h5", to: .keras, writing: "lstm.h5", architecture: .lstm)
  }

  // Transformers.

  func testPyTorchEncoderToKerasHub() throws {
    try ConversionFixtures.assertConverted(
      "encoder_post_relu_pytorch.pt", to: .keras3, writing: "encoder.weights.h5",
      architecture: .transformerEncoder,
      options: ConversionOptions(heads: 2))
  }

  func testKerasHubEncoderToPyTorch() throws {
    try ConversionFixtures.assertConverted(
      "encoder_post_relu_keras3.weights.h5", to: .pytorch, writing: "encoder.safetensors",
      architecture: .transformerEncoder)
  }

  func testKerasHubPreNormGELUEncoderToPyTorch() throws {
    try ConversionFixtures.assertConverted(
      "encoder_pre_gelu_keras3.weights.h5", to: .pytorch, writing: "encoder.safetensors",
      architecture: .transformerEncoder, engine: EngineOptions(activation: .gelu, normFirst: true, eps: 1e-6))
  }

  func testKerasHubEncoderDecoderToPyTorchAndHF() throws {
    try ConversionFixtures.assertConverted(
      "transformer_keras3.weights.h5", to: .pytorch, writing: "t.safetensors", architecture: .transformer)
    try ConversionFixtures.assertConverted(
      "transformer_keras3.weights.h5", to: .hf, writing: "t.safetensors", architecture: .transformer)
  }

  func testPyTorchTransformerToKerasHub() throws {
    // nn.Transformer's final encoder/decoder norms become LayerNormalization layers, encoder first.
    try ConversionFixtures.assertConverted(
      "transformer_pytorch.pt", to: .keras3, writing: "t.weights.h5", architecture: .transformer,
      options: ConversionOptions(heads: 2))
  }

  func testHFBERTEncoderToPyTorch() throws {
    // The converted file records BERT's settings (GELU, eps 1e-12) for the PyTorch layers.
    try ConversionFixtures.assertConverted(
      "encoder_bert_hf.safetensors", to: .pytorch, writing: "bert.safetensors",
      architecture: .transformerEncoder,
      engine: twoHeads)
  }

  func testHFBERTEncoderToKerasHub() throws {
    try ConversionFixtures.assertConverted(
      "encoder_bert_hf.safetensors", to: .keras3, writing: "bert.weights.h5",
      architecture: .transformerEncoder,
      options: ConversionOptions(heads: 2), engine: EngineOptions(activation: .gelu, eps: 1e-12))
  }

  func testPyTorchEncoderToHFBERT() throws {
    try ConversionFixtures.assertConverted(
      "encoder_post_relu_pytorch.safetensors", to: .hf, writing: "bert.safetensors",
      architecture: .transformerEncoder, engine: twoHeads)
  }

  func testHFBARTToPyTorch() throws {
    try ConversionFixtures.assertConverted(
      "transformer_bart_hf.safetensors", to: .pytorch, writing: "bart.safetensors",
      architecture: .transformer,
      engine: twoHeads)
  }
}
