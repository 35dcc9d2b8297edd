import CheckpointCore
import CheckpointStorage
import CheckpointTestSupport
import XCTest

final class SafetensorsHeaderTests: XCTestCase {
  func testEveryMalformedFileIsRejectedWithKindTensorAndOffset() throws {
    let cases = try MalformedSafetensors.all()
    XCTAssertGreaterThanOrEqual(cases.count, 20)
    try TestFixtures.withTemporaryFolder { folder in
      for item in cases {
        let path = folder + "/" + item.name + ".safetensors"
        try TestFixtures.write(item.bytes, to: path)
        XCTAssertThrowsError(try FormatRegistry.read(path: path, format: "safetensors"), item.name) { error in
          guard let error = error as? CheckpointError else {
            return XCTFail("\(item.name): not a CheckpointError: \(error)")
          }
          XCTAssertEqual(error.kind, item.kind, "\(item.name): \(error)")
          XCTAssertTrue(error.message.contains(item.message), "\(item.name): \(error)")
          XCTAssertEqual(error.file, path, item.name)
          XCTAssertEqual(error.tensor, item.tensor, "\(item.name): \(error)")
          XCTAssertEqual(error.offset, item.offset, "\(item.name): \(error)")
        }
      }
    }
  }

  func testAcceptsWhatTheReferenceAccepts() throws {
    // Leading whitespace, extra padding spaces and newlines inside N, `__metadata__: null`
    // and `__metadata__` after the tensors all load in safetensors 0.8.0.
    let data: [UInt8] = [0, 0, 128, 63]
    let headers = [
      #" {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
      #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"# + "\n        ",
      #"{"__metadata__":null,"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
      #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"k":"v"}}"#,
      #"{"a":{"shape":[1],"data_offsets":[0,4],"dtype":"F32"}}"#,
    ]
    try TestFixtures.withTemporaryFolder { folder in
      for (index, header) in headers.enumerated() {
        let text = Array(header.utf8)
        let path = folder + "/\(index).safetensors"
        try TestFixtures.write(UInt64(text.count).littleEndianBytes + text + data, to: path)
        let checkpoint = try SafetensorsFormat.read(path: path)
        XCTAssertEqual(checkpoint.tensors.map(\.name), ["a"], header)
        XCTAssertEqual(try checkpoint["a"]?.load().array, data, header)
      }
    }
  }

  func testOffsetsNotInNameOrderAreSortedByOffset() throws {
    let header = Array(
      #"{"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]},"z":{"dtype":"U8","shape":[0],"data_offsets":[1,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        .utf8)
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/order.safetensors"
      try TestFixtures.write(UInt64(header.count).littleEndianBytes + header + [7, 8, 9], to: path)
      let checkpoint = try SafetensorsFormat.read(path: path)
      XCTAssertEqual(checkpoint.tensors.map(\.name), ["a", "z", "b"])
      XCTAssertEqual(try checkpoint["b"]?.load().array, [8, 9])
    }
  }

  func testReferenceDTypesCkptDoesNotHandleAreNamed() throws {
    let header = Array(#"{"c":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#.utf8)
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/c64.safetensors"
      try TestFixtures.write(
        UInt64(header.count).littleEndianBytes + header + [UInt8](repeating: 0, count: 8), to: path)
      XCTAssertThrowsError(try SafetensorsFormat.read(path: path)) { error in
        let error = error as? CheckpointError
        XCTAssertEqual(error?.kind, .unsupportedDType)
        XCTAssertEqual(error?.tensor, "c")
        XCTAssertTrue(error?.message.contains("C64 is valid safetensors") ?? false)
      }
    }
  }
}

final class SafetensorsMutationTests: XCTestCase {
  /// Flipped bytes and truncations of a library-written file either read (and
  /// load every tensor) or fail with a CheckpointError; never trap.
  func testMutatedFilesNeverCrash() throws {
    let original = try TestFixtures.bytes("safetensors/bf16.safetensors")
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next(_ bound: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(bound))
    }
    let replacements = Array("{}[]\",:0123456789-eE. \u{7F}".utf8) + [0x00, 0xFF, 0xC3]
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/m.safetensors"
      var outcomes = (read: 0, rejected: 0)
      for round in 0..<400 {
        var bytes = original
        if round % 5 == 0 {
          bytes.removeLast(next(bytes.count))
        } else {
          for _ in 0..<(1 + next(3)) {
            bytes[next(bytes.count)] = replacements[next(replacements.count)]
          }
        }
        try TestFixtures.write(bytes, to: path)
        do {
          let checkpoint = try SafetensorsFormat.read(path: path)
          for tensor in checkpoint.tensors { _ = try tensor.load() }
          outcomes.read += 1
        } catch is CheckpointError {
          outcomes.rejected += 1
        }
      }
      XCTAssertGreaterThan(outcomes.rejected, 200)
      XCTAssertGreaterThan(outcomes.read, 5)
    }
  }
}
