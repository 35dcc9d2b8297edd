import CheckpointConversion
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// A → B → A is bit-exact (names, dtypes, shapes, bytes) for every exactly convertible pair;
/// the LSTM bias merge is checked in its documented direction.
final class LayoutRoundTripTests: XCTestCase {
  private func roundTrip(
    _ file: String, through layouts: [CheckpointConversion.Layout], back: CheckpointConversion.Layout,
    options: ConversionOptions = ConversionOptions(), namesKept: Bool = true, line: UInt = #line
  ) throws {
    let source = try ConversionFixtures.model(file)
    for layout in layouts {
      let there = try LayoutConverter.convert(source, from: nil, to: layout, options: options)
      let home = try LayoutConverter.convert(there, from: layout, to: back, options: options)
      let label = "\(file) → \(layout) → \(back)"
      if namesKept {
        try ConversionFixtures.assertBitExact(home, source, label, line: line)
      } else {
        try ConversionFixtures.assertSameValues(home, source, label, line: line)
      }
    }
  }

  func testPyTorchGRUThroughKeras() throws {
    try roundTrip("gru_pytorch.safetensors", through: [.keras, .keras3, .hf], back: .pytorch)
  }

  func testPyTorchTransformerThroughKerasHubAndBART() throws {
    try roundTrip(
      "transformer_pytorch.safetensors", through: [.keras3, .hf], back: .pytorch,
      options: ConversionOptions(heads: 2))
  }

  func testPyTorchEncoderThroughKerasHubAndBERT() throws {
    try roundTrip(
      "encoder_post_relu_pytorch.safetensors", through: [.keras3, .hf], back: .pytorch,
      options: ConversionOptions(heads: 2))
    try roundTrip("encoder_nobias_pytorch.safetensors", through: [.hf], back: .pytorch)
  }

  func testHFThroughPyTorchAndKerasHub() throws {
    try roundTrip("encoder_bert_hf.safetensors", through: [.pytorch], back: .hf)
    try roundTrip("transformer_bart_hf.safetensors", through: [.pytorch], back: .hf)
    // Keras 3 names layers by class and order, so the HF module names do not survive it; the values do.
    try roundTrip(
      "encoder_bert_hf.safetensors", through: [.keras3], back: .hf, options: ConversionOptions(heads: 2),
      namesKept: false)
  }

  func testKerasHubThroughPyTorch() throws {
    try roundTrip("transformer_keras3.weights.h5", through: [.pytorch, .hf], back: .keras3)
    try roundTrip("encoder_pre_gelu_keras3.weights.h5", through: [.pytorch], back: .keras3)
  }

  func testKerasRecurrentThroughPyTorch() throws {
    // Keras → PyTorch puts the bias in b_ih and zeros in b_hh; back, b_ih + 0 is b_ih bit for bit.
    for file in ["gru_keras3.weights.h5", "lstm_keras3.weights.h5"] {
      try roundTrip(file, through: [.pytorch, .keras], back: .keras3)
    }
    try roundTrip("seq2seq_lstm_keras2.h5", through: [.pytorch, .hf], back: .keras)
    // Two Keras layers become one 2-layer nn.GRU; back, the layers are numbered afresh.
    try roundTrip("gru_keras2.h5", through: [.pytorch, .keras3], back: .keras, namesKept: false)
  }

  func testStandaloneMultiheadAttentionThroughKeras() throws {
    // nn.MultiheadAttention tensors (from the real nn.Transformer file) as a module named `attn`.
    let torch = try ConversionFixtures.model("transformer_pytorch.safetensors")
    let prefix = "encoder.layers.0.self_attn."
    let attention = try Checkpoint(
      format: "memory",
      tensors: torch.tensors.filter { $0.name.hasPrefix(prefix) }.map {
        $0.renamed("attn." + $0.name.dropFirst(prefix.count))
      })
    XCTAssertEqual(attention.tensors.count, 4)
    let options = ConversionOptions(heads: 2)
    let keras = try LayoutConverter.convert(attention, from: nil, to: .keras, options: options)
    XCTAssertEqual(
      keras.tensors.map(\.name),
      ["query", "query", "key", "key", "value", "value", "attention_output", "attention_output"].enumerated()
        .map {
          "attn/attn/\($0.element)/\($0.offset % 2 == 0 ? "kernel" : "bias"):0"
        })
    XCTAssertEqual(keras["attn/attn/query/kernel:0"]?.shape, [8, 2, 4])
    XCTAssertEqual(keras["attn/attn/attention_output/kernel:0"]?.shape, [2, 4, 8])
    for layout: CheckpointConversion.Layout in [.keras, .keras3] {
      let there = try LayoutConverter.convert(attention, from: nil, to: layout, options: options)
      let back = try LayoutConverter.convert(there, from: layout, to: .pytorch)
      let label = "attention → \(layout) → pytorch"
      if layout == .keras {
        try ConversionFixtures.assertBitExact(back, attention, label)
      } else {
        // Keras 3 names the layer by class: the module comes back as `multi_head_attention`.
        XCTAssertEqual(back.tensors.first?.name.hasPrefix("multi_head_attention."), true)
        try ConversionFixtures.assertSameValues(back, attention, label)
      }
    }
  }

