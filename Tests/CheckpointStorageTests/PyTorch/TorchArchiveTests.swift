import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

/// Reads the fixtures torch 2.13 wrote (Fixtures/gen/pytorch.py) and compares
/// every tensor with expected.json: names in order, dtype, shape and the SHA-256
/// of the C-contiguous little-endian bytes torch computed.
final class TorchArchiveTests: XCTestCase {
  private func expected() throws -> JSONValue {
    try JSONValue.parse(TestFixtures.bytes("pytorch/expected.json"))
  }

  private func assertMatches(
    _ checkpoint: Checkpoint, _ expected: JSONValue?, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let expected = try XCTUnwrap(expected, file: file, line: line)
    let order = try XCTUnwrap(expected["order"]?.arrayValue, file: file, line: line).compactMap(\.stringValue)
    XCTAssertEqual(checkpoint.tensors.map(\.name), order, file: file, line: line)
    for tensor in checkpoint.tensors {
      let want = try XCTUnwrap(expected["tensors"]?[tensor.name], tensor.name, file: file, line: line)
      XCTAssertEqual(tensor.dtype.name, want["dtype"]?.stringValue, tensor.name, file: file, line: line)
      XCTAssertEqual(
        tensor.shape, want["shape"]?.arrayValue?.compactMap(\.intValue), tensor.name, file: file, line: line)
      let bytes = try tensor.load()
      XCTAssertEqual(
        SHA256Digest.hex(bytes.array), want["sha256"]?.stringValue, tensor.name, file: file, line: line)
    }
  }

  func testModuleStateDictsReadExactly() throws {
    let expected = try expected()
    for name in ["lstm", "gru", "transformer", "seq2seq"] {
      let checkpoint = try TorchFormat.read(path: TestFixtures.path("pytorch/\(name).pt"))
      XCTAssertEqual(checkpoint.format, "pytorch")
      XCTAssertFalse(checkpoint.tensors.isEmpty, name)
      try assertMatches(checkpoint, expected["\(name).pt"])
    }
  }

  func testEveryDTypeReadsExactly() throws {
    let checkpoint = try TorchFormat.read(path: TestFixtures.path("pytorch/dtypes.pt"))
    XCTAssertEqual(
      checkpoint.tensors.map(\.dtype), [.f32, .f16, .bf16, .f64, .i64, .i32, .i16, .i8, .u8, .bool])
    try assertMatches(checkpoint, try expected()["dtypes.pt"])
  }

