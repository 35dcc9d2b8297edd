import CheckpointCore
import CheckpointStorage
import CheckpointTestSupport
import XCTest

final class ShardedSafetensorsTests: XCTestCase {
  let indexPath = TestFixtures.path("safetensors/sharded/model.safetensors.index.json")

  func testReadsTheHubShardedCheckpointAsOne() throws {
    let expectations = try SafetensorsExpectations()
    let checkpoint = try FormatRegistry.read(path: indexPath)
    XCTAssertEqual(checkpoint.format, "safetensors-sharded")
    var expected: [String: SafetensorsExpectations.TensorRecord] = [:]
    for shard in expectations.shardNames {
      expected.merge(try expectations.shard(shard).tensors) { a, _ in a }
    }
    XCTAssertEqual(checkpoint.tensors.count, 64)
    XCTAssertEqual(Set(checkpoint.tensors.map(\.name)), Set(expectations.shardedOrder))
    try SafetensorsExpectations.assertTensors(checkpoint.tensors, equal: expected)
    XCTAssertEqual(checkpoint["encoder.layers.0.self_attn.in_proj_weight"]?.shape, [48, 16])
    XCTAssertEqual(checkpoint["decoder.layers.1.linear1.weight"]?.shape, [32, 16])
    XCTAssertEqual(checkpoint["decoder.norm.bias"]?.shape, [16])
    XCTAssertEqual(checkpoint.metadata, ["format": "pt", "total_size": "44800"])
    XCTAssertEqual(checkpoint.byteCount, 44800)
  }

  func testTensorsAreListedShardByShard() throws {
    let checkpoint = try ShardedSafetensorsFormat.read(path: indexPath)
    var shardOf: [String: String] = [:]
    let index = try SafetensorsIndex(reading: indexPath)
    for entry in index.weightMap { shardOf[entry.tensor] = entry.shard }
    let shards = checkpoint.tensors.compactMap { shardOf[$0.name] }
    XCTAssertEqual(shards, shards.sorted())
    XCTAssertEqual(index.shards, (1...3).map { "model-0000\($0)-of-00003.safetensors" })
    XCTAssertEqual(index.totalSize, 44800)
  }

  func testAFolderReadsAsItsIndexOrItsSingleFile() throws {
    let folder = TestFixtures.path("safetensors/sharded")
    XCTAssertTrue(try FormatRegistry.detect(path: folder) == ShardedSafetensorsFormat.self)
    XCTAssertEqual(try FormatRegistry.read(path: folder).tensors.count, 64)
    try TestFixtures.withTemporaryFolder { scratch in
      let single = try TestFixtures.bytes("safetensors/bf16.safetensors")
      try TestFixtures.write(single, to: scratch + "/model.safetensors")
      XCTAssertTrue(try FormatRegistry.detect(path: scratch) == SafetensorsFormat.self)
      XCTAssertEqual(try FormatRegistry.read(path: scratch).tensors.count, 3)
      try TestFixtures.write(single, to: scratch + "/other.safetensors")
      XCTAssertThrowsError(try FormatRegistry.read(path: scratch)) { error in
        XCTAssertEqual((error as? CheckpointError)?.kind, .invalidArgument)
        XCTAssertTrue("\(error)".contains("2 .safetensors files"), "\(error)")
      }
    }
    try TestFixtures.withTemporaryFolder { empty in
      XCTAssertThrowsError(try FormatRegistry.read(path: empty)) { error in
        XCTAssertEqual((error as? CheckpointError)?.kind, .notFound)
      }
    }
  }

  func testShardPlanMatchesHuggingFaceHub() {
    // The example in huggingface_hub's split_state_dict_into_shards docstring.
    XCTAssertEqual(
      ShardedSafetensorsFormat.plan(byteCounts: [6, 6, 2, 6, 2, 2], limit: 10), [[0], [1, 2], [3, 4, 5]])
    // A tensor over the limit gets its own shard at once; the open shard stays open.
    XCTAssertEqual(ShardedSafetensorsFormat.plan(byteCounts: [1, 20, 1, 9], limit: 10), [[1], [0, 2], [3]])
    XCTAssertEqual(ShardedSafetensorsFormat.plan(byteCounts: [], limit: 10), [])
    XCTAssertEqual(
      ShardedSafetensorsFormat.shardNames(indexName: "model.safetensors.index.json", count: 3),
      [
        "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
        "model-00003-of-00003.safetensors",
      ])
    XCTAssertEqual(
      ShardedSafetensorsFormat.shardNames(indexName: "tiny.index.json", count: 1),
      ["tiny-00001-of-00001.safetensors"])
  }

