import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import Foundation
import XCTest

@testable import CheckpointONNX

/// Reading the `.onnx` files that torch.onnx.export and the onnx package wrote
/// (Fixtures/gen/onnx.py): every initializer's bytes equal what onnx's numpy_helper returned.
final class ONNXReaderTests: XCTestCase {
  static let models = ["lstm_bidir", "gru", "external/model", "typed"]

  /// Fixtures/onnx/expected.json.
  static func expected() throws -> JSONValue {
    try JSONValue.parse(try TestFixtures.bytes("onnx/expected.json"))
  }

  func testInitializersEqualNumpyHelperBitForBit() throws {
    let expected = try Self.expected()
    for model in Self.models {
      let checkpoint = try FormatRegistry.read(path: TestFixtures.path("onnx/\(model).onnx"))
      XCTAssertEqual(checkpoint.format, "onnx")
      let reference = try FormatRegistry.read(path: TestFixtures.path("onnx/\(model).expected.npz"))
      XCTAssertEqual(checkpoint.tensors.map(\.name).sorted(), reference.tensors.map(\.name).sorted(), model)
      guard case .object(let initializers)? = expected["\(model).onnx"]?["initializers"] else {
        return XCTFail("no expectations for \(model)")
      }
      for (name, info) in initializers {
        guard let tensor = checkpoint[name], let want = reference[name] else {
          XCTFail("\(model): \(name) missing")
          continue
        }
        guard case .array(let dims)? = info["dims"], case .integer(let code)? = info["data_type"] else {
          return XCTFail("bad expectations")
        }
        XCTAssertEqual(tensor.shape, dims.compactMap { if case .integer(let d) = $0 { Int(d) } else { nil } })
        XCTAssertEqual(try ONNXTensorType.code(of: tensor.dtype), Int(code), "\(model) \(name)")
        XCTAssertEqual(try tensor.load(), try want.load(), "\(model) \(name)")
      }
    }
  }

  func testRawAndTypedFieldsGiveTheSameValues() throws {
    let checkpoint = try FormatRegistry.read(path: TestFixtures.path("onnx/typed.onnx"))
    for key in ["f32", "f16", "f64", "i8", "u8", "i16", "i32", "i64", "u16", "u32", "u64", "bool"] {
      let raw = try XCTUnwrap(checkpoint["raw.\(key)"])
      let typed = try XCTUnwrap(checkpoint["typed.\(key)"])
      XCTAssertEqual(raw.dtype, typed.dtype, key)
      XCTAssertEqual(try raw.load(), try typed.load(), key)
    }
    XCTAssertEqual(checkpoint["scalar"]?.shape, [])
    XCTAssertEqual(try checkpoint["scalar"]?.load().array, Array(Float(2.5).bitPattern.littleEndianBytes))
    XCTAssertEqual(checkpoint["empty"]?.shape, [0, 3])
  }

  func testMetadataHoldsTheModelsFieldsAndGraphSummary() throws {
    let expected = try Self.expected()
    for model in Self.models {
      let checkpoint = try FormatRegistry.read(path: TestFixtures.path("onnx/\(model).onnx"))
      let want = try XCTUnwrap(expected["\(model).onnx"])
      let metadata = checkpoint.metadata
      if case .integer(let version)? = want["ir_version"] {
        XCTAssertEqual(metadata["onnx.ir_version"], String(version), model)
      }
      XCTAssertEqual(metadata["onnx.producer_name"], want["producer_name"]?.stringValue, model)
      XCTAssertEqual(
        try JSONValue.parse(Array(try XCTUnwrap(metadata["onnx.opset_import"]).utf8)), want["opset_import"],
        model)
      let graph = try JSONValue.parse(Array(try XCTUnwrap(metadata["onnx.graph"]).utf8))
      guard case .array(let inputs)? = graph["inputs"], case .array(let outputs)? = graph["outputs"] else {
        return XCTFail("\(model): no inputs/outputs in \(graph)")
      }
      XCTAssertEqual(.array(inputs.compactMap { $0["name"] }), want["inputs"], model)
      XCTAssertEqual(.array(outputs.compactMap { $0["name"] }), want["outputs"], model)
      guard case .object(let ops)? = graph["ops"], case .object(let wantOps)? = want["ops"] else {
        return XCTFail("\(model): no ops")
      }
      XCTAssertEqual(
        Dictionary(uniqueKeysWithValues: ops.map { ($0.0, $0.1) }),
        Dictionary(uniqueKeysWithValues: wantOps.map { ($0.0, $0.1) }), model)
      if case .object(let properties)? = want["metadata_props"] {
        for (key, value) in properties { XCTAssertEqual(metadata[key], value.stringValue, "\(model) \(key)") }
      }
    }
    let lstm = try FormatRegistry.read(path: TestFixtures.path("onnx/lstm_bidir.onnx"))
    let graph = try JSONValue.parse(Array(try XCTUnwrap(lstm.metadata["onnx.graph"]).utf8))
    XCTAssertEqual(
      graph["inputs"],
      .array([
        .object([
          ("name", .string("x")), ("type", .string("FLOAT")),
          ("shape", .array([.integer(3), .integer(2), .integer(5)])),
        ])
      ]))
    XCTAssertEqual(graph["ops"]?["LSTM"], .integer(2))
    // The `onnx.` keys describe the file; only metadata_props belong to the weights.
    let typed = try FormatRegistry.read(path: TestFixtures.path("onnx/typed.onnx"))
    XCTAssertEqual(
      FormatRegistry.userMetadata(of: typed), ["author": "Fixtures/gen/onnx.py", "purpose": "typed fields"])
  }

  func testDetectedByContentAndExtension() throws {
    let bytes = try TestFixtures.bytes("onnx/gru.onnx")
    XCTAssertTrue(ONNXFormat.matches(prefix: Array(bytes.prefix(64))))
    XCTAssertEqual(try FormatRegistry.detect(path: TestFixtures.path("onnx/gru.onnx")).identifier, "onnx")
    for other in ["safetensors/dtypes.safetensors", "gguf/aligned64.gguf", "numpy/arrays.npz"] {
      guard FileManager.default.fileExists(atPath: TestFixtures.path(other)) else { continue }
      XCTAssertFalse(ONNXFormat.matches(prefix: Array(try TestFixtures.bytes(other).prefix(64))), other)
    }
  }

  func testExternalDataIsReadFromBesideTheModel() throws {
    let checkpoint = try FormatRegistry.read(path: TestFixtures.path("onnx/external/model.onnx"))
    XCTAssertEqual(checkpoint.tensors.map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
    // The same model by a path with `.` and `..` components (the folder is what the path names).
    let detour = try FormatRegistry.read(path: TestFixtures.path("onnx/./external/../external/model.onnx"))
    for (a, b) in zip(checkpoint.tensors, detour.tensors) { XCTAssertEqual(try a.load(), try b.load()) }
  }

  func testInspectListsInitializersAndTheGraph() throws {
    let result = try TestFixtures.runCkpt(["inspect", TestFixtures.path("onnx/lstm_bidir.onnx"), "--json"])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.contains("onnx::LSTM_376"), result.stdout)
    XCTAssertTrue(result.stdout.contains("onnx.graph"), result.stdout)
    XCTAssertTrue(result.stdout.contains(#"\"LSTM\":2"#), result.stdout)
  }
}
