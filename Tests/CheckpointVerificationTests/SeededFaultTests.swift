import CheckpointConversion
import CheckpointCore
import CheckpointEngine
import CheckpointModels
import CheckpointTestSupport
import CheckpointVerification
import XCTest

/// Each seeded fault fails verification, and the first diverging module is the one at fault.
final class SeededFaultTests: XCTestCase {
  private let heads2 = ParityOptions(engine: ModelSettings(heads: 2))

  @discardableResult
  private func assertCaught(
    _ a: Checkpoint, _ b: Checkpoint, options: ParityOptions = ParityOptions(), module: String,
    file: StaticString = #filePath, line: UInt = #line
  ) throws -> ParityReport {
    let report = try ParityVerifier.verify(a, b, options: options)
    XCTAssertFalse(report.passed, report.text, file: file, line: line)
    XCTAssertEqual(report.firstFailure, module, report.text, file: file, line: line)
    // Everything before the fault still matches.
    for result in report.modules.prefix(while: { $0.name != module }) {
      XCTAssertTrue(result.passed, "\(result.name) should pass\n\(report.text)", file: file, line: line)
    }
    return report
  }

  func testSwappedLSTMGatesLocated() throws {
    let a = try Faults.fixture("lstm_pytorch.safetensors")
    // Gates i and f of layer 1 (forward), blocks of H = 4 rows.
    let b = try Faults.editing(a, "weight_ih_l1") { values, shape in
      (Faults.swapBlocks(values, rows: 4, columns: shape[1], 0, 1), shape)
    }
    try assertCaught(a, b, module: "lstm.l1")
  }

  func testSwappedGRUGatesLocated() throws {
    let a = try Faults.fixture("gru_pytorch.safetensors")
    // r and z of layer 0's recurrent weight.
    let b = try Faults.editing(a, "weight_hh_l0_reverse") { values, shape in
      (Faults.swapBlocks(values, rows: 4, columns: shape[1], 0, 1), shape)
    }
    try assertCaught(a, b, module: "gru.l0")
  }

  func testUntransposedKernelLocated() throws {
    let a = try Faults.fixture("encoder_post_relu_pytorch.safetensors")
    let b = try Faults.editing(a, "layers.1.self_attn.out_proj.weight") { values, shape in
      (Faults.transposed(values, shape), shape)
    }
    let report = try assertCaught(a, b, options: heads2, module: "encoder.layers.1.self_attn")
    // Measured in isolation: the layer's other modules still match.
    for name in ["encoder.layers.1.norm1", "encoder.layers.1.feed_forward", "encoder.layers.1.norm2"] {
      XCTAssertEqual(report.modules.first { $0.name == name }?.passed, true, name)
    }
    XCTAssertEqual(report.modules.first { $0.name == "encoder.layers.1" }?.passed, false)
    XCTAssertFalse(report.whole.passed)
  }

  func testUntransposedKerasKernelLocated() throws {
    let a = try Faults.fixture("lstm_keras3.weights.h5")
    // The recurrent kernel stored as PyTorch would ([4H, H]): B cannot be assembled, and the
    // report names the module the tensor belongs to.
    let tensor = "layers/bidirectional_1/forward_layer/cell/vars/1"
    let b = try Faults.editing(a, tensor) { values, shape in
      (Faults.transposed(values, shape), [shape[1], shape[0]])
    }
    let report = try ParityVerifier.verify(a, b)
    XCTAssertFalse(report.passed)
    XCTAssertEqual(report.firstFailure, "lstm.l1")
    XCTAssertTrue(report.modules[0].reason?.contains(tensor) ?? false, report.text)
    // The reason says "B" once: the library's message, not the prefixed one.
    let reason = report.modules[0].reason ?? ""
    XCTAssertTrue(reason.hasPrefix("B cannot be assembled: ") && !reason.contains(": B: "), reason)
  }

