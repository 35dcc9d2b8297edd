import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

final class PyTorchCLITests: XCTestCase {
  func testInspectAndConvertWithKey() throws {
    let nested = TestFixtures.path("pytorch/nested.pt")
    let inspect = try TestFixtures.runCkpt(["inspect", nested, "--key", "model", "--json"])
    XCTAssertEqual(inspect.status, 0, inspect.stderr)
    let json = try JSONValue.parse(Array(inspect.stdout.utf8))
    XCTAssertEqual(json["format"]?.stringValue, "pytorch")
    XCTAssertEqual(
      json["tensors"]?.arrayValue?.compactMap { $0["name"]?.stringValue },
      ["0.weight", "0.bias", "2.weight", "2.bias"])
    let full = try TestFixtures.runCkpt(["inspect", nested, "--json"])
    XCTAssertEqual(try JSONValue.parse(Array(full.stdout.utf8))["metadata"]?["epoch"]?.stringValue, "3")

    try TestFixtures.withTemporaryFolder { folder in
      let output = folder + "/model.pt"
      let convert = try TestFixtures.runCkpt(["convert", nested, output, "--key", "model", "--quiet"])
      XCTAssertEqual(convert.status, 0, convert.stderr)
      let again = try TestFixtures.runCkpt(["inspect", output, "--json"])
      XCTAssertEqual(try JSONValue.parse(Array(again.stdout.utf8))["tensors"]?.arrayValue?.count, 4)
    }
    let wrongKey = try TestFixtures.runCkpt(["inspect", nested, "--key", "weights"])
    XCTAssertEqual(wrongKey.status, 1)
    XCTAssertTrue(wrongKey.stderr.contains("no key 'weights'"), wrongKey.stderr)
  }

  func testMaliciousFilesAreRefusedByTheCLIAndNothingRuns() throws {
    let sentinel = "/tmp/ckpt-pytorch-malicious-sentinel"
    unlink(sentinel)
    for (name, global) in [
      ("os_system", "posix.system"), ("builtins_eval", "builtins.eval"),
      ("subprocess_call", "subprocess.call"),
      ("memo_stack_global", "posix.system"), ("reduce_storage", "torch.FloatStorage"),
    ] {
      let result = try TestFixtures.runCkpt(["inspect", TestFixtures.path("pytorch/malicious/\(name).pt")])
      XCTAssertEqual(result.status, 1, name)
      XCTAssertTrue(result.stderr.contains(global), "\(name): \(result.stderr)")
    }
    XCTAssertEqual(access(sentinel, F_OK), -1, "the sentinel file exists: something ran")
  }

  func testLegacyFileErrorSaysUnsupported() throws {
    let result = try TestFixtures.runCkpt(["inspect", TestFixtures.path("pytorch/legacy.pt")])
    XCTAssertEqual(result.status, 1)
    XCTAssertTrue(
      result.stderr.contains("legacy (pre-1.6, non-zip) torch.save file is not supported"), result.stderr)
  }

  /// Tied weights (one storage under two names in views.pt: `base` and `alias`) are shared
  /// again by torch.save output, and said to be written as copies everywhere else.
  func testTiedWeightsWrittenAsCopiesAreSaid() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let source = TestFixtures.path("pytorch/views.pt")
      let copies = try TestFixtures.runCkpt(["convert", source, folder + "/v.safetensors", "--json"])
      XCTAssertEqual(copies.status, 0, copies.stderr)
      XCTAssertTrue(copies.stderr.contains("tied weights: base = alias"), copies.stderr)
      let notes = try JSONValue.parse(Array(copies.stdout.utf8))["notes"]?.arrayValue ?? []
      XCTAssertTrue(notes.contains { $0.stringValue?.contains("written as its own copy") ?? false })
      let shared = try TestFixtures.runCkpt(["convert", source, folder + "/v.pt"])
      XCTAssertEqual(shared.status, 0, shared.stderr)
      XCTAssertFalse(shared.stderr.contains("tied weights"), shared.stderr)
      XCTAssertEqual(try FormatRegistry.read(path: source).sharedTensors(), [["base", "alias"]])
    }
  }
}
