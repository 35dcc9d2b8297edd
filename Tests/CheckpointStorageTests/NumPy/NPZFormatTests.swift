import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

final class NPZFormatTests: XCTestCase {
  private typealias Support = NumPyTestSupport

  /// np.savez, np.savez_compressed, an empty, a zip64 and a streamed (data descriptor) archive read in
  /// archive order with exact bytes.
  func testReadsNumpyArchivesExactly() throws {
    let expected = try Support.expected().filter { $0.value.kind == "npz" }
    XCTAssertEqual(
      Set(expected.keys), ["savez.npz", "savez_compressed.npz", "empty.npz", "zip64.npz", "streamed.npz"])
    for (file, description) in expected {
      let path = TestFixtures.path("numpy/" + file)
      XCTAssertEqual(try FormatRegistry.detect(path: path).identifier, "npz", file)
      let checkpoint = try FormatRegistry.read(path: path)
      XCTAssertEqual(checkpoint.format, "npz")
      XCTAssertEqual(checkpoint.tensors.map(\.name), description.order, file)
      for tensor in checkpoint.tensors {
        let array = try XCTUnwrap(description.arrays[tensor.name])
        XCTAssertEqual(tensor.dtype.name, array.dtype, "\(file) \(tensor.name)")
        XCTAssertEqual(tensor.shape, array.shape, "\(file) \(tensor.name)")
        XCTAssertEqual(try tensor.load().array, array.bytes, "\(file) \(tensor.name)")
        XCTAssertEqual(tensor.storedByteCount != nil, file != "savez.npz", "\(file) \(tensor.name)")
      }
    }
    let savez = try FormatRegistry.read(path: TestFixtures.path("numpy/savez.npz"))
    XCTAssertNotNil(savez["layer/bias"])
    XCTAssertEqual(savez["steps"]?.shape, [])
    XCTAssertEqual(Support.elements(try XCTUnwrap(savez["steps"]).load(), as: UInt64.self), [1234])
  }

  /// Stored and deflated round trips are bit-exact, entries as asked, stored data 64-byte aligned.
  func testRoundTripsStoredAndDeflated() throws {
    let source = try FormatRegistry.read(path: TestFixtures.path("numpy/savez_compressed.npz"))
    let settings: [(CompressionSetting?, ZipMethod)] = [
      (nil, .stored), (CompressionSetting.none, .stored),
      (CompressionSetting(codec: .zlib, level: 6), .deflate(level: 6)),
      (CompressionSetting(codec: .zlib, level: 9), .deflate(level: 9)),
      (CompressionSetting(codec: .zlib, level: 1), .deflate(level: 1)),
    ]
    try TestFixtures.withTemporaryFolder { folder in
      for (compression, method) in settings {
        let path = folder + "/out.npz"
        try FormatRegistry.write(source, to: path, options: WriteOptions(compression: compression))
        let archive = try ZipReader(path: path)
        XCTAssertEqual(archive.entries.map(\.name), source.tensors.map { $0.name + ".npy" })
        for entry in archive.entries {
          XCTAssertEqual(entry.method, method, "\(String(describing: compression))")
          if method == .stored {
            let header = try NPYHeader(parsing: try archive.read(entry).array)
            XCTAssertEqual((entry.dataOffset + header.size) % 64, 0, entry.name)
          }
        }
        let copy = try FormatRegistry.read(path: path)
        XCTAssertEqual(copy.tensors.map(\.info), source.tensors.map(\.info))
        for (a, b) in zip(copy.tensors, source.tensors) {
          XCTAssertEqual(try a.load(), try b.load(), a.name)
        }
        // Same input, same bytes.
        let first = try TestFixtures.bytesAt(path)
        try FormatRegistry.write(source, to: path, options: WriteOptions(compression: compression))
        XCTAssertEqual(try TestFixtures.bytesAt(path), first)
      }
    }
  }

  /// An empty checkpoint writes the same 22 bytes np.savez() writes.
  func testEmptyArchiveMatchesNumpy() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/empty.npz"
      try NPZFormat.write(try Checkpoint(tensors: []), to: path, options: WriteOptions())
      XCTAssertEqual(try TestFixtures.bytesAt(path), try TestFixtures.bytes("numpy/empty.npz"))
    }
  }

  /// .npy converts to .npz under the file's stem, BF16 as <V2.
  func testNpyToNpz() throws {
    let source = try FormatRegistry.read(path: TestFixtures.path("numpy/bf16.npy"))
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/bf16.npz"
      try FormatRegistry.write(source, to: path)
      let archive = try ZipReader(path: path)
      XCTAssertEqual(archive.entries.map(\.name), ["bf16.npy"])
      let entryBytes = try archive.read(archive.entries[0]).array
      XCTAssertEqual(try NPYHeader(parsing: entryBytes).descr, "<V2")
      let copy = try FormatRegistry.read(path: path)
      XCTAssertEqual(copy["bf16"]?.dtype, .bf16)
      XCTAssertEqual(try copy["bf16"]?.load(), try source.tensors[0].load())
    }
  }

  func testDetectionClaimsOnlyNumpyZips() throws {
    XCTAssertTrue(NPZFormat.matches(prefix: try TestFixtures.bytes("numpy/savez.npz").prefix(64).map { $0 }))
    XCTAssertTrue(NPZFormat.matches(prefix: try TestFixtures.bytes("numpy/empty.npz")))
    XCTAssertFalse(NPZFormat.matches(prefix: try TestFixtures.bytes("numpy/f4.npy")))
    XCTAssertFalse(NPYFormat.matches(prefix: try TestFixtures.bytes("numpy/savez.npz")))
    try TestFixtures.withTemporaryFolder { folder in
      // A zip that looks like a PyTorch checkpoint is not claimed by magic...
      let torchLike = try ZipTestArchives.make(folder + "/model.bin") { zip in
        try zip.add(name: "archive/data.pkl", bytes: [0x80, 0x02, 0x7D, 0x71, 0x00, 0x2E])
        try zip.add(name: "archive/data/0", bytes: [UInt8](repeating: 1, count: 16), alignment: 64)
      }
      XCTAssertFalse(NPZFormat.matches(prefix: Array(try TestFixtures.bytesAt(torchLike).prefix(64))))
      // ...and named .npz, reading it names the offending entry.
      let renamed = folder + "/model.npz"
      try FileManager.default.moveItem(atPath: torchLike, toPath: renamed)
      XCTAssertEqual(try FormatRegistry.detect(path: renamed).identifier, "npz")
      Support.assertError(.badFormat, containing: "entry 'archive/data.pkl' is not a .npy array") {
        try FormatRegistry.read(path: renamed)
      }
    }
  }

  func testFailedWriteLeavesNoFile() throws {
    let good = try Tensor(
      name: "a", dtype: .f32, shape: [2], bytes: TensorBytes([UInt8](repeating: 7, count: 8)))
    let failing = Tensor(info: TensorInfo(name: "b", dtype: .f32, shape: [2]), byteCount: 8) {
      throw CheckpointError(.io, "disk on fire")
    }
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/x.npz"
      let error = Support.assertError(.io) {
        try FormatRegistry.write(try Checkpoint(tensors: [good, failing]), to: path)
      }
      XCTAssertEqual(error?.tensor, "b")
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }
  }
}
