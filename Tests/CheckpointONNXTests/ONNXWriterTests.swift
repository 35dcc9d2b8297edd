import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import Foundation
import XCTest

@testable import CheckpointONNX

/// Writing `.onnx`: initializers inline or in a side file, read back bit for bit.
final class ONNXWriterTests: XCTestCase {
  func assertSameTensors(_ a: Checkpoint, _ b: Checkpoint, file: StaticString = #filePath, line: UInt = #line)
    throws
  {
    XCTAssertEqual(a.tensors.map(\.info), b.tensors.map(\.info), file: file, line: line)
    for (x, y) in zip(a.tensors, b.tensors) {
      XCTAssertEqual(try x.load(), try y.load(), x.name, file: file, line: line)
    }
  }

  func testEveryFixtureRoundTripsThroughOurWriter() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for model in ONNXReaderTests.models {
        let original = try FormatRegistry.read(path: TestFixtures.path("onnx/\(model).onnx"))
        let out = folder + "/out.onnx"
        try FormatRegistry.write(original, to: out)
        let back = try FormatRegistry.read(path: out)
        try assertSameTensors(original, back)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".data"), model)
        XCTAssertEqual(
          FormatRegistry.userMetadata(of: back), FormatRegistry.userMetadata(of: original), model)
        XCTAssertEqual(back.metadata["onnx.producer_name"], "ckpt")
        XCTAssertEqual(back.metadata["onnx.opset_import"], #"{"ai.onnx":17}"#)
        XCTAssertEqual(
          back.metadata["onnx.graph"],
          #"{"name":"ckpt","inputs":[],"outputs":[],"nodes":0,"ops":{},"initializers":\#(original.tensors.count)}"#
        )
      }
    }
  }

  func testTensorsAboveTheThresholdGoToTheSideFile() throws {
    let original = try FormatRegistry.read(path: TestFixtures.path("onnx/typed.onnx"))
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/w.onnx"
      try FormatRegistry.write(original, to: out, options: WriteOptions(externalDataThreshold: 20))
      let side = try TestFixtures.bytesAt(out + ".data")
      let back = try FormatRegistry.read(path: out)
      try assertSameTensors(original, back)
      // 48 + 40 + 32 + 24 bytes at 64-byte boundaries, twice: raw and typed.
      let big = original.tensors.filter { $0.byteCount >= 20 }
      XCTAssertEqual(big.count, 8)
      XCTAssertEqual(side.count, 64 * 7 + 24)
      XCTAssertLessThan(try TestFixtures.bytesAt(out).count, 1200)
      // The folder can move: locations are relative.
      try FileManager.default.createDirectory(atPath: folder + "/moved", withIntermediateDirectories: true)
      for name in ["w.onnx", "w.onnx.data"] {
        try FileManager.default.moveItem(atPath: folder + "/" + name, toPath: folder + "/moved/" + name)
      }
      try assertSameTensors(original, try FormatRegistry.read(path: folder + "/moved/w.onnx"))
    }
  }

  func testUnwritableCheckpointsAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let q = try Tensor(
        name: "q", dtype: .q8_0, shape: [32], bytes: TensorBytes([UInt8](repeating: 0, count: 34)))
      XCTAssertThrowsError(try FormatRegistry.write(try Checkpoint(tensors: [q]), to: folder + "/q.onnx")) {
        XCTAssertEqual(($0 as? CheckpointError)?.kind, .unsupportedDType)
        XCTAssertEqual(($0 as? CheckpointError)?.tensor, "q")
      }
      let w = try Tensor(name: "w", dtype: .f32, shape: [1], bytes: TensorBytes([0, 0, 0, 0]))
      XCTAssertThrowsError(
        try FormatRegistry.write(
          try Checkpoint(tensors: [w]), to: folder + "/s.onnx", options: WriteOptions(shardSize: 10)))
      XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/q.onnx"))
    }
  }

  /// A model over protobuf's 2 GiB limit cannot be inline: the plan moves its tensors out. Planned
  /// only (no bytes are loaded), with tensors whose loaders are never called.
  func testTheDefaultPlanKeepsBigModelsUnderTheProtobufLimit() throws {
    let big = (0..<3).map { index in
      Tensor(info: TensorInfo(name: "w\(index)", dtype: .f32, shape: [200_000_000]), byteCount: 800_000_000) {
        throw CheckpointError(.io, "not loaded in this test")
      }
    }
    let small = try Tensor(
      name: "b", dtype: .f32, shape: [2], bytes: TensorBytes([UInt8](repeating: 0, count: 8)))
    let checkpoint = try Checkpoint(tensors: big + [small])
    let plan = try ONNXWriter.plan(checkpoint, options: WriteOptions(), location: "x.data")
    XCTAssertEqual(plan.map { $0.externalOffset != nil }, [true, true, true, false])
    XCTAssertEqual(plan.compactMap(\.externalOffset), [0, 800_000_000, 1_600_000_000])
    let inline = try ONNXWriter.plan(
      try Checkpoint(tensors: [small]), options: WriteOptions(), location: "x.data")
    XCTAssertEqual(inline.map { $0.externalOffset }, [nil])
  }
}
