import CheckpointCore
import CheckpointStorage
import CheckpointTestSupport
import XCTest

final class NumPyCLITests: XCTestCase {
  func testConvertNpzToCompressedNpz() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/out.npz"
      let result = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("numpy/savez.npz"), out, "--compress", "zlib:6", "--json",
      ])
      XCTAssertEqual(result.status, 0, result.stderr)
      let report = try JSONValue.parse(Array(result.stdout.utf8))
      XCTAssertEqual(report["format"]?.stringValue, "npz")
      XCTAssertEqual(report["input_format"]?.stringValue, "npz")
      XCTAssertEqual(report["tensors"]?.intValue, 7)
      let source = try FormatRegistry.read(path: TestFixtures.path("numpy/savez.npz"))
      let copy = try FormatRegistry.read(path: out)
      XCTAssertEqual(copy.tensors.map(\.info), source.tensors.map(\.info))
      for (a, b) in zip(copy.tensors, source.tensors) { XCTAssertEqual(try a.load(), try b.load()) }
      XCTAssertTrue(copy.tensors.allSatisfy { $0.storedByteCount != nil })
    }
  }

  func testManyTensorsToNpyIsAClearError() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let result = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("numpy/savez.npz"), folder + "/x.npy",
      ])
      XCTAssertEqual(result.status, 1)
      XCTAssertTrue(result.stderr.contains("exactly one array"), result.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x.npy"))
    }
  }

  func testInspectNpy() throws {
    let result = try TestFixtures.runCkpt(["inspect", "--json", TestFixtures.path("numpy/fortran_3d.npy")])
    XCTAssertEqual(result.status, 0, result.stderr)
    let report = try JSONValue.parse(Array(result.stdout.utf8))
    XCTAssertEqual(report["format"]?.stringValue, "npy")
    let tensor = try XCTUnwrap(report["tensors"]?.arrayValue?.first)
    XCTAssertEqual(tensor["name"]?.stringValue, "fortran_3d")
    XCTAssertEqual(tensor["dtype"]?.stringValue, "I16")
    XCTAssertEqual(tensor["shape"]?.arrayValue?.compactMap(\.intValue), [2, 3, 4])
  }
}
