import CheckpointCore
import CheckpointTestSupport
import XCTest

/// What the fixture generator recorded in `Fixtures/safetensors/expected.json`
/// (read back with the Python library): per file, its metadata and per tensor
/// dtype, shape and the sha256 of its bytes.
struct SafetensorsExpectations {
  struct TensorRecord: Equatable {
    var dtype: String
    var shape: [Int]
    var sha256: String
  }

  struct FileRecord {
    var metadata: [String: String]
    var tensors: [String: TensorRecord]
  }

  let json: JSONValue

  init() throws {
    json = try JSONValue.parse(TestFixtures.bytes("safetensors/expected.json"))
  }

  func file(_ name: String) throws -> FileRecord {
    try Self.fileRecord(XCTUnwrap(json[name], "no record for \(name)"))
  }

  /// The records of the sharded fixture: its index, the model's state_dict order and per-shard records.
  var shardedOrder: [String] { json["sharded"]?["order"]?.arrayValue?.compactMap(\.stringValue) ?? [] }

  var shardedIndex: JSONValue? { json["sharded"]?["index"] }

  func shard(_ name: String) throws -> FileRecord {
    try Self.fileRecord(XCTUnwrap(json["sharded"]?["shards"]?[name], "no record for shard \(name)"))
  }

  var shardNames: [String] { json["sharded"]?["shards"]?.objectValue?.map(\.0) ?? [] }

  static func fileRecord(_ value: JSONValue) throws -> FileRecord {
    var metadata: [String: String] = [:]
    for (key, item) in value["metadata"]?.objectValue ?? [] { metadata[key] = item.stringValue }
    var tensors: [String: TensorRecord] = [:]
    for (name, item) in value["tensors"]?.objectValue ?? [] {
      tensors[name] = TensorRecord(
        dtype: try XCTUnwrap(item["dtype"]?.stringValue),
        shape: try XCTUnwrap(item["shape"]?.arrayValue).compactMap(\.intValue),
        sha256: try XCTUnwrap(item["sha256"]?.stringValue))
    }
    return FileRecord(metadata: metadata, tensors: tensors)
  }

  /// Asserts that `tensors` are exactly `expected`: same names, dtypes, shapes and bytes.
  static func assertTensors(
    _ tensors: [Tensor], equal expected: [String: TensorRecord], file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    XCTAssertEqual(Set(tensors.map(\.name)), Set(expected.keys), file: file, line: line)
    for tensor in tensors {
      guard let record = expected[tensor.name] else { continue }
      XCTAssertEqual(tensor.shape, record.shape, "shape of \(tensor.name)", file: file, line: line)
      XCTAssertEqual(tensor.dtype.name, record.dtype, "dtype of \(tensor.name)", file: file, line: line)
      let bytes = try tensor.load()
      XCTAssertEqual(
        SHA256Digest.hex(bytes.array), record.sha256, "bytes of \(tensor.name)", file: file, line: line)
    }
  }
}
