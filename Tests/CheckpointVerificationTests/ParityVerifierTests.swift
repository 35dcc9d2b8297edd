import CheckpointCore
import CheckpointEngine
import CheckpointModels
import CheckpointTestSupport
import CheckpointVerification
import XCTest

/// The same function in two files, formats or layouts verifies; reports carry the contract's fields.
final class ParityVerifierTests: XCTestCase {
  private func assertSame(
    _ fileA: String, _ fileB: String, options: ParityOptions = ParityOptions(), modules: Int? = nil,
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let report = try ParityVerifier.verify(
      try Faults.fixture(fileA), try Faults.fixture(fileB), options: options)
    XCTAssertTrue(report.passed, report.text, file: file, line: line)
    XCTAssertNil(report.firstFailure, file: file, line: line)
    if let modules { XCTAssertEqual(report.modules.count, modules, report.text, file: file, line: line) }
  }

  func testPyTorchSafetensorsAndPickleVerify() throws {
    try assertSame("lstm_pytorch.safetensors", "lstm_pytorch.pt", modules: 2)
    try assertSame("gru_pytorch.safetensors", "gru_pytorch.pt", modules: 2)
    try assertSame(
      "encoder_post_relu_pytorch.safetensors", "encoder_post_relu_pytorch.pt",
      options: ParityOptions(engine: ModelSettings(heads: 2)), modules: 10)
    // embedding, 1 layer, embedding, 1 layer, projection
    try assertSame("seq2seq_lstm_pytorch.safetensors", "seq2seq_lstm_pytorch.pt")
  }

  func testKerasFilesVerify() throws {
    try assertSame("lstm_keras2.h5", "lstm_keras2.h5")
    try assertSame("gru_reset_before_keras3.weights.h5", "gru_reset_before_keras3.weights.h5")
    try assertSame("transformer_keras3.weights.h5", "transformer_keras3.weights.h5")
    try assertSame("seq2seq_lstm_keras3.weights.h5", "seq2seq_lstm_keras3.weights.h5")
  }

  func testEveryFixtureVerifiesAgainstItself() throws {
    let folder = TestFixtures.path("engine")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }
    XCTAssertEqual(names.count, 23)
    for name in names.sorted() {
      let stem = String(name.dropLast(5))
      let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
      let json = try JSONValue.parse(Array(text.utf8))
      let flags = json["flags"]?.arrayValue?.compactMap(\.stringValue) ?? []
      let engine = TestFixtures.modelSettings(flags: flags)
      let model = [".safetensors", ".weights.h5", ".h5"].map { "\(stem)\($0)" }
        .first { FileManager.default.fileExists(atPath: folder + "/" + $0) }
      guard let model else { return XCTFail("no model for \(stem)") }
      let checkpoint = try Faults.fixture(model)
      let report = try ParityVerifier.verify(checkpoint, checkpoint, options: ParityOptions(engine: engine))
      XCTAssertTrue(report.passed, "\(model)\n\(report.text)")
      XCTAssertEqual(report.architecture, json["arch"]?.stringValue, "\(model): architecture recognised")
      // Identical weights give identical numbers.
      XCTAssertEqual(report.whole.statistics?.maxAbsError, 0, model)
    }
  }

  func testPyTorchAndKerasLayoutsPairedByPosition() throws {
    let torch = try Faults.fixture("lstm_pytorch.safetensors")
    let keras = try Faults.kerasLSTM(fromPyTorch: torch, layers: 2)
    let report = try ParityVerifier.verify(torch, keras)
    XCTAssertEqual(report.layoutA, "pytorch")
    XCTAssertEqual(report.layoutB, "keras3")
    XCTAssertTrue(report.passed, report.text)
    XCTAssertEqual(report.modules.map(\.name), ["lstm.l0", "lstm.l1"])
    XCTAssertGreaterThan(report.whole.statistics?.cosine ?? 0, 0.999_999)
  }

  func testGivenInputsAreUsed() throws {
    let a = try Faults.fixture("lstm_pytorch.safetensors")
    let inputs = try Faults.fixture("lstm_pytorch.inputs.npz")
    let report = try ParityVerifier.verify(a, a, options: ParityOptions(inputs: inputs))
    XCTAssertNil(report.seed)
    XCTAssertEqual(report.inputs.first?.shape, [2, 5, 6])
  }

  func testGivenPaddingMaskIsReplayed() throws {
    // The fixture's inputs pad the second sequence; every module sees A's mask.
    let a = try Faults.fixture("encoder_post_relu_pytorch.safetensors")
    let b = try Faults.fixture("encoder_post_relu_pytorch.pt")
    let inputs = try Faults.fixture("encoder_post_relu_pytorch.inputs.npz")
    let options = ParityOptions(inputs: inputs, engine: ModelSettings(heads: 2))
    XCTAssertTrue(try ParityVerifier.verify(a, b, options: options).passed)
    let faulty = try Faults.editing(b, "layers.1.self_attn.out_proj.weight") { values, shape in
      (Faults.transposed(values, shape), shape)
    }
    XCTAssertEqual(
      try ParityVerifier.verify(a, faulty, options: options).firstFailure, "encoder.layers.1.self_attn")
  }

  func testReportJSONFields() throws {
    let a = try Faults.fixture("gru_pytorch.safetensors")
    let json = try ParityVerifier.verify(a, a, options: ParityOptions(seed: 7, batch: 3, length: 4)).json
    XCTAssertEqual(json["passed"], .bool(true))
    XCTAssertEqual(json["first_failure"], .null)
    XCTAssertEqual(json["seed"], .unsignedInteger(7))
    XCTAssertEqual(
      json["inputs"]?.arrayValue?.first?["shape"], .array([.integer(3), .integer(4), .integer(6)]))
    let module = json["modules"]?.arrayValue?.first
    XCTAssertEqual(module?["name"]?.stringValue, "gru.l0")
    for key in ["max_abs_error", "max_rel_error", "cosine", "passed"] { XCTAssertNotNil(module?[key], key) }
    XCTAssertEqual(json["whole"]?["passed"], .bool(true))
    XCTAssertEqual(json["tolerances"]?["rtol"], .double(1.3e-6))
    XCTAssertEqual(json["tolerances"]?["atol"], .double(1e-5))
  }

  func testArchitectureNeedsHeadsForPackedAttention() throws {
    let a = try Faults.fixture("encoder_post_relu_pytorch.safetensors")
    XCTAssertThrowsError(try ParityVerifier.verify(a, a)) { error in
      XCTAssertTrue((error as? CheckpointError)?.message.contains("--heads") ?? false, "\(error)")
    }
  }
}
