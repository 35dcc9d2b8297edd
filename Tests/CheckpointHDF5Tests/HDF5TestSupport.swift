import CheckpointCore
import CheckpointHDF5
import CheckpointTestSupport
import Foundation
import XCTest

/// What the fixture generator recorded for one tensor.
struct ExpectedTensor {
  var name: String
  var dtype: String
  var shape: [Int]
  var sha256: String
}

/// Fixtures/hdf5/expected.json: per file, its layout and tensors in reading order.
enum HDF5Expected {
  static func load() throws -> [(file: String, layout: String, tensors: [ExpectedTensor])] {
    let text = try String(contentsOfFile: TestFixtures.path("hdf5/expected.json"), encoding: .utf8)
    let json = try JSONValue.parse(Array(text.utf8))
    return try (json.objectValue ?? []).map { file, entry in
      let tensors = try (entry["tensors"]?.objectValue ?? []).map { name, value -> ExpectedTensor in
        guard let dtype = value["dtype"]?.stringValue, let digest = value["sha256"]?.stringValue,
          let shape = value["shape"]?.arrayValue?.compactMap(\.intValue)
        else { throw CheckpointError(.corrupt, "bad expected.json entry", tensor: name) }
        return ExpectedTensor(name: name, dtype: dtype, shape: shape, sha256: digest)
      }
      return (file, entry["layout"]?.stringValue ?? "", tensors)
    }
  }

  /// Runs the child-process probe through the `ckpt` built beside the tests.
  static func enableProbe() {
    HDF5Safety.probeCommand = [TestFixtures.ckptExecutable, "__hdf5-probe"]
  }
}

/// Asserts that `checkpoint` holds exactly `expected` (names, order, dtypes, shapes, bytes).
func assertTensors(
  _ checkpoint: Checkpoint, _ expected: [ExpectedTensor], ordered: Bool, file: StaticString = #filePath,
  line: UInt = #line
) throws {
  let names = checkpoint.tensors.map(\.name)
  if ordered {
    XCTAssertEqual(names, expected.map(\.name), file: file, line: line)
  } else {
    XCTAssertEqual(Set(names), Set(expected.map(\.name)), file: file, line: line)
  }
  for want in expected {
    guard let tensor = checkpoint[want.name] else { continue }
    XCTAssertEqual(tensor.shape, want.shape, want.name, file: file, line: line)
    XCTAssertEqual(tensor.dtype.name, want.dtype, want.name, file: file, line: line)
    XCTAssertEqual(SHA256Digest.hex(try tensor.load().array), want.sha256, want.name, file: file, line: line)
  }
}
