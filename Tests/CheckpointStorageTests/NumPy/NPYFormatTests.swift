import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

final class NPYFormatTests: XCTestCase {
  private typealias Support = NumPyTestSupport

  /// Every .npy numpy wrote reads with numpy's dtype, shape and exact C-order little-endian bytes.
  func testReadsEveryNumpyFileExactly() throws {
    let expected = try Support.expected().filter { $0.value.kind == "npy" }
    XCTAssertGreaterThanOrEqual(expected.count, 25)
    for (file, description) in expected {
      let path = TestFixtures.path("numpy/" + file)
      XCTAssertEqual(try FormatRegistry.detect(path: path).identifier, "npy", file)
      let checkpoint = try FormatRegistry.read(path: path)
      XCTAssertEqual(checkpoint.format, "npy")
      XCTAssertEqual(checkpoint.tensors.count, 1, file)
      let (name, array) = try XCTUnwrap(description.arrays.first)
      let tensor = try XCTUnwrap(checkpoint.tensors.first)
      XCTAssertEqual(tensor.name, name, file)
      XCTAssertEqual(tensor.dtype.name, array.dtype, file)
      XCTAssertEqual(tensor.shape, array.shape, file)
      XCTAssertEqual(try tensor.load().array, array.bytes, file)
    }
  }

  /// Big-endian values are swapped and Fortran-order arrays transposed, values preserved.
  func testSwappedAndFortranValues() throws {
    let expected = try Support.expected()
    func floats(_ file: String) throws -> [Float] {
      let tensor = try XCTUnwrap(try NPYFormat.read(path: TestFixtures.path("numpy/" + file)).tensors.first)
      return Support.elements(try tensor.load(), as: UInt32.self).map(Float.init(bitPattern:))
    }
    let beValues = try XCTUnwrap(expected["be_f4.npy"]?.arrays["be_f4"]?.values).compactMap(Support.double)
    XCTAssertEqual(try floats("be_f4.npy"), beValues.map(Float.init))
    XCTAssertEqual(try floats("be_f4.npy"), [-1.875, -1.25, -0.625, 0, 0.625, 1.25])
    XCTAssertEqual(try floats("fortran_2d.npy"), try floats("f4.npy"))

    let fortran = try XCTUnwrap(
      try NPYFormat.read(path: TestFixtures.path("numpy/fortran_3d.npy")).tensors.first)
    let ints = Support.elements(try fortran.load(), as: UInt16.self).map { Int(Int16(bitPattern: $0)) }
    let expectedInts = try XCTUnwrap(expected["fortran_3d.npy"]?.arrays["fortran_3d"]?.values).compactMap(
      \.intValue)
    XCTAssertEqual(ints, expectedInts)
    XCTAssertEqual(Array(ints.prefix(3)), [-32768, -13, 24])

    let big = try XCTUnwrap(try NPYFormat.read(path: TestFixtures.path("numpy/be_i8.npy")).tensors.first)
    let int64s = Support.elements(try big.load(), as: UInt64.self).map { Int64(bitPattern: $0) }
    XCTAssertEqual(int64s, [Int64.min, -13, 24, Int64.max])
  }

  func testVersionsAndSpecialShapes() throws {
    for (file, major) in [("f4.npy", 1), ("v2.npy", 2), ("v3.npy", 3)] {
      let bytes = try TestFixtures.bytes("numpy/" + file)
      let header = try NPYHeader(parsing: bytes)
      XCTAssertEqual(Int(header.majorVersion), major)
    }
    let scalar = try XCTUnwrap(try NPYFormat.read(path: TestFixtures.path("numpy/scalar.npy")).tensors.first)
    XCTAssertEqual(scalar.shape, [])
    XCTAssertEqual(Support.elements(try scalar.load(), as: UInt64.self).map(Double.init(bitPattern:)), [2.5])
    let empty = try XCTUnwrap(try NPYFormat.read(path: TestFixtures.path("numpy/empty.npy")).tensors.first)
    XCTAssertEqual(empty.shape, [0, 3])
    XCTAssertEqual(try empty.load().count, 0)
  }

  /// Written files equal numpy's own byte for byte (header and data) for C-order little-endian arrays.
  func testWritesNumpyIdenticalFiles() throws {
    let files = [
      "f8", "f4", "f2", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1", "b1", "scalar", "scalar_i4", "empty",
      "vector", "bf16",
    ]
    try TestFixtures.withTemporaryFolder { folder in
      for name in files {
        let source = try NPYFormat.read(path: TestFixtures.path("numpy/\(name).npy"))
        let out = folder + "/\(name).npy"
        try FormatRegistry.write(source, to: out)
        XCTAssertEqual(
          try TestFixtures.bytesAt(out), try TestFixtures.bytes("numpy/\(name).npy"),
          "\(name).npy differs from numpy's")
      }
    }
  }