  func testShardedWriteReproducesTheHubsShards() throws {
    // Same tensors in the model's state_dict order, same 20KB limit as save_torch_state_dict:
    // the same grouping, the same shard bytes, the same weight_map.
    let expectations = try SafetensorsExpectations()
    let source = try FormatRegistry.read(path: indexPath)
    let ordered = try expectations.shardedOrder.map { try XCTUnwrap(source[$0]) }
    let checkpoint = try Checkpoint(tensors: ordered, metadata: source.metadata)
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/model.safetensors.index.json"
      try ShardedSafetensorsFormat.write(checkpoint, to: out, options: .init(shardSize: 20_000))
      for shard in expectations.shardNames {
        XCTAssertEqual(
          try TestFixtures.bytesAt(folder + "/" + shard),
          try TestFixtures.bytes("safetensors/sharded/" + shard),
          shard)
      }
      let written = try SafetensorsIndex(reading: out)
      let hub = try SafetensorsIndex(reading: indexPath)
      XCTAssertEqual(
        written.weightMap.map { [$0.tensor, $0.shard] }.sorted { $0[0] < $1[0] },
        hub.weightMap.map { [$0.tensor, $0.shard] }.sorted { $0[0] < $1[0] })
      XCTAssertEqual(written.totalSize, 44800)
      XCTAssertEqual(
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted(),
        (expectations.shardNames + ["model.safetensors.index.json"]).sorted())
    }
  }

  func testShardedWriteAndReadBackIsExact() throws {
    let source = try SafetensorsFormat.read(path: TestFixtures.path("safetensors/dtypes.safetensors"))
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/nested/dir/weights.safetensors.index.json"
      try FormatRegistry.write(source, to: out, options: .init(shardSize: 50))
      let files = try FileManager.default.contentsOfDirectory(atPath: folder + "/nested/dir").sorted()
      XCTAssertTrue(files.contains("weights.safetensors.index.json"))
      XCTAssertTrue(files.contains("weights-00001-of-00007.safetensors"), "\(files)")
      let copy = try FormatRegistry.read(path: out)
      XCTAssertEqual(copy.format, "safetensors-sharded")
      XCTAssertEqual(copy.tensors.map(\.name), source.tensors.map(\.name))
      for tensor in source.tensors {
        let other = try XCTUnwrap(copy[tensor.name])
        XCTAssertEqual(other.info, tensor.info)
        XCTAssertEqual(try other.load(), try tensor.load(), tensor.name)
      }
      XCTAssertEqual(copy.metadata, ["total_size": "229"])
    }
  }

  func testIndexTextIsWhatTransformersWrites() throws {
    let path = TestFixtures.path("safetensors/index_transformers.json")
    let index = try SafetensorsIndex(reading: path)
    XCTAssertEqual(Array(index.text.utf8), try TestFixtures.bytes("safetensors/index_transformers.json"))
  }

  func testAFailedShardedWriteLeavesNothing() throws {
    struct Boom: Error {}
    let good = try Tensor(
      name: "a", dtype: .u8, shape: [8], bytes: TensorBytes([UInt8](repeating: 1, count: 8)))
    let bad = Tensor(info: TensorInfo(name: "b", dtype: .u8, shape: [8]), byteCount: 8) { throw Boom() }
    try TestFixtures.withTemporaryFolder { folder in
      XCTAssertThrowsError(
        try ShardedSafetensorsFormat.write(
          try Checkpoint(tensors: [good, bad]), to: folder + "/model.safetensors.index.json",
          options: .init(shardSize: 8)))
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }
  }

  // MARK: - Rejections

  /// Copies the sharded fixture into `folder`, with the index replaced by `edit(index text)`.
  func copyFixture(to folder: String, editing edit: (String) -> String) throws -> String {
    for name in try FileManager.default.contentsOfDirectory(atPath: TestFixtures.path("safetensors/sharded"))
    {
      try TestFixtures.write(try TestFixtures.bytes("safetensors/sharded/" + name), to: folder + "/" + name)
    }
    let index = folder + "/model.safetensors.index.json"
    let text = String(decoding: try TestFixtures.bytesAt(index), as: UTF8.self)
    try TestFixtures.write(Array(edit(text).utf8), to: index)
    return index
  }

  func assertRejected(
    _ edit: @escaping (String) -> String, kind: CheckpointError.Kind, message: String, tensor: String?,
    fileSuffix: String, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    try TestFixtures.withTemporaryFolder { folder in
      let index = try copyFixture(to: folder, editing: edit)
      XCTAssertThrowsError(try FormatRegistry.read(path: index), file: file, line: line) { error in
        guard let error = error as? CheckpointError else {
          return XCTFail("\(error)", file: file, line: line)
        }
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        XCTAssertTrue(error.message.contains(message), "\(error)", file: file, line: line)
        XCTAssertEqual(error.tensor, tensor, "\(error)", file: file, line: line)
        XCTAssertTrue(error.file?.hasSuffix(fileSuffix) ?? false, "\(error)", file: file, line: line)
        XCTAssertNotNil(error.offset, "\(error)", file: file, line: line)
      }
    }
  }

  func testRefusesShardPathsOutsideTheFolder() throws {
    let first = "\"encoder.layers.0.self_attn.in_proj_weight\": \"model-00001-of-00003.safetensors\""
    for bad in ["/etc/passwd", "../model-00001-of-00003.safetensors", "a/../../x.safetensors", ""] {
      try assertRejected(
        {
          $0.replacingOccurrences(
            of: first, with: "\"encoder.layers.0.self_attn.in_proj_weight\": \"\(bad)\"")
        },
        kind: .corrupt, message: bad.isEmpty ? "empty" : "shard",
        tensor: "encoder.layers.0.self_attn.in_proj_weight",
        fileSuffix: "model.safetensors.index.json")
    }
  }

  func testRefusesAnEntryMissingFromItsShard() throws {
    try assertRejected(
      {
        $0.replacingOccurrences(
          of: "\"weight_map\": {",
          with: "\"weight_map\": {\n    \"ghost.weight\": \"model-00002-of-00003.safetensors\",")
      }, kind: .notFound, message: "does not contain it", tensor: "ghost.weight",
      fileSuffix: "model.safetensors.index.json")
  }

  func testRefusesATensorThatTheIndexPutsInAnotherShard() throws {
    try assertRejected(
      {
        $0.replacingOccurrences(
          of: "\"encoder.layers.0.self_attn.in_proj_weight\": \"model-00001-of-00003.safetensors\"",
          with: "\"encoder.layers.0.self_attn.in_proj_weight\": \"model-00002-of-00003.safetensors\"")
      }, kind: .corrupt, message: "index maps it to model-00002",
      tensor: "encoder.layers.0.self_attn.in_proj_weight",
      fileSuffix: "model-00001-of-00003.safetensors")
  }

  func testRefusesAShardTensorMissingFromTheIndex() throws {
    try assertRejected(
      {
        $0.replacingOccurrences(
          of: "    \"encoder.layers.0.self_attn.in_proj_weight\": \"model-00001-of-00003.safetensors\",\n",
          with: "")
      }, kind: .corrupt, message: "not in the index's weight_map",
      tensor: "encoder.layers.0.self_attn.in_proj_weight",
      fileSuffix: "model-00001-of-00003.safetensors")
  }

  func testRefusesDuplicateIndexEntries() throws {
    try assertRejected(
      {
        $0.replacingOccurrences(
          of: "\"weight_map\": {",
          with: "\"weight_map\": {\n    \"decoder.norm.bias\": \"model-00003-of-00003.safetensors\",")
      }, kind: .duplicateName, message: "duplicate tensor name 'decoder.norm.bias'",
      tensor: "decoder.norm.bias",
      fileSuffix: "model.safetensors.index.json")
  }

  func testRefusesATensorInTwoShards() throws {
    let a = try Tensor(name: "a", dtype: .u8, shape: [1], bytes: TensorBytes([1]))
    let b = try Tensor(name: "b", dtype: .u8, shape: [1], bytes: TensorBytes([2]))
    let c = try Tensor(name: "c", dtype: .u8, shape: [1], bytes: TensorBytes([3]))
    try TestFixtures.withTemporaryFolder { folder in
      try SafetensorsFormat.write(
        try Checkpoint(tensors: [a, b]), to: folder + "/one.safetensors", options: .init())
      try SafetensorsFormat.write(
        try Checkpoint(tensors: [b, c]), to: folder + "/two.safetensors", options: .init())
      let index = SafetensorsIndex(
        metadata: [],
        weightMap: [
          .init(tensor: "a", shard: "one.safetensors"), .init(tensor: "b", shard: "one.safetensors"),
          .init(tensor: "c", shard: "two.safetensors"),
        ])
      try TestFixtures.write(Array(index.text.utf8), to: folder + "/x.safetensors.index.json")
      XCTAssertThrowsError(try FormatRegistry.read(path: folder + "/x.safetensors.index.json")) { error in
        let error = error as? CheckpointError
        XCTAssertEqual(error?.kind, .duplicateName)
        XCTAssertEqual(error?.tensor, "b")
        XCTAssertTrue(
          error?.message.contains("one.safetensors and two.safetensors") ?? false,
          "\(String(describing: error))")
      }
    }
  }

  func testRefusesAMalformedShard() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let index = try copyFixture(to: folder) { $0 }
      let shard = folder + "/model-00002-of-00003.safetensors"
      var bytes = try TestFixtures.bytesAt(shard)
      bytes.append(0)
      try TestFixtures.write(bytes, to: shard)
      XCTAssertThrowsError(try FormatRegistry.read(path: index)) { error in
        let error = error as? CheckpointError
        XCTAssertEqual(error?.kind, .corrupt)
        XCTAssertEqual(error?.file, shard)
        XCTAssertEqual(error?.offset, bytes.count - 1)
      }
    }
  }

  func testTotalSizeMismatchIsOnlyNoted() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let index = try copyFixture(to: folder) { $0.replacingOccurrences(of: "44800", with: "50000") }
      let checkpoint = try FormatRegistry.read(path: index)
      XCTAssertEqual(checkpoint.tensors.count, 64)
      XCTAssertEqual(checkpoint.metadata["total_size"], "50000")
      XCTAssertEqual(
        checkpoint.metadata[ShardedSafetensorsFormat.totalSizeNoteKey],
        "index total_size 50000 differs from the 44800 bytes of tensor data")
    }
  }
}
