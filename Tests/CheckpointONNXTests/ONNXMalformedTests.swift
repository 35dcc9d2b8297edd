import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import Foundation
import XCTest

@testable import CheckpointONNX

/// Protobuf bytes built field by field, valid or not, for rejection tests.
enum Proto {
  static func varint(_ value: UInt64) -> [UInt8] {
    var bytes: [UInt8] = []
    ProtobufWire.appendVarint(value, to: &bytes)
    return bytes
  }

  static func field(_ number: Int, _ value: UInt64) -> [UInt8] { varint(UInt64(number) << 3) + varint(value) }

  static func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
    varint(UInt64(number) << 3 | 2) + varint(UInt64(payload.count)) + payload
  }

  static func field(_ number: Int, _ text: String) -> [UInt8] { field(number, Array(text.utf8)) }

  /// A `TensorProto`: name, dims, data type and raw_data (or `extra` fields instead).
  static func tensor(
    _ name: String, dims: [UInt64], type: UInt64 = 1, raw: [UInt8]? = nil, extra: [UInt8] = []
  ) -> [UInt8] {
    var bytes = dims.flatMap { field(1, $0) } + field(2, type) + field(8, name)
    if let raw { bytes += field(9, raw) }
    return bytes + extra
  }

  /// External data entries.
  static func external(_ entries: [(String, String)]) -> [UInt8] {
    entries.flatMap { field(13, field(1, $0.0) + field(2, $0.1)) } + field(14, 1)
  }

  /// A `ModelProto` (IR 8) whose graph holds `initializers` and `graphExtra` fields.
  static func model(_ initializers: [[UInt8]], graphExtra: [UInt8] = []) -> [UInt8] {
    field(1, 8) + field(7, field(2, "g") + initializers.flatMap { field(5, $0) } + graphExtra)
  }
}

/// Hostile and broken protobuf: each is a clear `CheckpointError` naming the file, the tensor
/// where there is one, and the offset; never a crash.
final class ONNXMalformedTests: XCTestCase {
  let floats: [UInt8] = [0, 0, 128, 63, 0, 0, 0, 64]  // 1.0, 2.0

  func refusal(
    _ bytes: [UInt8], name: String = "m.onnx", in folder: String, file: StaticString = #filePath,
    line: UInt = #line
  ) throws -> CheckpointError? {
    let path = folder + "/" + name
    try TestFixtures.write(bytes, to: path)
    do {
      let checkpoint = try FormatRegistry.read(path: path)
      for tensor in checkpoint.tensors { _ = try tensor.load() }
      XCTFail("read without error", file: file, line: line)
      return nil
    } catch let error as CheckpointError {
      XCTAssertEqual(error.file, path, "\(error)", file: file, line: line)
      return error
    }
  }

  func testValidBuilderModelReads() throws {
    try TestFixtures.withTemporaryFolder { folder in
      try TestFixtures.write(Proto.model([Proto.tensor("w", dims: [2], raw: floats)]), to: folder + "/m.onnx")
      let checkpoint = try FormatRegistry.read(path: folder + "/m.onnx")
      XCTAssertEqual(checkpoint.tensors.map(\.name), ["w"])
      XCTAssertEqual(try checkpoint.tensors[0].load().array, floats)
    }
  }

