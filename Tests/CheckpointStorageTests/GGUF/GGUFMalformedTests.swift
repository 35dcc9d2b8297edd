import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

/// Builds GGUF bytes field by field, valid or not, for rejection tests.
struct GGUFBuilder {
  var magic = Array("GGUF".utf8)
  var version: UInt32 = 3
  var tensorCount: Int64?
  var kvCount: Int64?
  var kvs: [[UInt8]] = []
  var infos: [[UInt8]] = []
  var alignment = 32
  var data: [UInt8] = []

  mutating func kv(_ key: String, _ value: GGUFValue) {
    var bytes: [UInt8] = []
    GGUFValue.encode(string: key, into: &bytes)
    bytes.appendLittleEndian(value.type.rawValue)
    value.encode(into: &bytes)
    kvs.append(bytes)
  }

  mutating func rawKV(_ key: String, type: UInt32, payload: [UInt8]) {
    var bytes: [UInt8] = []
    GGUFValue.encode(string: key, into: &bytes)
    bytes.appendLittleEndian(type)
    kvs.append(bytes + payload)
  }

  mutating func tensor(_ name: String, dims: [Int64], type: UInt32 = 0, offset: UInt64) {
    var bytes: [UInt8] = []
    GGUFValue.encode(string: name, into: &bytes)
    bytes.appendLittleEndian(UInt32(dims.count))
    for d in dims { bytes.appendLittleEndian(d) }
    bytes.appendLittleEndian(type)
    bytes.appendLittleEndian(offset)
    infos.append(bytes)
  }

  func bytes() -> [UInt8] {
    var out = magic
    out.appendLittleEndian(version)
    out.appendLittleEndian(tensorCount ?? Int64(infos.count))
    out.appendLittleEndian(kvCount ?? Int64(kvs.count))
    for kv in kvs { out += kv }
    for info in infos { out += info }
    out += [UInt8](repeating: 0, count: (alignment - out.count % alignment) % alignment)
    return out + data
  }

  /// A valid file: one F32 [2, 3] tensor "w" and one key.
  static func valid() -> GGUFBuilder {
    var b = GGUFBuilder()
    b.kv("general.architecture", .string("test"))
    b.tensor("w", dims: [3, 2], offset: 0)
    b.data = [UInt8](repeating: 0, count: 24)
    return b
  }
}

final class GGUFMalformedTests: XCTestCase {
  /// Reads `bytes` as a GGUF file and loads every tensor; returns the error, if any.
  private func error(reading bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line)
    -> CheckpointError?
  {
    do {
      return try TestFixtures.withTemporaryFolder { folder in
        let path = folder + "/t.gguf"
        try TestFixtures.write(bytes, to: path)
        do {
          let checkpoint = try GGUFFormat.read(path: path)
          for tensor in checkpoint.tensors { _ = try tensor.load() }
          return nil
        } catch let error as CheckpointError {
          XCTAssertEqual(error.file, path, "errors name the file", file: file, line: line)
          return error
        }
      }
    } catch {
      XCTFail("unexpected error \(error)", file: file, line: line)
      return nil
    }
  }

  private func assertRejected(
    _ builder: GGUFBuilder, _ kind: CheckpointError.Kind, _ text: String,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    let error = error(reading: builder.bytes(), file: file, line: line)
    XCTAssertEqual(error?.kind, kind, "\(String(describing: error))", file: file, line: line)
    XCTAssertTrue(
      error?.message.contains(text) ?? false, "\(String(describing: error))", file: file, line: line)
  }

  func testValidBuilderFileReads() throws {
    XCTAssertNil(error(reading: GGUFBuilder.valid().bytes()))
  }

  func testBadMagicAndVersions() {
    var b = GGUFBuilder.valid()
    b.magic = Array("GGUG".utf8)
    assertRejected(b, .badFormat, "magic")
    for (version, text) in [
      (UInt32(0), "version 0"), (1, "version 1"), (4, "newer"), (0x0300_0000, "byte-swapped"),
    ] {
      b = GGUFBuilder.valid()
      b.version = version
      assertRejected(b, version == 0 ? .corrupt : .unsupported, text)
    }
    b = GGUFBuilder.valid()
    b.version = 2
    XCTAssertNil(error(reading: b.bytes()), "version 2 has the same layout")
  }

  func testDuplicateKeysAndNames() {
    var b = GGUFBuilder.valid()
    b.kv("general.architecture", .string("again"))
    assertRejected(b, .duplicateName, "duplicate metadata key")
    b = GGUFBuilder.valid()
    b.tensor("w", dims: [3, 2], offset: 32)
    b.data += [UInt8](repeating: 0, count: 32)
    assertRejected(b, .duplicateName, "duplicate tensor name")
  }

