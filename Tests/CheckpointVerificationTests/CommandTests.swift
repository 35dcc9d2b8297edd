import CheckpointConversion
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointTestSupport
import CheckpointVerification
import XCTest

/// `ckpt verify` and `ckpt diff` through the built CLI.
final class CommandTests: XCTestCase {
  private func engine(_ file: String) -> String { TestFixtures.path("engine/\(file)") }

  func testVerifySameFunctionExitsZero() throws {
    let result = try TestFixtures.runCkpt([
      "verify", engine("encoder_post_relu_pytorch.safetensors"), engine("encoder_post_relu_pytorch.pt"),
      "--heads", "2", "--activation", "relu", "--no-norm-first", "--eps", "1e-5",
    ])
    XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    XCTAssertTrue(result.stdout.contains("encoder.layers.1.self_attn"), result.stdout)
    XCTAssertTrue(result.stdout.contains("PASS"), result.stdout)
  }

  func testVerifyJSON() throws {
    let result = try TestFixtures.runCkpt([
      "verify", engine("lstm_pytorch.safetensors"), engine("lstm_pytorch.pt"), "--arch", "lstm", "--json",
      "--inputs", engine("lstm_pytorch.inputs.npz"),
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    let json = try JSONValue.parse(Array(result.stdout.utf8))
    XCTAssertEqual(json["passed"], .bool(true))
    XCTAssertEqual(
      json["modules"]?.arrayValue?.map { $0["name"]?.stringValue ?? "" }, ["lstm.l0", "lstm.l1"])
    XCTAssertEqual(json["whole"]?["outputs"]?.arrayValue?.count, 3)
  }

  func testVerifyFaultExitsNonZeroNamingModule() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let a = try Faults.fixture("lstm_pytorch.safetensors")
      let b = try Faults.removing(a) { $0 == "bias_hh_l1" }
      let path = folder + "/b.safetensors"
      try FormatRegistry.write(b, to: path)
      let result = try TestFixtures.runCkpt(["verify", engine("lstm_pytorch.safetensors"), path])
      XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
      XCTAssertTrue(result.stdout.contains("first diverging module lstm.l1"), result.stdout)
      let json = try TestFixtures.runCkpt(["verify", engine("lstm_pytorch.safetensors"), path, "--json"])
      XCTAssertEqual(json.status, 1)
      XCTAssertEqual(try JSONValue.parse(Array(json.stdout.utf8))["first_failure"], .string("lstm.l1"))
    }
  }

  func testVerifyWrongHeadsForB() throws {
    let file = engine("encoder_post_relu_pytorch.safetensors")
    let result = try TestFixtures.runCkpt([
      "verify", file, file, "--heads", "2", "--heads-b", "4", "--activation", "relu", "--no-norm-first",
      "--eps", "1e-5",
    ])
    XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
    XCTAssertTrue(result.stdout.contains("first diverging module encoder.layers.0.self_attn"), result.stdout)
  }

  func testDiffIdenticalAcrossFormats() throws {
    let result = try TestFixtures.runCkpt([
      "diff", engine("gru_pytorch.safetensors"), engine("gru_pytorch.pt"), "--json",
    ])
    XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    let json = try JSONValue.parse(Array(result.stdout.utf8))
    XCTAssertEqual(json["summary"]?["identical"], .integer(16))
  }