  func testStructuralDamageIsRefusedWithItsOffset() throws {
    try TestFixtures.withTemporaryFolder { folder in
      // An eleven-byte varint.
      var error = try refusal(
        Proto.field(1, 8) + [0x3A] + [UInt8](repeating: 0xFF, count: 11), in: folder)
      XCTAssertEqual(error?.kind, .corrupt)
      XCTAssertTrue(error?.message.contains("overflows 64 bits") ?? false, "\(String(describing: error))")
      XCTAssertEqual(error?.offset, 3)
      // A graph longer than the file.
      error = try refusal(Proto.field(1, 8) + [0x3A, 0x80, 0x01, 0x12], in: folder)
      XCTAssertEqual(error?.kind, .truncated)
      XCTAssertEqual(error?.offset, 2)
      // A varint cut off by the end of the file.
      error = try refusal(Proto.field(1, 8) + [0x08, 0x80], in: folder)
      XCTAssertEqual(error?.kind, .truncated)
      // A group (wire type 3).
      error = try refusal(Proto.field(1, 8) + [0x3B], in: folder)
      XCTAssertEqual(error?.kind, .corrupt)
      XCTAssertTrue(error?.message.contains("groups") ?? false)
      // Field number 0.
      error = try refusal([0x00, 0x01], in: folder)
      XCTAssertEqual(error?.kind, .corrupt)
      // No graph at all (and an empty file).
      XCTAssertEqual(try refusal(Proto.field(1, 8), in: folder)?.kind, .badFormat)
      XCTAssertEqual(try refusal([], in: folder)?.kind, .badFormat)
      // An initializer's length past the end of its graph.
      let graph = Proto.field(2, "g") + [0x2A, 0x40] + Proto.tensor("w", dims: [2], raw: floats)
      error = try refusal(Proto.field(1, 8) + Proto.field(7, graph), in: folder)
      XCTAssertEqual(error?.kind, .truncated)
      XCTAssertEqual(error?.offset, 2 + 2 + 3)
    }
  }

