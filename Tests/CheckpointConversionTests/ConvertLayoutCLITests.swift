import CheckpointConversion
import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// `ckpt convert IN OUT --layout L [--from-layout L] [--map rules.json] [--verify]` and the
/// layout evidence of `ckpt inspect`.
final class ConvertLayoutCLITests: XCTestCase {
  func testConvertPyTorchToKerasWithVerify() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let output = folder + "/lstm.h5"
      let result = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("engine/lstm_pytorch.pt"), output, "--layout", "keras", "--verify",
        "--json",
      ])
      XCTAssertEqual(result.status, 0, result.stderr)
      let json = try JSONValue.parse(Array(result.stdout.utf8))
      XCTAssertEqual(json["layout"]?.stringValue, "keras")
      XCTAssertEqual(json["from_layout"]?.stringValue, "pytorch")
      XCTAssertEqual(json["verify"]?["architecture"]?.stringValue, "lstm")
      let written = try FormatRegistry.read(path: output)
      XCTAssertEqual(written.format, "keras")
      XCTAssertNotNil(written["bidirectional_1/bidirectional_1/backward_lstm/lstm_cell/recurrent_kernel:0"])
    }
  }

  /// An output that --verify fails or cannot check is removed, unless --keep-unverified; flags
  /// that do nothing for the output are warnings.
  func testUnverifiedOutputIsRemovedUnlessKept() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let source = TestFixtures.path("engine/encoder_post_relu_pytorch.safetensors")
      let output = folder + "/encoder.weights.h5"
      // Without --activation, --no-norm-first and --eps the engine cannot check the conversion.
      let removed = try TestFixtures.runCkpt([
        "convert", source, output, "--layout", "keras3", "--heads", "2", "--verify",
      ])
      XCTAssertEqual(removed.status, 1)
      XCTAssertTrue(removed.stderr.contains("removed the unverified output"), removed.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: output))
      let kept = try TestFixtures.runCkpt([
        "convert", source, output, "--layout", "keras3", "--heads", "2", "--verify", "--keep-unverified",
      ])
      XCTAssertEqual(kept.status, 1)
      XCTAssertTrue(kept.stderr.contains("kept the unverified output"), kept.stderr)
      XCTAssertTrue(FileManager.default.fileExists(atPath: output))
      let compress = try TestFixtures.runCkpt([
        "convert", source, folder + "/c.safetensors", "--compress", "zlib",
      ])
      XCTAssertEqual(compress.status, 0, compress.stderr)
      XCTAssertTrue(
        compress.stderr.contains("--compress does nothing for safetensors output"), compress.stderr)
    }
  }

  func testFromLayoutMapAndHeads() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let rules = folder + "/rules.json"
      try TestFixtures.write(
        Array(
          #"{"rules": [{"stage": "target", "match": "layers/transformer_encoder(.*)", "rename": "layers/transformer_encoder$1"}]}"#
            .utf8),
        to: rules)
      let output = folder + "/encoder.weights.h5"
      let result = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("engine/encoder_post_relu_pytorch.safetensors"), output, "--layout",
        "keras3",
        "--from-layout", "pytorch", "--map", rules, "--heads", "2", "--activation", "relu", "--no-norm-first",
        "--eps", "1e-5", "--verify",
      ])
      XCTAssertEqual(result.status, 0, result.stderr)
      XCTAssertTrue(result.stdout.contains("verified: transformer-encoder"), result.stdout)
    }
  }

  func testRefusalIsAnError() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let result = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("engine/gru_reset_before_keras2.h5"), folder + "/gru.safetensors",
        "--layout",
        "pytorch",
      ])
      XCTAssertNotEqual(result.status, 0)
      XCTAssertTrue(result.stderr.contains("reset_after=False"), result.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/gru.safetensors"))
      let unknown = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("engine/gru_pytorch.pt"), folder + "/x.h5", "--layout", "caffe",
      ])
      XCTAssertEqual(unknown.status, 64)
      XCTAssertTrue(
        unknown.stderr.contains("The value 'caffe' is invalid for '--layout <layout>'"), unknown.stderr)
      XCTAssertTrue(unknown.stderr.contains("hf-bart"), unknown.stderr)
    }
  }

  func testInspectShowsModuleEvidence() throws {
    let result = try TestFixtures.runCkpt(["inspect", TestFixtures.path("engine/gru_keras2.h5"), "--json"])
    XCTAssertEqual(result.status, 0, result.stderr)
    let json = try JSONValue.parse(Array(result.stdout.utf8))
    XCTAssertEqual(json["layout"]?.stringValue, "keras")
    let evidence = json["layout_evidence"]?.arrayValue?.compactMap(\.stringValue) ?? []
    XCTAssertTrue(evidence.first?.hasPrefix("GRU 'bidirectional_2'") ?? false, "\(evidence)")
  }

  func testDetectionNamesTheModules() throws {
    let bert = LayoutConverter.detect(try ConversionFixtures.model("encoder_bert_hf.safetensors"))
    XCTAssertEqual(bert.layout, .hf)
    XCTAssertTrue(
      bert.evidence[0].contains("encoder.layer.0.attention.self.query.weight"), "\(bert.evidence)")
    let torch = LayoutConverter.detect(try ConversionFixtures.model("seq2seq_lstm_pytorch.safetensors"))
    XCTAssertEqual(torch.layout, .pytorch)
    XCTAssertEqual(torch.evidence.count, 2)
  }
}
