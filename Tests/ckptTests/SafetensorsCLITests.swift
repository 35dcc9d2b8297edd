import CheckpointCore
import CheckpointTestSupport
import Foundation
import XCTest

final class SafetensorsCLITests: XCTestCase {
  let index = TestFixtures.path("safetensors/sharded/model.safetensors.index.json")

  func testInspectShardedIndexAsText() throws {
    let result = try TestFixtures.runCkpt(["inspect", index])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.contains("format:     safetensors-sharded"), result.stdout)
    XCTAssertTrue(result.stdout.contains("tensors:    64, 11200 parameters"), result.stdout)
    XCTAssertTrue(result.stdout.contains("total_size: 44800"), result.stdout)
    XCTAssertTrue(result.stdout.contains("format: pt"), result.stdout)
    let row = result.stdout.split(separator: "\n").first {
      $0.hasPrefix("encoder.layers.0.self_attn.in_proj_weight ")
    }
    let cells = row.map { $0.components(separatedBy: "  ").filter { !$0.isEmpty } }
    XCTAssertEqual(cells, ["encoder.layers.0.self_attn.in_proj_weight", "F32", "[48, 16]", "3.0 KiB"])
  }

  func testInspectShardedIndexAsJSON() throws {
    let expectations = try JSONValue.parse(TestFixtures.bytes("safetensors/expected.json"))
    let result = try TestFixtures.runCkpt(["inspect", "--json", index])
    XCTAssertEqual(result.status, 0, result.stderr)
    let json = try JSONValue.parse(Array(result.stdout.utf8))
    XCTAssertEqual(json["format"], .string("safetensors-sharded"))
    XCTAssertEqual(json["layout"], .string("pytorch"))
    XCTAssertEqual(json["parameters"], .integer(11200))
    XCTAssertEqual(json["metadata"], .object([("format", .string("pt")), ("total_size", .string("44800"))]))
    let tensors = try XCTUnwrap(json["tensors"]?.arrayValue)
    XCTAssertEqual(tensors.count, 64)
    var seen = Set<String>()
    for shard in expectations["sharded"]?["shards"]?.objectValue ?? [] {
      for (name, record) in shard.1["tensors"]?.objectValue ?? [] {
        let tensor = try XCTUnwrap(tensors.first { $0["name"]?.stringValue == name }, name)
        XCTAssertEqual(tensor["dtype"], record["dtype"], name)
        XCTAssertEqual(tensor["shape"], record["shape"], name)
        let elements = (record["shape"]?.arrayValue ?? []).compactMap(\.intValue).reduce(1, *)
        XCTAssertEqual(tensor["bytes"], .integer(Int64(elements * 4)), name)
        seen.insert(name)
      }
    }
    XCTAssertEqual(seen.count, 64)
  }

  func testInspectAFolder() throws {
    let result = try TestFixtures.runCkpt(["inspect", "--json", TestFixtures.path("safetensors/sharded")])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertEqual(try JSONValue.parse(Array(result.stdout.utf8))["tensors"]?.arrayValue?.count, 64)
  }

  func testEveryMalformedFileExitsOneWithTheProblemOnStderr() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for item in try MalformedSafetensors.all() {
        let path = folder + "/" + item.name + ".safetensors"
        try TestFixtures.write(item.bytes, to: path)
        let result = try TestFixtures.runCkpt(["inspect", path])
        XCTAssertEqual(result.status, 1, "\(item.name): \(result.stderr)")
        XCTAssertTrue(result.stderr.contains(path), "\(item.name): \(result.stderr)")
        XCTAssertTrue(result.stderr.contains(item.message), "\(item.name): \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("at byte \(item.offset)"), "\(item.name): \(result.stderr)")
        if let tensor = item.tensor {
          XCTAssertTrue(result.stderr.contains("tensor '\(tensor)'"), "\(item.name): \(result.stderr)")
        }
        let converted = try TestFixtures.runCkpt([
          "convert", path, folder + "/out-" + item.name + ".safetensors",
        ])
        XCTAssertEqual(converted.status, 1, "\(item.name): \(converted.stderr)")
        XCTAssertTrue(converted.stderr.contains(item.message), "\(item.name): \(converted.stderr)")
      }
      // Nothing was written for any of them.
      let outputs = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
        $0.hasPrefix("out-")
      }
      XCTAssertEqual(outputs, [])
    }
  }

  func testJSONErrorNamesKindTensorAndOffset() throws {
    let item = try XCTUnwrap(try MalformedSafetensors.all().first { $0.name == "size-mismatch" })
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/bad.safetensors"
      try TestFixtures.write(item.bytes, to: path)
      let result = try TestFixtures.runCkpt(["inspect", "--json", path])
      XCTAssertEqual(result.status, 1)
      let error = try JSONValue.parse(Array(result.stdout.utf8))["error"]
      XCTAssertEqual(error?["kind"], .string("invalidShape"))
      XCTAssertEqual(error?["tensor"], .string("norm.weight"))
      XCTAssertEqual(error?["offset"], .integer(Int64(item.offset)))
      XCTAssertEqual(error?["file"], .string(path))
    }
  }

  func testConvertToShardedIndexAndBack() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let source = TestFixtures.path("safetensors/dtypes.safetensors")
      let out = folder + "/out/model.safetensors.index.json"
      let sharded = try TestFixtures.runCkpt(["convert", source, out, "--shard-size", "100B"])
      XCTAssertEqual(sharded.status, 0, sharded.stderr)
      let names = try FileManager.default.contentsOfDirectory(atPath: folder + "/out").sorted()
      XCTAssertEqual(names.last, "model.safetensors.index.json")
      XCTAssertEqual(names.first, "model-00001-of-00003.safetensors")
      XCTAssertEqual(names.count, 4)
      let back = folder + "/back.safetensors"
      let merged = try TestFixtures.runCkpt(["convert", out, back])
      XCTAssertEqual(merged.status, 0, merged.stderr)
      // Back in one file: the same bytes as the library's file, plus the index's total_size metadata.
      let reread = try TestFixtures.runCkpt(["inspect", "--json", back])
      let json = try JSONValue.parse(Array(reread.stdout.utf8))
      XCTAssertEqual(json["metadata"], .object([("total_size", .string("229"))]))
      XCTAssertEqual(json["tensors"]?.arrayValue?.count, 13)
    }
  }

  func testConvertWithShardSizeToOneMegabyteWorks() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/out/model.safetensors.index.json"
      let result = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("safetensors/bf16.safetensors"), out, "--shard-size", "1MB",
      ])
      XCTAssertEqual(result.status, 0, result.stderr)
      XCTAssertEqual(
        try FileManager.default.contentsOfDirectory(atPath: folder + "/out").sorted(),
        ["model-00001-of-00001.safetensors", "model.safetensors.index.json"])
    }
  }

  func testShardSizeWithAPlainOutputIsAClearError() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let result = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("safetensors/bf16.safetensors"), folder + "/x.safetensors",
        "--shard-size", "1MB",
      ])
      XCTAssertEqual(result.status, 1)
      XCTAssertTrue(result.stderr.contains("model.safetensors.index.json"), result.stderr)
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }
  }
}
