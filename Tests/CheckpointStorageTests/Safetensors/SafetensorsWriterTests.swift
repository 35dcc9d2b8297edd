import CheckpointCore
import CheckpointStorage
import CheckpointTestSupport
import XCTest

final class SafetensorsWriterTests: XCTestCase {
  /// Records progress calls.
  final class Recorder: ProgressReporter, @unchecked Sendable {
    var events: [String] = []
    var advanced = 0
    func begin(label: String, totalBytes: Int) { events.append("begin \(totalBytes)") }
    func advance(bytes: Int) { advanced += bytes }
    func end() { events.append("end") }
  }

  func testRewritingLibraryFilesIsByteIdentical() throws {
    for name in ["dtypes.safetensors", "bf16.safetensors"] {
      try TestFixtures.withTemporaryFolder { folder in
        let original = try TestFixtures.bytes("safetensors/" + name)
        let checkpoint = try SafetensorsFormat.read(path: TestFixtures.path("safetensors/" + name))
        let out = folder + "/" + name
        try SafetensorsFormat.write(checkpoint, to: out, options: .init())
        XCTAssertEqual(try TestFixtures.bytesAt(out), original, name)
      }
    }
  }

  func testWriterSortsLikeTheLibraryWhateverTheInputOrder() throws {
    let original = try TestFixtures.bytes("safetensors/dtypes.safetensors")
    let read = try SafetensorsFormat.read(path: TestFixtures.path("safetensors/dtypes.safetensors"))
    // Rebuild the checkpoint in memory, in reverse and in name order.
    for order in [read.tensors.reversed(), read.tensors.sorted { $0.name < $1.name }] {
      let tensors = try order.map { tensor in
        try Tensor(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, bytes: tensor.load())
      }
      try TestFixtures.withTemporaryFolder { folder in
        let out = folder + "/copy.safetensors"
        try SafetensorsFormat.write(try Checkpoint(tensors: tensors), to: out, options: .init())
        XCTAssertEqual(try TestFixtures.bytesAt(out), original)
      }
    }
  }

  func testMultipleMetadataKeysRoundTripAndSortByKey() throws {
    // The library writes several metadata keys in random hash order; ckpt sorts them,
    // so the comparison is by content: same metadata, same tensors, same data bytes.
    let path = TestFixtures.path("safetensors/metadata.safetensors")
    let original = try SafetensorsFormat.read(path: path)
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/m.safetensors"
      try SafetensorsFormat.write(original, to: out, options: .init())
      let copy = try SafetensorsFormat.read(path: out)
      XCTAssertEqual(copy.metadata, original.metadata)
      XCTAssertEqual(try copy["w"]?.load(), try original["w"]?.load())
      let written = try TestFixtures.bytesAt(out)
      let source = try TestFixtures.bytes("safetensors/metadata.safetensors")
      XCTAssertEqual(written.count, source.count)
      XCTAssertEqual(Array(written.suffix(24)), Array(source.suffix(24)))
      let text = String(decoding: written[8..<written.count - 24], as: UTF8.self)
      XCTAssertTrue(
        text.hasPrefix(
          #"{"__metadata__":{"author":"CheckpointKit \"fixtures\"","format":"np","note":"line1\nline2 é"},"w":"#
        ),
        text)
    }
  }

  func testPlannedHeaderOrdersDTypesLikeTheLibrary() throws {
    // The order safetensors 0.8.0 wrote for one tensor of each dtype (checked with the library).
    let libraryOrder: [DType] = [
      .u64, .i64, .f64, .f32, .u32, .i32, .bf16, .f16, .u16, .i16, .f8e4m3, .f8e5m2, .i8, .u8, .bool,
    ]
    let infos = DType.allCases.filter { !$0.isBlockQuantized }.map {
      TensorInfo(name: "t_" + $0.name, dtype: $0, shape: [1])
    }
    let (header, text) = try SafetensorsHeader.planned(for: infos, metadata: [:])
    XCTAssertEqual(header.entries.map(\.info.dtype), libraryOrder)
    XCTAssertEqual(text.count % 8, 0)
    XCTAssertEqual(header.length, text.count)
  }

  func testEmptyCheckpointMatchesTheLibrary() throws {
    // safetensors.numpy.save({}) is b'\x08\0\0\0\0\0\0\0{}      ' (tensor.rs test_empty).
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/empty.safetensors"
      try SafetensorsFormat.write(try Checkpoint(tensors: []), to: out, options: .init())
      XCTAssertEqual(try TestFixtures.bytesAt(out), [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
      XCTAssertEqual(try SafetensorsFormat.read(path: out).tensors.count, 0)
    }
  }

  func testProgressCoversEveryByte() throws {
    let checkpoint = try SafetensorsFormat.read(path: TestFixtures.path("safetensors/dtypes.safetensors"))
    let recorder = Recorder()
    try TestFixtures.withTemporaryFolder { folder in
      try SafetensorsFormat.write(
        checkpoint, to: folder + "/p.safetensors", options: .init(progress: recorder))
    }
    XCTAssertEqual(recorder.events, ["begin \(checkpoint.byteCount)", "end"])
    XCTAssertEqual(recorder.advanced, checkpoint.byteCount)
  }

  func testRefusesWhatSafetensorsCannotStore() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let q8 = Tensor(info: TensorInfo(name: "q", dtype: .q8_0, shape: [32]), byteCount: 34) {
        TensorBytes([UInt8](repeating: 0, count: 34))
      }
      XCTAssertThrowsError(
        try SafetensorsFormat.write(
          try Checkpoint(tensors: [q8]), to: folder + "/q.safetensors", options: .init())
      ) { error in
        XCTAssertEqual((error as? CheckpointError)?.kind, .unsupportedDType)
        XCTAssertEqual((error as? CheckpointError)?.tensor, "q")
      }
      let reserved = try Tensor(name: "__metadata__", dtype: .u8, shape: [1], bytes: TensorBytes([1]))
      XCTAssertThrowsError(
        try SafetensorsFormat.write(
          try Checkpoint(tensors: [reserved]), to: folder + "/r.safetensors", options: .init())
      ) { error in
        XCTAssertEqual((error as? CheckpointError)?.kind, .invalidArgument)
      }
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }
  }

  func testShardSizeOnAPlainFileIsAClearError() throws {
    let checkpoint = try SafetensorsFormat.read(path: TestFixtures.path("safetensors/bf16.safetensors"))
    try TestFixtures.withTemporaryFolder { folder in
      XCTAssertThrowsError(
        try SafetensorsFormat.write(checkpoint, to: folder + "/x.safetensors", options: .init(shardSize: 100))
      ) { error in
        XCTAssertEqual((error as? CheckpointError)?.kind, .invalidArgument)
        XCTAssertTrue("\(error)".contains("model.safetensors.index.json"), "\(error)")
      }
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }
  }

  func testAFailingLoadLeavesNoFile() throws {
    struct Boom: Error {}
    let good = try Tensor(name: "a", dtype: .f32, shape: [1], bytes: TensorBytes([0, 0, 128, 63]))
    let bad = Tensor(info: TensorInfo(name: "b", dtype: .f32, shape: [1]), byteCount: 4) { throw Boom() }
    try TestFixtures.withTemporaryFolder { folder in
      XCTAssertThrowsError(
        try SafetensorsFormat.write(
          try Checkpoint(tensors: [good, bad]), to: folder + "/f.safetensors", options: .init()))
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }
  }
}
