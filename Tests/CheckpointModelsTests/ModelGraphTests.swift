import CheckpointCore
import CheckpointKit
import CheckpointModels
import CheckpointTestSupport
import XCTest

/// The canned builders' graphs for framework-made fixtures: nodes, wiring, parameters by role,
/// and each setting's source.
final class ModelGraphTests: XCTestCase {
  private func checkpoint(_ name: String) throws -> Checkpoint {
    try FormatRegistry.read(path: TestFixtures.path("engine/" + name))
  }

  func testSeq2SeqLSTMGraph() throws {
    let graph = try ModelGraph.build(.seq2seqLSTM, from: try checkpoint("seq2seq_lstm_pytorch.safetensors"))
    XCTAssertEqual(graph.naming, .pytorch)
    XCTAssertEqual(graph.inputs.map(\.name), ["src", "tgt"])
    XCTAssertEqual(
      graph.nodes.map(\.name),
      ["encoder.embedding", "encoder.lstm", "decoder.embedding", "decoder.lstm", "projection"])
    XCTAssertEqual(graph.nodes.map(\.operation), [.embedding, .lstm, .embedding, .lstm, .dense])
    let decoder = try XCTUnwrap(graph.node("decoder.lstm"))
    XCTAssertEqual(decoder.inputs, ["decoder.embedding:y", "encoder.lstm:h_n", "encoder.lstm:c_n"])
    XCTAssertEqual(graph.outputs.map(\.name), ["logits"])
    XCTAssertEqual(graph.outputs.map(\.value), ["projection:y"])
    let encoder = try XCTUnwrap(graph.node("encoder.lstm"))
    let roles = Dictionary(uniqueKeysWithValues: encoder.parameters.map { ($0.role, $0.tensor) })
    XCTAssertEqual(roles["l0.weight_ih"], "encoder.lstm.weight_ih_l0")
    XCTAssertEqual(roles["l1.bias_hh"], "encoder.lstm.bias_hh_l1")
    // Every tensor of the file belongs to exactly one node.
    let named = graph.nodes.flatMap { $0.parameters.map(\.tensor) }
    XCTAssertEqual(Set(named).count, named.count)
    XCTAssertEqual(Set(named), Set(try checkpoint("seq2seq_lstm_pytorch.safetensors").tensors.map(\.name)))
  }

  func testBERTEncoderGraphRecordsWhereEachSettingCameFrom() throws {
    let file = try checkpoint("encoder_bert_hf.safetensors")
    let graph = try ModelGraph.build(
      .transformerEncoder, from: file, settings: ModelSettings(heads: 2, activation: .gelu, eps: 1e-12))
    XCTAssertEqual(graph.naming, .hfBert)
    XCTAssertEqual(graph.inputs.map(\.name), ["x", "mask"])
    XCTAssertEqual(graph.inputs.map(\.required), [true, false])
    XCTAssertEqual(graph.nodes.map(\.name), ["encoder.layers.0", "encoder.layers.1"])
    let layer = graph.nodes[0]
    XCTAssertEqual(layer.operation, .transformerEncoderLayer)
    XCTAssertEqual(layer.inputs, ["x", "mask"])
    XCTAssertEqual(layer.setting("heads"), ModelGraph.Setting(name: "heads", value: "2", source: .flag))
    XCTAssertEqual(layer.setting("eps"), ModelGraph.Setting(name: "eps", value: "1e-12", source: .flag))
    XCTAssertEqual(layer.setting("activation")?.value, "gelu")
    // BERT layers are post-norm whatever the config: the naming fixes it.
    XCTAssertEqual(
      layer.setting("norm_first"), ModelGraph.Setting(name: "norm_first", value: "false", source: .naming))
    let roles = Dictionary(uniqueKeysWithValues: layer.parameters.map { ($0.role, $0.tensor) })
    XCTAssertEqual(roles["self.q.weight"], "encoder.layer.0.attention.self.query.weight")
    XCTAssertEqual(roles["norm2.weight"], "encoder.layer.0.output.LayerNorm.weight")
    // A bare BERT file records neither heads, activation nor eps: no default, an error naming the flags.
    XCTAssertThrowsError(
      try ModelGraph.build(.transformerEncoder, from: file, settings: ModelSettings(heads: 2))
    ) {
      let message = ($0 as? CheckpointError)?.message ?? "\($0)"
      XCTAssertTrue(
        message.contains("activation, eps") && message.contains("pass --activation, --eps"), message)
    }
    XCTAssertEqual(
      ModelGraph.unresolvedSettings(.transformerEncoder, from: file), ["heads", "activation", "eps"])
  }

  func testKerasKernelsProveTheHeads() throws {
    let graph = try ModelGraph.build(
      .transformerEncoder, from: try checkpoint("encoder_pre_gelu_keras3.weights.h5"),
      settings: ModelSettings(activation: .gelu, normFirst: true, eps: 1e-6))
    XCTAssertEqual(graph.naming, .keras3)
    let layer = try XCTUnwrap(graph.nodes.first)
    XCTAssertEqual(layer.setting("heads")?.source, .shapes)
    XCTAssertEqual(
      layer.setting("norm_first"), ModelGraph.Setting(name: "norm_first", value: "true", source: .flag))
  }

  func testRecognitionTriesTheLargestModelFirst() throws {
    XCTAssertEqual(
      ModelGraph.recognise(
        try checkpoint("transformer_bart_hf.safetensors"),
        settings: ModelSettings(heads: 2, activation: .gelu, normFirst: false, eps: 1e-5))?.architecture,
      .transformer)
    XCTAssertEqual(ModelGraph.recognise(try checkpoint("gru_keras3.weights.h5"))?.architecture, .gru)
    XCTAssertEqual(
      ModelGraph.recognise(try checkpoint("lstm_pytorch.safetensors"))?.nodes.map(\.name), ["lstm"])
    let plain = try Checkpoint(tensors: [
      Tensor(name: "w", dtype: .f32, shape: [2], bytes: TensorBytes([UInt8](repeating: 0, count: 8)))
    ])
    XCTAssertNil(ModelGraph.recognise(plain))
  }

  /// `ckpt inspect` lists the graph (`--json`: "graph"), and null when there is none.
  func testInspectListsTheGraph() throws {
    let result = try TestFixtures.runCkpt([
      "inspect", TestFixtures.path("engine/seq2seq_lstm_keras2.h5"), "--json",
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    let json = try JSONValue.parse(Array(result.stdout.utf8))
    let graph = try XCTUnwrap(json["graph"])
    XCTAssertEqual(graph["architecture"]?.stringValue, "seq2seq-lstm")
    XCTAssertEqual(graph["naming"]?.stringValue, "keras2")
    XCTAssertEqual(graph["nodes"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.last, "projection")
    let text = try TestFixtures.runCkpt(["inspect", TestFixtures.path("engine/seq2seq_lstm_keras2.h5")])
    XCTAssertTrue(text.stdout.contains("model graph: seq2seq-lstm (keras2 naming)"), text.stdout)
    XCTAssertTrue(text.stdout.contains("  outputs: logits = projection:y"), text.stdout)
    let none = try TestFixtures.runCkpt([
      "inspect", TestFixtures.path("safetensors/dtypes.safetensors"), "--json",
    ])
    XCTAssertEqual(none.status, 0, none.stderr)
    XCTAssertEqual(try JSONValue.parse(Array(none.stdout.utf8))["graph"], .null)
  }
}
