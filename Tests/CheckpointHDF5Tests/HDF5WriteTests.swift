import CheckpointCore
import CheckpointHDF5
import CheckpointStorage
import CheckpointTestSupport
import Foundation
import XCTest

/// Writing generic, Keras 2 and Keras 3 files and reading them back bit for bit.
final class HDF5WriteTests: XCTestCase {
  override func setUp() { HDF5Expected.enableProbe() }

  private func assertSameTensors(
    _ a: Checkpoint, _ b: Checkpoint, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    XCTAssertEqual(a.tensors.map(\.name), b.tensors.map(\.name), file: file, line: line)
    for (x, y) in zip(a.tensors, b.tensors) {
      XCTAssertEqual(x.dtype, y.dtype, x.name, file: file, line: line)
      XCTAssertEqual(x.shape, y.shape, x.name, file: file, line: line)
      XCTAssertEqual(try x.load(), try y.load(), x.name, file: file, line: line)
    }
  }

  func testGenericRoundTripKeepsTypesOrderAndMetadata() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let source = try HDF5Format.read(path: TestFixtures.path("hdf5/h5py_types.h5"))
      let out = folder + "/copy.hdf5"
      try HDF5Format.write(source, to: out, options: WriteOptions())
      let back = try HDF5Format.read(path: out)
      XCTAssertEqual(back.format, "hdf5")
      try assertSameTensors(source, back)
      XCTAssertEqual(back.metadata, source.metadata)
    }
  }

  func testCompressedWriteUsesShuffleAndGzipChunks() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let source = try HDF5Format.read(path: TestFixtures.path("hdf5/h5py_types.h5"))
      let out = folder + "/z.h5"
      try HDF5Format.write(source, to: out, options: WriteOptions(compression: .init(codec: .zlib, level: 9)))
      let back = try HDF5Format.read(path: out)
      try assertSameTensors(source, back)
      let tree = try HDF5Tree.read(path: out)
      let node = tree.node(at: "chunked/gzip_i16")?.dataset
      XCTAssertEqual(node?.layout, "chunked")
      XCTAssertEqual(node?.filters, ["shuffle", "gzip:9"])
      XCTAssertEqual(tree.node(at: "scalar/f32")?.dataset?.layout, "contiguous")
    }
  }

  func testKeras2WeightsRoundTrip() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for name in ["keras2_weights.h5", "keras2_model.h5"] {
        let source = try HDF5Format.read(path: TestFixtures.path("hdf5/" + name))
        let out = folder + "/" + name
        try HDF5Format.write(source, to: out, options: WriteOptions())
        let back = try HDF5Format.read(path: out)
        XCTAssertEqual(back.format, "keras", name)
        try assertSameTensors(source, back)
        XCTAssertEqual(back.metadata["backend"], "tensorflow")
        XCTAssertEqual(back.metadata["keras_version"], "2.21.0")
        XCTAssertNil(back.metadata["model_config"], "a weights file carries no model config")
        let tree = try HDF5Tree.read(path: out)
        XCTAssertEqual(
          tree.attribute("layer_names")?.stringList, ["embedding", "lstm", "gru", "bidirectional", "dense"])
        XCTAssertEqual(
          tree.child("lstm")?.attribute("weight_names")?.stringList,
          ["lstm/lstm_cell/kernel:0", "lstm/lstm_cell/recurrent_kernel:0", "lstm/lstm_cell/bias:0"])
      }
    }
  }

  func testKeras2FromMemorySplitsLongLayerNames() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let long = String(repeating: "y", count: 1000)
      var tensors: [Tensor] = []
      for index in 0..<70 {
        let value = Float(index).bitPattern.littleEndianBytes
        tensors.append(
          try Tensor(
            name: "\(long)\(index)/\(long)\(index)/bias:0", dtype: .f32, shape: [1], bytes: TensorBytes(value)
          ))
      }
      let checkpoint = try Checkpoint(tensors: tensors)
      let out = folder + "/split.h5"
      try Keras2Format.write(checkpoint, to: out, options: WriteOptions())
      let tree = try HDF5Tree.read(path: out)
      XCTAssertNil(tree.attribute("layer_names"))
      XCTAssertNotNil(tree.attribute("layer_names0"))
      XCTAssertNotNil(tree.attribute("layer_names1"))
      let back = try HDF5Format.read(path: out)
      XCTAssertEqual(back.format, "keras")
      try assertSameTensors(checkpoint, back)
    }
  }

  func testKeras3RoundTripIncludingBfloat16() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for name in ["keras3_hub.weights.h5", "keras3_bf16.weights.h5", "keras3_lstm_mha.weights.h5"] {
        let source = try HDF5Format.read(path: TestFixtures.path("hdf5/" + name))
        let out = folder + "/" + name
        try FormatRegistry.write(source, to: out, format: "keras3")
        let back = try HDF5Format.read(path: out)
        XCTAssertEqual(back.format, "keras3", name)
        try assertSameTensors(source, back)
      }
      let tree = try HDF5Tree.read(path: folder + "/keras3_bf16.weights.h5")
      XCTAssertEqual(tree.node(at: "layers/dense/vars/0")?.attribute("dtype"), .string("bfloat16"))
      XCTAssertEqual(
        tree.node(at: "layers/dense/vars/0")?.dataset?.typeDescription, "opaque 2 bytes (bfloat16)")
    }
  }

  func testLayoutsRefuseForeignNames() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let checkpoint = try Checkpoint(tensors: [
        try Tensor(name: "encoder.weight", dtype: .f32, shape: [1], bytes: TensorBytes([0, 0, 128, 63]))
      ])
      for (format, path) in [("keras", "/k2.h5"), ("keras3", "/k3.weights.h5")] {
        XCTAssertThrowsError(try FormatRegistry.write(checkpoint, to: folder + path, format: format)) {
          error in
          XCTAssertEqual((error as? CheckpointError)?.kind, .invalidArgument)
          XCTAssertEqual((error as? CheckpointError)?.tensor, "encoder.weight")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + path))
      }
      // Generic HDF5 takes any name.
      try HDF5Format.write(checkpoint, to: folder + "/any.h5", options: WriteOptions())
      XCTAssertEqual(try HDF5Format.read(path: folder + "/any.h5").tensors.map(\.name), ["encoder.weight"])
    }
  }

  func testFailuresLeaveNoFile() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let conflict = try Checkpoint(tensors: [
        try Tensor(name: "a", dtype: .u8, shape: [1], bytes: TensorBytes([1])),
        try Tensor(name: "a/b", dtype: .u8, shape: [1], bytes: TensorBytes([2])),
      ])
      XCTAssertThrowsError(try HDF5Format.write(conflict, to: folder + "/c.h5", options: WriteOptions()))
      let quantized = try Checkpoint(tensors: [
        try Tensor(name: "q", dtype: .q8_0, shape: [32], bytes: TensorBytes([UInt8](repeating: 0, count: 34)))
      ])
      XCTAssertThrowsError(try HDF5Format.write(quantized, to: folder + "/q.h5", options: WriteOptions())) {
        XCTAssertEqual(($0 as? CheckpointError)?.kind, .unsupportedDType)
      }
      let keras3 = try HDF5Format.read(path: TestFixtures.path("hdf5/keras3_bf16.weights.h5"))
      XCTAssertThrowsError(
        try Keras3Format.write(
          keras3, to: folder + "/z.weights.h5",
          options: WriteOptions(compression: .init(codec: .zlib, level: 6))))
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }
  }
}