  func testDimensions() {
    var b = GGUFBuilder.valid()
    b.infos = []
    b.tensor("w", dims: [1, 1, 1, 1, 1], offset: 0)
    assertRejected(b, .corrupt, "5 dimensions")
    b.infos = []
    b.tensor("w", dims: [3, -2], offset: 0)
    assertRejected(b, .corrupt, "negative")
    b.infos = []
    b.tensor("w", dims: [1 << 62, 1 << 62], offset: 0)
    assertRejected(b, .corrupt, "overflows")
    b.infos = []
    b.tensor(String(repeating: "x", count: 64), dims: [3, 2], offset: 0)
    assertRejected(b, .corrupt, "shorter than 64")
  }

  func testTypes() {
    var b = GGUFBuilder.valid()
    b.infos = []
    b.tensor("w", dims: [3, 2], type: 4, offset: 0)
    assertRejected(b, .corrupt, "invalid ggml type 4")
    b.infos = []
    b.tensor("w", dims: [3, 2], type: 99, offset: 0)
    assertRejected(b, .corrupt, "invalid ggml type 99")
    b.infos = []
    b.tensor("w", dims: [256, 1], type: 12, offset: 0)
    assertRejected(b, .unsupportedDType, "Q4_K")
    b.infos = []
    b.tensor("w", dims: [40, 1], type: 8, offset: 0)
    assertRejected(b, .corrupt, "not a whole number of 32-element blocks")
    b = GGUFBuilder.valid()
    b.rawKV("k", type: 13, payload: [0])
    assertRejected(b, .corrupt, "invalid GGUF type 13")
    b = GGUFBuilder.valid()
    b.rawKV("k", type: 9, payload: [13, 0, 0, 0] + [UInt8](repeating: 0, count: 8))
    assertRejected(b, .corrupt, "invalid element type 13")
  }

  func testOffsetsAndSizes() {
    var b = GGUFBuilder.valid()
    b.infos = []
    b.tensor("w", dims: [3, 2], offset: 32)
    assertRejected(b, .corrupt, "expected 0")
    b = GGUFBuilder.valid()
    b.tensor("v", dims: [4], offset: 0)  // overlaps "w"
    b.data += [UInt8](repeating: 0, count: 32)
    assertRejected(b, .corrupt, "expected 32")
    b = GGUFBuilder.valid()
    b.tensor("v", dims: [4], offset: 24)  // not aligned
    assertRejected(b, .corrupt, "expected 32")
    b = GGUFBuilder.valid()
    b.data = [UInt8](repeating: 0, count: 20)
    assertRejected(b, .truncated, "past the end")
  }

  func testAlignment() {
    for (value, text) in [
      (GGUFValue.uint32(48), "not a power of 2"), (.uint32(0), "not a power of 2"),
      (.uint64(64), "expected u32"),
    ] {
      var b = GGUFBuilder.valid()
      b.kv("general.alignment", value)
      assertRejected(b, .corrupt, text)
    }
    var b = GGUFBuilder.valid()
    b.kv("general.alignment", .uint32(64))
    b.alignment = 64
    XCTAssertNil(error(reading: b.bytes()))
  }

  /// Huge string and array lengths and counts are refused before anything is allocated.
  func testHugeLengthsRefusedBeforeAllocating() {
    var b = GGUFBuilder.valid()
    var payload: [UInt8] = []
    payload.appendLittleEndian(UInt64(1) << 40)
    b.rawKV("s", type: 8, payload: payload)
    assertRejected(b, .corrupt, "more than the 1073741824-byte limit")
    b = GGUFBuilder.valid()
    payload = []
    payload.appendLittleEndian(UInt64(1_000_000))
    b.rawKV("s", type: 8, payload: payload)
    assertRejected(b, .truncated, "needs 1000000 bytes")
    b = GGUFBuilder.valid()
    payload = [8, 0, 0, 0]
    payload.appendLittleEndian(UInt64(1) << 60)
    b.rawKV("a", type: 9, payload: payload)
    assertRejected(b, .corrupt, "more than the rest of the file holds")
    b = GGUFBuilder.valid()
    b.tensorCount = Int64.max
    assertRejected(b, .corrupt, "tensor count")
    b = GGUFBuilder.valid()
    b.kvCount = -1
    assertRejected(b, .corrupt, "key-value count")
    b = GGUFBuilder.valid()
    b.rawKV("b", type: 7, payload: [2])
    assertRejected(b, .corrupt, "not 0 or 1")
    b = GGUFBuilder.valid()
    b.rawKV("s", type: 8, payload: [2, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0x28])
    assertRejected(b, .corrupt, "not valid UTF-8")
  }

  /// Every truncation of gguf-py's file is an error, never a crash.
  func testEveryTruncationOfARealFileFails() throws {
    let bytes = try TestFixtures.bytes("gguf/all_types.gguf")
    let header = try GGUFHeader.read(from: InputFile(path: TestFixtures.path("gguf/all_types.gguf")))
    let lastEnd = header.dataOffset + (header.tensors.last.map { $0.offset + $0.byteCount } ?? 0)
    for length in stride(from: 0, to: lastEnd, by: 7) {
      XCTAssertNotNil(error(reading: Array(bytes[0..<length])), "length \(length)")
    }
  }
}
