import CheckpointTestSupport
import XCTest

/// `ckpt inspect --tree` and `ckpt convert` on HDF5 files.
final class HDF5CLITests: XCTestCase {
  func testHDF5WithoutAUsableLibhdf5IsAClearError() throws {
    // libhdf5 is loaded on first use; CKPT_LIBHDF5 names the library to load.
    let file = TestFixtures.path("hdf5/keras2_weights.h5")
    for (library, problem) in [
      ("/nonexistent/libhdf5_serial.so.103", "/nonexistent/libhdf5_serial.so.103"),
      ("libz.so.1", "libz.so.1: has no symbol H5open"),
    ] {
      let result = try TestFixtures.runCkpt(["inspect", file], environment: ["CKPT_LIBHDF5": library])
      XCTAssertEqual(result.status, 1, result.stderr)
      XCTAssertTrue(result.stderr.contains("keras2_weights.h5"), result.stderr)
      XCTAssertTrue(result.stderr.contains("cannot load libhdf5: "), result.stderr)
      XCTAssertTrue(result.stderr.contains(problem), result.stderr)
      XCTAssertTrue(result.stderr.contains("set CKPT_LIBHDF5 to its path"), result.stderr)
    }
  }

  func testInspectTreeShowsGroupsAndKerasLayers() throws {
    let result = try TestFixtures.runCkpt(["inspect", "--tree", TestFixtures.path("hdf5/keras2_weights.h5")])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.contains("format:     keras"))
    XCTAssertTrue(result.stdout.contains("HDF5 tree:"))
    XCTAssertTrue(result.stdout.contains("├── bidirectional/  {weight_names=["), result.stdout)
    XCTAssertTrue(result.stdout.contains("│           ├── kernel:0  F32  [3, 9]  contiguous"), result.stdout)
    XCTAssertTrue(
      result.stdout.contains("Keras 2 layers:\n  embedding\n    embedding/embeddings:0  F32 [20, 4]"))
  }

  func testInspectTreeShowsFiltersAndKeras3Layers() throws {
    let h5py = try TestFixtures.runCkpt(["inspect", "--tree", TestFixtures.path("hdf5/h5py_types.h5")])
    XCTAssertTrue(
      h5py.stdout.contains(
        "gzip_shuffle_fletcher32  F32  [40, 30]  chunked [16, 8] shuffle+gzip:6+fletcher32  {units=none}"),
      h5py.stdout)
    XCTAssertTrue(h5py.stdout.contains("f4  F32  [3, 2]  contiguous big-endian"), h5py.stdout)
    XCTAssertTrue(h5py.stdout.contains("strings  (string)  [2]  contiguous"), h5py.stdout)
    let keras3 = try TestFixtures.runCkpt([
      "inspect", "--tree", TestFixtures.path("hdf5/keras3_lstm_mha.weights.h5"),
    ])
    XCTAssertTrue(
      keras3.stdout.contains("Keras 3 layers:\n  layers/dense\n    vars/0  F32 [6, 2]"), keras3.stdout)
    XCTAssertTrue(keras3.stdout.contains("  layers/lstm/cell\n"), keras3.stdout)
  }

  func testConvertKeepsKerasLayoutAndRefusesForeignNames() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/w.h5"
      let convert = try TestFixtures.runCkpt(["convert", TestFixtures.path("hdf5/keras2_model.h5"), out])
      XCTAssertEqual(convert.status, 0, convert.stderr)
      let inspect = try TestFixtures.runCkpt(["inspect", "--json", out])
      XCTAssertTrue(
        inspect.stdout.contains(#""format" : "keras""#) || inspect.stdout.contains(#""format": "keras""#))
      let refused = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("hdf5/h5py_types.h5"), folder + "/k.h5", "--format", "keras",
      ])
      XCTAssertNotEqual(refused.status, 0)
      XCTAssertTrue(refused.stderr.contains("not a Keras 2 weight path"), refused.stderr)
    }
  }

  func testMalformedFileIsAnErrorNotACrash() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var bytes = try TestFixtures.bytes("hdf5/keras2_weights.h5")
      bytes.replaceSubrange(25757..<25773, with: [UInt8](repeating: 0xEF, count: 16))
      try TestFixtures.write(Array(bytes.prefix(20000)), to: folder + "/cut.h5")
      let result = try TestFixtures.runCkpt(["inspect", folder + "/cut.h5"])
      XCTAssertEqual(result.status, 1, result.stderr)
      XCTAssertTrue(result.stderr.contains("cut.h5"), result.stderr)
    }
  }
}