  func testLSTMBiasMergeDirection() throws {
    let torch = try ConversionFixtures.model("lstm_pytorch.safetensors")
    let keras = try LayoutConverter.convert(torch, from: nil, to: .keras)
    let bias = try XCTUnwrap(keras["bidirectional/bidirectional/backward_lstm/lstm_cell/bias:0"])
    let ih = try ConversionFixtures.floats(try XCTUnwrap(torch["bias_ih_l0_reverse"]))
    let hh = try ConversionFixtures.floats(try XCTUnwrap(torch["bias_hh_l0_reverse"]))
    XCTAssertEqual(try ConversionFixtures.floats(bias), zip(ih, hh).map { $0 + $1 })
    let kernel = try ConversionFixtures.floats(
      try XCTUnwrap(keras["bidirectional/bidirectional/forward_lstm/lstm_cell/kernel:0"]))
    let weight = try ConversionFixtures.floats(try XCTUnwrap(torch["weight_ih_l0"]))
    // kernel [I=6, 4H=16] is weight_ih [16, 6] transposed.
    XCTAssertEqual(kernel[1 * 16 + 3], weight[3 * 6 + 1])

    let back = try LayoutConverter.convert(keras, from: .keras, to: .pytorch)
    XCTAssertEqual(
      try ConversionFixtures.floats(try XCTUnwrap(back["bias_ih_l0_reverse"])), zip(ih, hh).map { $0 + $1 })
    XCTAssertEqual(
      try ConversionFixtures.floats(try XCTUnwrap(back["bias_hh_l0_reverse"])),
      [Float](repeating: 0, count: 16))
    for name in ["weight_ih_l0", "weight_hh_l1_reverse"] {
      XCTAssertEqual(try back[name]?.load(), try torch[name]?.load(), name)
    }
  }

  func testGRUGateOrderAndBiasRows() throws {
    let torch = try ConversionFixtures.model("gru_pytorch.safetensors")
    let keras = try LayoutConverter.convert(torch, from: nil, to: .keras3)
    let bias = try ConversionFixtures.floats(
      try XCTUnwrap(keras["layers/bidirectional/forward_layer/cell/vars/2"]))
    let ih = try ConversionFixtures.floats(try XCTUnwrap(torch["bias_ih_l0"]))
    let hh = try ConversionFixtures.floats(try XCTUnwrap(torch["bias_hh_l0"]))
    // Keras z, r, h = PyTorch blocks 1, 0, 2 (H = 4); row 0 input, row 1 recurrent.
    let reorder: ([Float]) -> [Float] = { Array($0[4..<8] + $0[0..<4] + $0[8..<12]) }
    XCTAssertEqual(bias, reorder(ih) + reorder(hh))
  }

  func testConversionIsLazy() throws {
    let torch = try ConversionFixtures.model("transformer_pytorch.safetensors")
    let failing = try Checkpoint(
      format: "memory",
      tensors: torch.tensors.map { tensor in
        Tensor(info: tensor.info, byteCount: tensor.byteCount) {
          throw CheckpointError(.io, "loaded", tensor: tensor.info.name)
        }
      })
    let converted = try LayoutConverter.convert(
      failing, from: nil, to: .keras3, options: ConversionOptions(heads: 2))
    XCTAssertEqual(
      converted["layers/transformer_encoder/_self_attention_layer/query_dense/vars/0"]?.shape, [8, 2, 4])
    XCTAssertThrowsError(try converted.tensors[0].load())
  }
}