  func testUntransposedFeedForwardKernelLocated() throws {
    let a = try Faults.fixture("transformer_pytorch.safetensors")
    let b = try Faults.editing(a, "decoder.layers.1.linear2.weight") { values, shape in
      (Faults.transposed(values, shape), [shape[1], shape[0]])
    }
    let report = try ParityVerifier.verify(a, b, options: heads2)
    XCTAssertEqual(report.firstFailure, "decoder.layers.1.feed_forward", report.text)
    XCTAssertFalse(report.whole.passed)
  }

  func testUnlocatableAssemblyErrorThrows() throws {
    let a = try Faults.fixture("lstm_pytorch.safetensors")
    let b = try Faults.removing(a) { $0.hasPrefix("weight_ih") }
    XCTAssertThrowsError(try ParityVerifier.verify(a, b)) { error in
      XCTAssertTrue((error as? CheckpointError)?.message.hasPrefix("B: ") ?? false, "\(error)")
    }
  }

  func testDroppedRecurrentBiasLocated() throws {
    let a = try Faults.fixture("lstm_pytorch.pt")
    let b = try Faults.removing(a) { $0 == "bias_hh_l0_reverse" }
    try assertCaught(a, b, module: "lstm.l0")
  }

  func testZeroedGRURecurrentBiasLocated() throws {
    let a = try Faults.fixture("gru_pytorch.safetensors")
    let b = try Faults.editing(a, "bias_hh_l1") { values, shape in
      ([Float](repeating: 0, count: values.count), shape)
    }
    try assertCaught(a, b, module: "gru.l1")
  }

  func testSwappedQueryAndKeyLocated() throws {
    let a = try Faults.fixture("encoder_post_relu_pytorch.safetensors")
    var b = try Faults.editing(a, "layers.0.self_attn.in_proj_weight") { values, shape in
      (Faults.swapBlocks(values, rows: 8, columns: 8, 0, 1), shape)
    }
    b = try Faults.editing(b, "layers.0.self_attn.in_proj_bias") { values, shape in
      (Faults.swapBlocks(values, rows: 8, columns: 1, 0, 1), shape)
    }
    try assertCaught(a, b, options: heads2, module: "encoder.layers.0.self_attn")
  }

  func testSwappedQueryAndKeyInKerasDecoderLocated() throws {
    let a = try Faults.fixture("transformer_keras3.weights.h5")
    let b = try Faults.renaming(a) { name in
      guard name.contains("transformer_decoder/_self_attention_layer/") else { return name }
      if name.contains("/query_dense/") {
        return name.replacingOccurrences(of: "/query_dense/", with: "/key_dense/")
      }
      if name.contains("/key_dense/") {
        return name.replacingOccurrences(of: "/key_dense/", with: "/query_dense/")
      }
      return name
    }
    try assertCaught(a, b, module: "decoder.layers.0.self_attn")
  }

  func testWrongHeadCountGivenForBLocated() throws {
    // A packed PyTorch projection does not record heads: B is run with 4 where A has 2.
    let a = try Faults.fixture("encoder_post_relu_pytorch.safetensors")
    let options = ParityOptions(engine: ModelSettings(heads: 2), engineB: ModelSettings(heads: 4))
    let report = try assertCaught(a, a, options: options, module: "encoder.layers.0.self_attn")
    XCTAssertTrue(report.modules[0].reason?.contains("settings differ: A heads 2, B heads 4") ?? false)
  }

