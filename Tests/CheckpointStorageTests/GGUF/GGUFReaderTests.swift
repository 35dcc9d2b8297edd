import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import Foundation
import XCTest

@testable import CheckpointStorage

final class GGUFReaderTests: XCTestCase {
  /// What gguf-py's GGUFReader reported for the fixtures (Fixtures/gguf/expected.json).
  private func expected(_ file: String) throws -> JSONValue {
    let json = try JSONValue.parse(try TestFixtures.bytes("gguf/expected.json"))
    return try XCTUnwrap(json[file])
  }

  /// Every tensor of gguf-py's files reads with gguf-py's type, numpy shape and exact bytes.
  func testReadsGGUFPyFilesExactly() throws {
    for file in ["all_types.gguf", "aligned64.gguf"] {
      let path = TestFixtures.path("gguf/" + file)
      XCTAssertEqual(try FormatRegistry.detect(path: path).identifier, "gguf")
      let checkpoint = try FormatRegistry.read(path: path)
      let tensors = try XCTUnwrap(try expected(file)["tensors"]?.arrayValue)
      XCTAssertEqual(checkpoint.tensors.count, tensors.count, file)
      for (tensor, record) in zip(checkpoint.tensors, tensors) {
        XCTAssertEqual(tensor.name, record["name"]?.stringValue, file)
        XCTAssertEqual(tensor.dtype.name, record["type"]?.stringValue, tensor.name)
        XCTAssertEqual(tensor.shape, record["shape"]?.arrayValue?.compactMap(\.intValue), tensor.name)
        XCTAssertEqual(tensor.byteCount, record["nbytes"]?.intValue, tensor.name)
        XCTAssertEqual(SHA256Digest.hex(try tensor.load().array), record["sha256"]?.stringValue, tensor.name)
      }
      let header = try GGUFHeader.read(from: InputFile(path: path))
      XCTAssertEqual(header.alignment, try expected(file)["alignment"]?.intValue)
      XCTAssertEqual(header.dataOffset, try expected(file)["data_offset"]?.intValue)
      XCTAssertEqual(
        header.tensors.map { header.dataOffset + $0.offset },
        tensors.compactMap { $0["offset"]?.intValue })
    }
  }

  /// Metadata of all 13 value types, arrays and a nested array, rendered as documented,
  /// with gguf-py's keys in file order under ckpt.gguf_types.
  func testMetadataOfEveryTypeRendered() throws {
    let checkpoint = try FormatRegistry.read(path: TestFixtures.path("gguf/all_types.gguf"))
    let m = checkpoint.metadata
    XCTAssertEqual(m["general.architecture"], "ckpt-fixture")
    XCTAssertEqual(m["test.u8"], "250")
    XCTAssertEqual(m["test.i8"], "-100")
    XCTAssertEqual(m["test.u16"], "65000")
    XCTAssertEqual(m["test.i16"], "-32000")
    XCTAssertEqual(m["test.u32"], "4000000000")
    XCTAssertEqual(m["test.i32"], "-2000000000")
    XCTAssertEqual(m["test.f32"], "0.1")
    XCTAssertEqual(m["test.bool"], "true")
    XCTAssertEqual(m["test.string"], "héllo \"gguf\"\n")
    XCTAssertEqual(m["test.u64"], "18446744073709551615")
    XCTAssertEqual(m["test.i64"], "-9223372036854775808")
    XCTAssertEqual(m["test.f64"], "0.3333333333333333")
    XCTAssertEqual(m["test.array.i32"], "[1,-2,3]")
    XCTAssertEqual(m["test.array.u8"], "[1,2,255]")
    XCTAssertEqual(m["test.array.f32"], "[0.5,-1.25,2.9999999242136255e-05]")
    XCTAssertEqual(m["test.array.string"], "[\"a\",\"bc\",\"ü\"]")
    XCTAssertEqual(m["test.array.bool"], "[true,false,true]")
    XCTAssertEqual(m["test.array.nested"], "[[1,2],[3,4,5]]")
    let fields = try XCTUnwrap(try expected("all_types.gguf")["fields"]?.arrayValue)
    let types = try XCTUnwrap(
      try JSONValue.parse(Array(try XCTUnwrap(m[GGUFMetadata.typesKey]).utf8)).arrayValue)
    XCTAssertEqual(
      types.compactMap { $0.arrayValue?.first?.stringValue }, fields.compactMap { $0["key"]?.stringValue })
    XCTAssertEqual(
      types.compactMap { $0.arrayValue?.last?.stringValue },
      [
        "string", "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "u64", "i64", "f64",
        "array[i32]", "array[u8]", "array[f32]", "array[string]", "array[bool]", "array[array[i32]]",
        "string",
      ])
    // gguf-py's values, compared through their typed parse.
    for field in fields {
      guard let key = field["key"]?.stringValue, let value = field["value"], let text = m[key] else {
        continue
      }
      if case .integer(let v) = value { XCTAssertEqual(text, String(v), key) }
      if case .unsignedInteger(let v) = value { XCTAssertEqual(text, String(v), key) }
      if case .string(let s) = value, key == "test.f32" || key == "test.f64" {
        XCTAssertEqual(Double(text).map { key == "test.f32" ? Double(Float($0)) : $0 }, Double(s), key)
      }
    }
  }