  func testTensorsThatDisagreeWithTheirDimsAreRefusedByName() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let cases: [([UInt8], CheckpointError.Kind, String)] = [
        (Proto.tensor("short", dims: [3], raw: floats), .invalidShape, "raw_data holds 8 bytes"),
        (Proto.tensor("huge", dims: [1 << 40, 1 << 40], raw: floats), .invalidShape, "overflow"),
        (Proto.tensor("neg", dims: [UInt64(bitPattern: -2)], raw: floats), .invalidShape, "negative"),
        (Proto.tensor("nodata", dims: [2]), .corrupt, "no values"),
        (Proto.tensor("str", dims: [1], type: 8, raw: [0]), .unsupportedDType, "STRING"),
        (Proto.tensor("c64", dims: [1], type: 14, raw: floats), .unsupportedDType, "COMPLEX64"),
        (Proto.tensor("both", dims: [2], raw: floats, extra: Proto.field(4, floats)), .corrupt, "both"),
        (
          Proto.tensor("typed", dims: [3], extra: Proto.field(4, floats)), .invalidShape, "float_data holds 2"
        ),
        (Proto.tensor("odd", dims: [2], extra: Proto.field(4, [1, 2, 3])), .corrupt, "multiple of 4"),
        (Proto.tensor("kind", dims: [2], type: 10, extra: Proto.field(4, floats)), .corrupt, "int32_data"),
        (
          Proto.tensor("mixed", dims: [2], type: 6, extra: Proto.field(5, 1) + Proto.field(7, 1)), .corrupt,
          "both"
        ),
        (
          Proto.tensor("varint", dims: [2], type: 6, extra: Proto.field(5, [0x80, 0x80])), .truncated,
          "packed"
        ),
        (Proto.tensor("segment", dims: [2], raw: floats, extra: Proto.field(3, [])), .unsupported, "segment"),
        (Proto.tensor("loc", dims: [2], raw: floats, extra: Proto.field(14, 7)), .corrupt, "data_location"),
        (Proto.tensor("extraw", dims: [2], raw: floats, extra: Proto.field(14, 1)), .corrupt, "EXTERNAL"),
      ]
      for (tensor, kind, words) in cases {
        let bytes = Proto.model([Proto.tensor("fine", dims: [2], raw: floats), tensor])
        let error = try refusal(bytes, in: folder)
        XCTAssertEqual(error?.kind, kind, "\(String(describing: error))")
        XCTAssertNotNil(error?.tensor, "\(String(describing: error))")
        XCTAssertNotNil(error?.offset, "\(String(describing: error))")
        XCTAssertTrue(error?.description.contains(words) ?? false, "\(words): \(String(describing: error))")
      }
      // Too many dims.
      let many = Proto.tensor("many", dims: [UInt64](repeating: 1, count: 65), raw: [0, 0, 0, 0])
      XCTAssertEqual(try refusal(Proto.model([many]), in: folder)?.kind, .invalidShape)
    }
  }

  func testDuplicateAndNamelessInitializersAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let w = Proto.tensor("w", dims: [2], raw: floats)
      let error = try refusal(Proto.model([w, w]), in: folder)
      XCTAssertEqual(error?.kind, .duplicateName)
      XCTAssertEqual(error?.tensor, "w")
      XCTAssertEqual(error?.offset, 2 + 2 + 3 + 2 + w.count)
      XCTAssertEqual(
        try refusal(Proto.model([Proto.tensor("", dims: [2], raw: floats)]), in: folder)?.kind, .corrupt)
      let sparse = Proto.field(15, [])
      XCTAssertEqual(try refusal(Proto.model([w], graphExtra: sparse), in: folder)?.kind, .unsupported)
    }
  }

  /// Nodes nested through `If`-style graph attributes deeper than the decoding limit.
  func testDeepNestingIsRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var graph: [UInt8] = Proto.field(2, "inner")
      for _ in 0..<200 {
        let attribute = Proto.field(1, "then_branch") + Proto.field(6, graph)
        graph = Proto.field(1, Proto.field(4, "If") + Proto.field(5, attribute))
      }
      let error = try refusal(
        Proto.model([Proto.tensor("w", dims: [2], raw: floats)], graphExtra: graph), in: folder)
      XCTAssertEqual(error?.kind, .corrupt)
      // Within the limit, the same nesting reads.
      var shallow: [UInt8] = Proto.field(2, "inner")
      for _ in 0..<10 {
        shallow = Proto.field(
          1, Proto.field(4, "If") + Proto.field(5, Proto.field(1, "b") + Proto.field(6, shallow)))
      }
      try TestFixtures.write(Proto.model([], graphExtra: shallow), to: folder + "/ok.onnx")
      XCTAssertEqual(
        try FormatRegistry.read(path: folder + "/ok.onnx").metadata["onnx.graph"]?.contains(#""If":1"#), true)
    }
  }

  func testExternalPathsOutsideTheModelsFolderAreRefused() throws {
    try TestFixtures.withTemporaryFolder { root in
      let folder = root + "/model"
      try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
      try TestFixtures.write(floats + floats, to: root + "/outside.bin")
      try TestFixtures.write(floats + floats, to: folder + "/sub/inside.bin")
      try FileManager.default.createSymbolicLink(
        atPath: folder + "/link.bin", withDestinationPath: root + "/outside.bin")
      try FileManager.default.createSymbolicLink(
        atPath: folder + "/ok.bin", withDestinationPath: "sub/inside.bin")
      func model(_ location: String, offset: String = "0", length: String? = "8") -> [UInt8] {
        var entries = [("location", location), ("offset", offset)]
        if let length { entries.append(("length", length)) }
        return Proto.model([Proto.tensor("w", dims: [2], extra: Proto.external(entries))])
      }
      for (location, words) in [
        ("../outside.bin", "escapes"), ("sub/../../outside.bin", "escapes"),
        (root + "/outside.bin", "absolute"),
        ("link.bin", "leads outside"), ("missing.bin", "cannot be opened"), ("", "without a location"),
      ] {
        let error = try refusal(model(location), in: folder)
        XCTAssertEqual(error?.tensor, "w", "\(location): \(String(describing: error))")
        XCTAssertTrue(
          error?.description.contains(words) ?? false, "\(location): \(String(describing: error))")
      }
      XCTAssertEqual(try refusal(model("sub/inside.bin", offset: "12"), in: folder)?.kind, .truncated)
      XCTAssertEqual(try refusal(model("sub/inside.bin", length: "12"), in: folder)?.kind, .invalidShape)
      XCTAssertEqual(try refusal(model("sub/inside.bin", offset: "-1"), in: folder)?.kind, .corrupt)
      XCTAssertEqual(
        try refusal(model("sub/inside.bin", offset: "99999999999999999999999"), in: folder)?.kind, .corrupt)
      // Inside the folder, also through a symbolic link that stays inside, without a length.
      for location in ["sub/inside.bin", "ok.bin", "./sub/inside.bin"] {
        try TestFixtures.write(model(location, offset: "8", length: nil), to: folder + "/good.onnx")
        let checkpoint = try FormatRegistry.read(path: folder + "/good.onnx")
        XCTAssertEqual(try checkpoint.tensors[0].load().array, floats, location)
      }
    }
  }
}