  func testWrongHeadCountInMetadataLocated() throws {
    let a = try Faults.withMetadata(
      try Faults.fixture("encoder_post_relu_pytorch.safetensors"), ["config": #"{"nhead": 2}"#])
    let b = try Faults.withMetadata(a, ["config": #"{"nhead": 4}"#])
    try assertCaught(a, b, module: "encoder.layers.0.self_attn")
  }

  func testRecordedHeadsWinOverTheSharedOption() throws {
    // `--heads 2` for a PyTorch A; B's metadata says 4: B is compared as what it says.
    let a = try Faults.fixture("encoder_post_relu_pytorch.safetensors")
    let b = try Faults.withMetadata(a, ["config": #"{"nhead": 4}"#])
    try assertCaught(a, b, options: heads2, module: "encoder.layers.0.self_attn")
    // A Keras conversion whose kernels say 4 heads, against the PyTorch original run with 2.
    let keras = try LayoutConverter.convert(a, from: nil, to: .keras3, options: ConversionOptions(heads: 4))
    let report = try assertCaught(a, keras, options: heads2, module: "encoder.layers.0.self_attn")
    XCTAssertTrue(report.text.contains("settings differ: A heads 2, B heads 4"), report.text)
    // And with the right count it verifies.
    let right = try LayoutConverter.convert(a, from: nil, to: .keras3, options: ConversionOptions(heads: 2))
    XCTAssertTrue(try ParityVerifier.verify(a, right, options: heads2).passed)
  }

  func testWrongHeadCountInKerasKernelsLocated() throws {
    // Keras kernels record heads in their shape: [E, 2, 4] reshaped to [E, 4, 2] is 4 heads.
    let a = try Faults.fixture("encoder_post_relu_keras3.weights.h5")
    var b = a
    let layer = "layers/transformer_encoder_1/_self_attention_layer/"
    for part in ["query_dense", "key_dense", "value_dense"] {
      b = try Faults.editing(b, layer + part + "/vars/0") { values, _ in (values, [8, 4, 2]) }
      b = try Faults.editing(b, layer + part + "/vars/1") { values, _ in (values, [4, 2]) }
    }
    b = try Faults.editing(b, layer + "output_dense/vars/0") { values, _ in (values, [4, 2, 8]) }
    let report = try assertCaught(a, b, module: "encoder.layers.1.self_attn")
    XCTAssertTrue(report.text.contains("heads 4"), report.text)
  }

  func testChangedLayerNormEpsLocated() throws {
    let a = try Faults.fixture("encoder_post_relu_pytorch.safetensors")
    let b = try Faults.withMetadata(a, ["config": #"{"layer_norm_eps": 0.001}"#])
    let report = try assertCaught(a, b, options: heads2, module: "encoder.layers.0.norm1")
    XCTAssertTrue(report.text.contains("settings differ: A eps 1e-05, B eps 0.001"), report.text)
  }

  func testModuleOnOneSideNamed() throws {
    let a = try Faults.fixture("encoder_post_relu_pytorch.safetensors")
    let b = try Faults.removing(a) { $0.hasPrefix("layers.1.") }
    let report = try ParityVerifier.verify(a, b, options: heads2)
    XCTAssertFalse(report.passed)
    XCTAssertEqual(report.firstFailure, "encoder.layers.1.self_attn")
    let missing = report.modules.filter { $0.reason == "only in A (missing in B)" }.map(\.name)
    XCTAssertEqual(
      missing,
      [
        "encoder.layers.1.self_attn", "encoder.layers.1.norm1", "encoder.layers.1.feed_forward",
        "encoder.layers.1.norm2", "encoder.layers.1",
      ])
    // And the other way round.
    let reverse = try ParityVerifier.verify(b, a, options: heads2)
    XCTAssertEqual(reverse.firstFailure, "encoder.layers.1.self_attn")
    XCTAssertEqual(reverse.modules.last?.reason, "only in B (missing in A)")
  }

  func testShapeMismatchNamed() throws {
    let a = try Faults.fixture("lstm_pytorch.safetensors")
    let b = try Faults.fixture("lstm_proj_pytorch.safetensors")
    let report = try ParityVerifier.verify(a, b)
    XCTAssertEqual(report.firstFailure, "lstm.l0")
    XCTAssertTrue(report.modules[0].reason?.contains("shape mismatch") ?? false, report.text)
    XCTAssertFalse(report.whole.passed)
  }
}