  /// Headers for shapes numpy did not write in the fixtures, against numpy's rules.
  func testHeaderEncodingRules() throws {
    let header = try NPYHeader.encode(descr: "<f4", fortranOrder: false, shape: [2, 3])
    let text = String(decoding: header[10...], as: UTF8.self)
    XCTAssertTrue(text.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
    XCTAssertEqual(header.count % 64, 0)
    XCTAssertEqual(header.last, 0x0A)
    // 64 dimensions still fit version 1.0.
    let wide = try NPYHeader.encode(
      descr: "<f4", fortranOrder: false, shape: Array(repeating: 123_456_789, count: 64))
    XCTAssertEqual(wide[6], 1)
    let parsed = try NPYHeader(parsing: wide)
    XCTAssertEqual(parsed.shape, Array(repeating: 123_456_789, count: 64))
    XCTAssertEqual(parsed.size, wide.count)
  }

  func testWriteRefusesWhatNumpyCannotHold() throws {
    let bytes = TensorBytes([UInt8](repeating: 0, count: 34))
    for dtype in [DType.f8e4m3, .f8e5m2] {
      let tensor = try Tensor(name: "w", dtype: dtype, shape: [34], bytes: bytes)
      try TestFixtures.withTemporaryFolder { folder in
        let error = Support.assertError(.unsupportedDType) {
          try FormatRegistry.write(try Checkpoint(tensors: [tensor]), to: folder + "/x.npy")
        }
        XCTAssertEqual(error?.tensor, "w")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x.npy"))
      }
    }
    for dtype in [DType.q8_0, .q4_0] {
      let tensor = try Tensor(
        name: "blocks", dtype: dtype, shape: [32],
        bytes: TensorBytes([UInt8](repeating: 0, count: dtype.blockBytes)))
      try TestFixtures.withTemporaryFolder { folder in
        let error = Support.assertError(.unsupportedDType) {
          try FormatRegistry.write(try Checkpoint(tensors: [tensor]), to: folder + "/x.npz")
        }
        XCTAssertEqual(error?.tensor, "blocks")
      }
    }
    let a = try Tensor(name: "a", dtype: .u8, shape: [1], bytes: TensorBytes([1]))
    let b = try Tensor(name: "b", dtype: .u8, shape: [1], bytes: TensorBytes([2]))
    try TestFixtures.withTemporaryFolder { folder in
      _ = Support.assertError(.invalidArgument, containing: "exactly one array") {
        try FormatRegistry.write(try Checkpoint(tensors: [a, b]), to: folder + "/x.npy")
      }
    }
  }

  func testRefusesShardingAndCompression() throws {
    let tensor = try Tensor(name: "a", dtype: .u8, shape: [1], bytes: TensorBytes([1]))
    let checkpoint = try Checkpoint(tensors: [tensor])
    try TestFixtures.withTemporaryFolder { folder in
      for name in ["x.npy", "x.npz"] {
        _ = Support.assertError(.invalidArgument, containing: "not sharded") {
          try FormatRegistry.write(
            checkpoint, to: folder + "/" + name, options: WriteOptions(shardSize: 1000))
        }
      }
      _ = Support.assertError(.invalidArgument, containing: "not compressed") {
        try FormatRegistry.write(
          checkpoint, to: folder + "/x.npy",
          options: WriteOptions(compression: CompressionSetting(codec: .zlib, level: 6)))
      }
      try FormatRegistry.write(
        checkpoint, to: folder + "/x.npy", options: WriteOptions(compression: CompressionSetting.none))
      XCTAssertEqual(try FormatRegistry.read(path: folder + "/x.npy").tensors.map(\.name), ["x"])
    }
  }

  func testStemNaming() {
    XCTAssertEqual(NPYFormat.stem(of: "/a/b/weights.npy"), "weights")
    XCTAssertEqual(NPYFormat.stem(of: "model.layer.0.NPY"), "model.layer.0")
    XCTAssertEqual(NPYFormat.stem(of: "plain"), "plain")
  }

  /// A large C-order array is memory-mapped and still exact.
  func testLargeArrayRoundTrip() throws {
    let count = 1 << 18
    let values = (0..<count).map { UInt32(truncatingIfNeeded: $0 &* 2_654_435_761) }
    let bytes = TensorBytes(values.flatMap(\.littleEndianBytes))
    let tensor = try Tensor(name: "big", dtype: .u32, shape: [512, 512], bytes: bytes)
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/big.npy"
      try FormatRegistry.write(try Checkpoint(tensors: [tensor]), to: path)
      let loaded = try XCTUnwrap(try FormatRegistry.read(path: path).tensors.first)
      XCTAssertEqual(loaded.name, "big")
      XCTAssertEqual(try loaded.load(), bytes)
    }
  }
}