  func testViewsAndSharedStorageMaterialiseExactly() throws {
    let checkpoint = try TorchFormat.read(path: TestFixtures.path("pytorch/views.pt"))
    try assertMatches(checkpoint, try expected()["views.pt"])
    // Check the views against the base in Swift too: transpose, slice, steps, row, alias.
    func floats(_ name: String) throws -> [Float] {
      try XCTUnwrap(checkpoint[name]).load().withUnsafeBytes { raw in
        stride(from: 0, to: raw.count, by: 4).map {
          Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0, as: UInt32.self)))
        }
      }
    }
    let base = try floats("base")  // [4, 6]
    XCTAssertEqual(try floats("transposed"), (0..<24).map { base[($0 % 4) * 6 + $0 / 4] })
    XCTAssertEqual(try floats("slice"), [1, 2].flatMap { r in (2..<5).map { base[r * 6 + $0] } })
    XCTAssertEqual(try floats("strided"), [0, 2].flatMap { r in [0, 3].map { base[r * 6 + $0] } })
    XCTAssertEqual(try floats("row"), Array(base[12..<18]))
    XCTAssertEqual(try floats("alias"), base)
    XCTAssertEqual(try floats("column"), [0, 1, 2, 3].map { base[$0 * 6 + 4] })
    let expanded = try XCTUnwrap(checkpoint["expanded"]).load().array  // I16 [4, 3] with stride (0, 1)
    XCTAssertEqual(expanded, Array(repeating: [0, 0, 1, 0, 2, 0], count: 4).flatMap { $0 })
    XCTAssertEqual(try floats("scalar"), [3.5])
    XCTAssertEqual(checkpoint["scalar"]?.shape, [])
    XCTAssertEqual(checkpoint["empty"]?.shape, [0, 3])
    XCTAssertEqual(try checkpoint["empty"]?.load().count, 0)
  }

  func testNestedCheckpointNamesTensorsByPathAndKeepsScalars() throws {
    let expected = try expected()["nested.pt"]
    let checkpoint = try TorchFormat.read(path: TestFixtures.path("pytorch/nested.pt"))
    try assertMatches(checkpoint, expected)
    XCTAssertEqual(checkpoint.metadata["epoch"], "3")
    XCTAssertEqual(checkpoint.metadata["best_loss"], "0.25")
    XCTAssertEqual(checkpoint.metadata["name"], "run-1")
    XCTAssertEqual(checkpoint.metadata["finished"], "false")
    XCTAssertEqual(checkpoint.metadata["optimizer.param_groups.0.lr"], "0.001")
    XCTAssertEqual(checkpoint.metadata["optimizer.param_groups.0.eps"], "1e-08")
    XCTAssertEqual(checkpoint.metadata["optimizer.param_groups.0.betas"], "[0.9,0.999]")
    XCTAssertEqual(checkpoint.metadata["optimizer.param_groups.0.params"], "[0,1,2,3]")
    for (key, value) in try XCTUnwrap(expected?["metadata"]?.objectValue) {
      XCTAssertNotNil(checkpoint.metadata[key], key)
      if case .string(let s) = value { XCTAssertEqual(checkpoint.metadata[key], s) }
    }
    // `--key model` selects the model's state dict.
    let model = try TorchFormat.read(path: TestFixtures.path("pytorch/nested.pt"), key: "model")
    try assertMatches(model, expected?["model"])
    XCTAssertEqual(model.metadata, [:])
    let viaRegistry = try FormatRegistry.read(path: TestFixtures.path("pytorch/nested.pt"), key: "model")
    XCTAssertEqual(viaRegistry.tensors.map(\.name), model.tensors.map(\.name))
    XCTAssertThrowsError(try TorchFormat.read(path: TestFixtures.path("pytorch/nested.pt"), key: "nope")) {
      let error = $0 as? CheckpointError
      XCTAssertEqual(error?.kind, .notFound)
      XCTAssertTrue(error?.message.contains("model, optimizer, epoch") ?? false, "\($0)")
    }
    XCTAssertThrowsError(try TorchFormat.read(path: TestFixtures.path("pytorch/nested.pt"), key: "epoch")) {
      XCTAssertEqual(($0 as? CheckpointError)?.kind, .invalidArgument)
    }
  }

  func testLegacyAndTorchScriptFilesAreUnsupported() throws {
    for (name, phrase) in [("legacy", "legacy (pre-1.6"), ("scripted", "TorchScript")] {
      let path = TestFixtures.path("pytorch/\(name).pt")
      XCTAssertTrue(try FormatRegistry.detect(path: path) == TorchFormat.self, name)
      XCTAssertThrowsError(try FormatRegistry.read(path: path)) {
        let error = $0 as? CheckpointError
        XCTAssertEqual(error?.kind, .unsupported, "\($0)")
        XCTAssertTrue(error?.message.contains(phrase) ?? false, "\($0)")
        XCTAssertEqual(error?.file, path)
      }
    }
  }

  func testDetectionClaimsTorchZipsOnly() throws {
    for name in ["lstm", "views", "nested"] {
      XCTAssertTrue(
        try FormatRegistry.detect(path: TestFixtures.path("pytorch/\(name).pt")) == TorchFormat.self)
    }
    XCTAssertEqual(FormatRegistry.format(forExtensionOf: "x/model.pth")?.identifier, "pytorch")
    XCTAssertEqual(FormatRegistry.format(forExtensionOf: "pytorch_model.bin")?.identifier, "pytorch")
    // An npz-like zip (first entry `a.npy`) is not claimed.
    var npz: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 22) + [5, 0, 0, 0]
    npz += Array("a.npy".utf8)
    XCTAssertFalse(TorchFormat.matches(prefix: npz))
    var torch: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 22) + [13, 0, 0, 0]
    torch += Array("some/data.pkl".utf8)
    XCTAssertTrue(TorchFormat.matches(prefix: torch))
  }
}