  func testDiffReportsEveryKindOfDifference() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let a = try Faults.fixture("lstm_pytorch.safetensors")
      var b = try Faults.removing(a) { $0 == "bias_hh_l0" }
      b = try Faults.editing(b, "bias_ih_l0") { values, shape in (values.map { $0 + 0.5 }, shape) }
      b = try Faults.editing(b, "weight_hh_l1") { values, shape in (values, [shape[1], shape[0]]) }
      b = try Faults.editing(b, "bias_ih_l1") { values, shape in (values.map { $0 * (1 + 1e-7) }, shape) }
      b = try Checkpoint(
        format: "memory",
        tensors: b.tensors + [try TensorValues.tensor("extra", Matrix(shape: [1], values: [0]))])
      let path = folder + "/b.safetensors"
      try FormatRegistry.write(b, to: path)
      let result = try TestFixtures.runCkpt(["diff", engine("lstm_pytorch.safetensors"), path, "--json"])
      XCTAssertEqual(result.status, 1, result.stderr)
      let json = try JSONValue.parse(Array(result.stdout.utf8))
      var status: [String: String] = [:]
      for entry in json["tensors"]?.arrayValue ?? [] {
        status[entry["name"]?.stringValue ?? ""] = entry["status"]?.stringValue
      }
      XCTAssertEqual(status["bias_hh_l0"], "only_in_a")
      XCTAssertEqual(status["extra"], "only_in_b")
      XCTAssertEqual(status["bias_ih_l0"], "different")
      XCTAssertEqual(status["weight_hh_l1"], "shape_mismatch")
      XCTAssertEqual(status["bias_ih_l1"], "close")
      XCTAssertEqual(status["weight_ih_l0"], "identical")
      let different = json["tensors"]?.arrayValue?.first { $0["name"]?.stringValue == "bias_ih_l0" }
      guard case .double(let error)? = different?["max_abs_error"] else {
        return XCTFail("no max_abs_error for bias_ih_l0")
      }
      XCTAssertEqual(error, 0.5, accuracy: 1e-6)
      let text = try TestFixtures.runCkpt(["diff", engine("lstm_pytorch.safetensors"), path])
      XCTAssertTrue(text.stdout.contains("only in a: bias_hh_l0"), text.stdout)
    }
  }
}

/// `ckpt diff` across layouts: B is converted into A's layout first.
final class DiffLayoutTests: XCTestCase {
  func testDiffNormalisesKerasToPyTorch() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/gru.weights.h5"
      let source = TestFixtures.path("engine/gru_pytorch.safetensors")
      let convert = try TestFixtures.runCkpt(["convert", source, path, "--layout", "keras3"])
      XCTAssertEqual(convert.status, 0, convert.stderr)
      let result = try TestFixtures.runCkpt(["diff", source, path, "--json"])
      XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
      let json = try JSONValue.parse(Array(result.stdout.utf8))
      XCTAssertEqual(json["summary"]?["identical"], .integer(16), result.stdout)
      XCTAssertTrue(json["note"]?.stringValue?.contains("converted from keras3") ?? false, result.stdout)
      // As stored, nothing pairs by name.
      let raw = try TestFixtures.runCkpt(["diff", source, path, "--same-layout", "--json"])
      XCTAssertEqual(raw.status, 1)
      XCTAssertEqual(try JSONValue.parse(Array(raw.stdout.utf8))["summary"]?["identical"], .integer(0))
    }
  }

  func testDiffNormalisedTransformerFindsSwappedQueryKey() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let source = try Faults.fixture("encoder_post_relu_pytorch.safetensors")
      let keras = try LayoutConverter.convert(
        source, from: nil, to: .keras3, options: ConversionOptions(heads: 2))
      let renamed = try Faults.renaming(keras) { name in
        guard name.contains("transformer_encoder/") else { return name }
        if name.contains("/query_dense/") {
          return name.replacingOccurrences(of: "/query_dense/", with: "/key_dense/")
        }
        if name.contains("/key_dense/") {
          return name.replacingOccurrences(of: "/key_dense/", with: "/query_dense/")
        }
        return name
      }
      let path = folder + "/encoder.weights.h5"
      try FormatRegistry.write(renamed, to: path)
      let report = try TensorDiff.compareNormalizingLayout(
        source, try FormatRegistry.read(path: path), heads: 2)
      XCTAssertFalse(report.passed)
      let differing = report.tensors.filter { !$0.matches }.map(\.name)
      // (PyTorch initialises in_proj_bias to zeros, so swapping its Q and K parts changes nothing.)
      XCTAssertEqual(differing, ["layers.0.self_attn.in_proj_weight"], report.text)
    }
  }
}