  /// Reading and rewriting gguf-py's files gives the same bytes (types, key order, offsets,
  /// padding); also through safetensors metadata when every tensor survives.
  func testRewriteIsByteIdentical() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for file in ["all_types.gguf", "aligned64.gguf"] {
        let original = try TestFixtures.bytes("gguf/" + file)
        let out = folder + "/" + file
        try FormatRegistry.write(try FormatRegistry.read(path: TestFixtures.path("gguf/" + file)), to: out)
        XCTAssertEqual(try TestFixtures.bytesAt(out), original, file)
      }
      let viaSafetensors = folder + "/a.safetensors"
      try FormatRegistry.write(
        try FormatRegistry.read(path: TestFixtures.path("gguf/aligned64.gguf")), to: viaSafetensors)
      try FormatRegistry.write(try FormatRegistry.read(path: viaSafetensors), to: folder + "/back.gguf")
      XCTAssertEqual(
        try TestFixtures.bytesAt(folder + "/back.gguf"), try TestFixtures.bytes("gguf/aligned64.gguf"))
    }
  }

  /// Metadata from other formats is written as GGUF strings, sorted; general.alignment as u32.
  func testForeignMetadataBecomesStrings() throws {
    let pairs = try GGUFMetadata.pairs(from: ["b": "2", "a": "x", "general.alignment": "64"])
    XCTAssertEqual(pairs.map(\.key), ["a", "b", "general.alignment"])
    XCTAssertEqual(pairs.map(\.value), [.string("x"), .string("2"), .uint32(64)])
    XCTAssertThrowsError(try GGUFMetadata.pairs(from: ["general.alignment": "48"]))
  }

  /// Writing refuses what llama.cpp would refuse to read.
  func testWriterRefusesWhatGGUFCannotHold() throws {
    try TestFixtures.withTemporaryFolder { folder in
      func attempt(_ tensor: Tensor) -> CheckpointError? {
        do {
          try FormatRegistry.write(try Checkpoint(tensors: [tensor]), to: folder + "/x.gguf")
          return nil
        } catch { return error as? CheckpointError }
      }
      let long = try Tensor(
        name: String(repeating: "n", count: 64), dtype: .u8, shape: [1], bytes: TensorBytes([1]))
      XCTAssertEqual(attempt(long)?.kind, .unsupportedDType)
      let longF = try Tensor(
        name: String(repeating: "n", count: 64), dtype: .i8, shape: [1], bytes: TensorBytes([1]))
      XCTAssertEqual(attempt(longF)?.kind, .invalidArgument)
      let fiveD = try Tensor(name: "t", dtype: .i8, shape: [1, 1, 1, 1, 1], bytes: TensorBytes([1]))
      XCTAssertEqual(attempt(fiveD)?.kind, .invalidArgument)
      XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x.gguf"))
    }
  }
}
