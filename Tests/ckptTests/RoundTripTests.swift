import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// Lossless conversions through the CLI give back the same bytes.
final class RoundTripTests: XCTestCase {
  /// Files written by the Python safetensors library, covering F64, F32, F16, BF16, I64, I32,
  /// I16, I8, U8 and BOOL, 0-d and zero-size tensors, with and without metadata.
  let fixtures = ["dtypes", "bf16", "metadata"].map { TestFixtures.path("safetensors/\($0).safetensors") }

  func convert(_ input: String, _ output: String, _ extra: [String] = []) throws {
    let result = try TestFixtures.runCkpt(["convert", input, output, "--quiet"] + extra)
    XCTAssertEqual(result.status, 0, result.stderr)
  }

  func testSafetensorsThroughNpzIsByteIdentical() throws {
    try TestFixtures.withTemporaryFolder { folder in
      // metadata.safetensors holds several metadata keys, which the library writes in hash
      // order; ckpt writes them sorted, so that file is compared by content below.
      for original in fixtures.prefix(2) {
        for compress in ["none", "zlib:6"] {
          let npz = folder + "/x.npz"
          let back = folder + "/back.safetensors"
          try convert(original, npz, ["--compress", compress])
          try convert(npz, back)
          XCTAssertEqual(
            try TestFixtures.bytesAt(back), try TestFixtures.bytesAt(original),
            "\(original) via npz (\(compress))")
        }
      }
    }
  }

  func testSafetensorsThroughONNXIsByteIdentical() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for original in fixtures.prefix(2) {
        for extra in [[], ["--external-data-threshold", "1"]] {
          let onnx = folder + "/x.onnx"
          let back = folder + "/back.safetensors"
          try convert(original, onnx, extra)
          try convert(onnx, back)
          XCTAssertEqual(
            try TestFixtures.bytesAt(back), try TestFixtures.bytesAt(original),
            "\(original) via onnx \(extra)")
        }
      }
      // Metadata travels as metadata_props.
      try convert(fixtures[2], folder + "/m.onnx")
      XCTAssertEqual(
        FormatRegistry.userMetadata(of: try FormatRegistry.read(path: folder + "/m.onnx")),
        try FormatRegistry.read(path: fixtures[2]).metadata)
    }
  }

  func testMetadataSurvivesNpz() throws {
    let original = try FormatRegistry.read(path: fixtures[2])
    try TestFixtures.withTemporaryFolder { folder in
      try convert(fixtures[2], folder + "/x.npz")
      XCTAssertEqual(try FormatRegistry.read(path: folder + "/x.npz").metadata, original.metadata)
      try convert(folder + "/x.npz", folder + "/back.safetensors")
      let back = try FormatRegistry.read(path: folder + "/back.safetensors")
      XCTAssertEqual(
        back.metadata, ["author": #"CheckpointKit "fixtures""#, "format": "np", "note": "line1\nline2 é"])
      XCTAssertEqual(try back.tensors[0].load(), try original.tensors[0].load())
    }
  }

  func testEveryLosslessFormatGivesBackTheSameTensors() throws {
    let original = try FormatRegistry.read(path: fixtures[1])
    try TestFixtures.withTemporaryFolder { folder in
      for ext in ["npz", "pt", "h5", "onnx", "safetensors"] {
        let middle = folder + "/mid." + ext
        let back = folder + "/back-\(ext).safetensors"
        try convert(fixtures[1], middle)
        try convert(middle, back)
        let result = try FormatRegistry.read(path: back)
        XCTAssertEqual(result.tensors.map(\.name), original.tensors.map(\.name), ext)
        for (a, b) in zip(original.tensors, result.tensors) {
          XCTAssertEqual(a.dtype, b.dtype, "\(ext) \(a.name)")
          XCTAssertEqual(a.shape, b.shape, "\(ext) \(a.name)")
          XCTAssertEqual(try a.load(), try b.load(), "\(ext) \(a.name)")
        }
      }
    }
  }

  func testMetadataDroppedByAFormatIsAWarning() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let result = try TestFixtures.runCkpt(["convert", fixtures[2], folder + "/x.pt"])
      XCTAssertEqual(result.status, 0, result.stderr)
      XCTAssertTrue(
        result.stderr.contains("pytorch files cannot store metadata; dropped: author, format, note"),
        result.stderr)
    }
  }
}
