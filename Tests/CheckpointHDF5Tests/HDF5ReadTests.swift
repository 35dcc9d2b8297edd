import CheckpointCore
import CheckpointHDF5
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// Reading the files h5py, tf_keras and Keras 3 wrote, value for value.
final class HDF5ReadTests: XCTestCase {
  override func setUp() { HDF5Expected.enableProbe() }

  func testEveryFixtureReadsWithExactValues() throws {
    let fixtures = try HDF5Expected.load()
    XCTAssertEqual(fixtures.count, 8)
    for fixture in fixtures {
      let checkpoint = try HDF5Format.read(path: TestFixtures.path("hdf5/" + fixture.file))
      let format = ["keras2": "keras", "keras3": "keras3"][fixture.layout] ?? "hdf5"
      XCTAssertEqual(checkpoint.format, format, fixture.file)
      try assertTensors(checkpoint, fixture.tensors, ordered: fixture.layout == "keras2")
    }
  }

  func testH5pyTypesAndAttributes() throws {
    let checkpoint = try HDF5Format.read(path: TestFixtures.path("hdf5/h5py_types.h5"))
    XCTAssertEqual(checkpoint["big_endian/i8"]?.dtype, .i64)
    XCTAssertEqual(checkpoint["plain/f16"]?.dtype, .f16)
    XCTAssertEqual(checkpoint["scalar/f32"]?.shape, [])
    XCTAssertEqual(checkpoint["empty/f32"]?.shape, [0, 3])
    XCTAssertEqual(checkpoint["bool"]?.dtype, .bool)
    XCTAssertNil(checkpoint["strings"], "string datasets are not tensors")
    // Big-endian i8 [[1, -2], [3 << 40, -(5 << 33)]] arrives little-endian.
    let values = try checkpoint["big_endian/i8"]!.load().array
    let decoded = stride(from: 0, to: values.count, by: 8).map { offset in
      values[offset..<offset + 8].reversed().reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }
    XCTAssertEqual(decoded, [1, -2, 3 << 40, -(5 << 33)])
    let scalar = try checkpoint["scalar/f32"]!.load().array
    XCTAssertEqual(
      Float(bitPattern: scalar.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }),
      3.25)
    XCTAssertEqual(checkpoint.metadata["title"], "fixed string")
    XCTAssertEqual(checkpoint.metadata["comment"], "variable length \u{e9}")
    XCTAssertEqual(checkpoint.metadata["names_fixed"], #"["alpha","be"]"#)
    XCTAssertEqual(checkpoint.metadata["names_vlen"], #"["x","yz"]"#)
    XCTAssertEqual(checkpoint.metadata["count"], "42")
    XCTAssertNotNil(checkpoint["chunked/gzip_shuffle_fletcher32"]?.storedByteCount)
  }

  func testKeras2FullModelKeepsConfigAsMetadata() throws {
    let checkpoint = try HDF5Format.read(path: TestFixtures.path("hdf5/keras2_model.h5"))
    XCTAssertEqual(checkpoint.format, "keras")
    XCTAssertEqual(checkpoint.tensors.first?.name, "embedding/embedding/embeddings:0")
    XCTAssertEqual(checkpoint.metadata["backend"], "tensorflow")
    XCTAssertEqual(checkpoint.metadata["keras_version"], "2.21.0")
    XCTAssertTrue(checkpoint.metadata["model_config"]?.hasPrefix(#"{"class_name": "Sequential""#) ?? false)
    XCTAssertNil(checkpoint.metadata["layer_names"])
  }

  func testKeras2SplitLayerNames() throws {
    let checkpoint = try HDF5Format.read(path: TestFixtures.path("hdf5/keras2_split_names.h5"))
    XCTAssertEqual(checkpoint.tensors.map(\.name), ["head/head/kernel:0", "head/head/bias:0"])
    XCTAssertNil(checkpoint.metadata["layer_names0"])
  }

  func testKeras3Bfloat16IsOpaqueWithDtypeAttribute() throws {
    let checkpoint = try HDF5Format.read(path: TestFixtures.path("hdf5/keras3_bf16.weights.h5"))
    XCTAssertEqual(checkpoint.format, "keras3")
    XCTAssertEqual(checkpoint.tensors.map(\.dtype), [.bf16, .bf16, .bf16, .bf16])
    XCTAssertEqual(checkpoint.tensors.map(\.name).first, "layers/dense/vars/0")
  }

  func testKeras3VariablesInNumericOrder() throws {
    let checkpoint = try HDF5Format.read(path: TestFixtures.path("hdf5/keras3_hub.weights.h5"))
    let names = checkpoint.tensors.map(\.name)
    XCTAssertTrue(names.contains { $0.contains("_self_attention_layer/") }, "\(names)")
    for (a, b) in zip(names, names.dropFirst()) where a.hasPrefix(prefix(b)) && prefix(a) == prefix(b) {
      XCTAssertLessThan(Int(a.split(separator: "/").last!)!, Int(b.split(separator: "/").last!)!)
    }
  }

  private func prefix(_ name: String) -> String {
    String(name[..<(name.lastIndex(of: "/") ?? name.endIndex)])
  }

  func testRegistryDetectsBySignatureAndExtension() throws {
    FormatRegistry.register(HDF5Formats.all)
    XCTAssertEqual(
      try FormatRegistry.detect(path: TestFixtures.path("hdf5/keras2_weights.h5")).identifier, "hdf5")
    // A user block hides the signature from the 64-byte prefix: the extension decides.
    XCTAssertEqual(
      try FormatRegistry.detect(path: TestFixtures.path("hdf5/h5py_userblock.h5")).identifier, "hdf5")
    XCTAssertEqual(FormatRegistry.format(forExtensionOf: "model.weights.h5")?.identifier, "keras3")
    XCTAssertEqual(FormatRegistry.format(forExtensionOf: "model.h5")?.identifier, "hdf5")
  }
}
