import CheckpointCore
import CheckpointKit
import CheckpointStorage
import CheckpointTestSupport
import XCTest

final class CKZCLITests: XCTestCase {
  /// A model with a float weight spanning two chunks, a bias and metadata.
  private func writeModel(to path: String) throws -> Checkpoint {
    var weight: [UInt8] = []
    for i in 0..<300_000 { weight.appendLittleEndian(Float(sin(Double(i) * 0.001) * 0.02).bitPattern) }
    let bias = (0..<16).flatMap { Float($0).bitPattern.littleEndianBytes }
    let checkpoint = try Checkpoint(
      tensors: [
        Tensor(name: "encoder.layer.0.weight", dtype: .f32, shape: [1000, 300], bytes: TensorBytes(weight)),
        Tensor(name: "encoder.layer.0.bias", dtype: .f32, shape: [16], bytes: TensorBytes(bias)),
      ], metadata: ["format": "pt"])
    try CKZFormat.write(checkpoint, to: path, options: WriteOptions(compression: CompressionSetting.none))
    return checkpoint
  }

  func testConvertInspectAndCheck() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let input = folder + "/in.ckz"
      let output = folder + "/out.ckz"
      let original = try writeModel(to: input)
      let convert = try TestFixtures.runCkpt(["convert", input, output, "--compress", "zlib:6"])
      XCTAssertEqual(convert.status, 0, convert.stderr)

      let reader = try CKZReader(path: output)
      XCTAssertEqual(reader.metadata, ["format": "pt"])
      XCTAssertEqual(reader.provenance["source_format"], "ckz")
      XCTAssertEqual(reader.provenance["source_layout"], "pytorch")
      XCTAssertEqual(reader.provenance["tool"], "ckpt 0.1.0")
      let digest = try SHA256.hex(SHA256.digest(ofFileAt: input))
      XCTAssertEqual(reader.provenance["source_sha256"], digest)
      XCTAssertTrue(reader.entries.allSatisfy { $0.codec == .zlib && $0.level == 6 })
      let read = try reader.checkpoint()
      for (a, b) in zip(original.tensors, read.tensors) {
        XCTAssertEqual(try a.load(), try b.load(), a.name)
      }

      let text = try TestFixtures.runCkpt(["inspect", output])
      XCTAssertEqual(text.status, 0, text.stderr)
      let header = try XCTUnwrap(text.stdout.split(separator: "\n").first { $0.hasPrefix("name") })
      XCTAssertEqual(header.split(separator: " "), ["name", "dtype", "shape", "size", "stored", "ratio"])
      XCTAssertTrue(text.stdout.contains("ckz.source_sha256: \(digest)"), text.stdout)

      let json = try JSONValue.parse(
        Array(try TestFixtures.runCkpt(["inspect", output, "--json"]).stdout.utf8))
      guard case .object(let members) = json,
        case .array(let tensors)? = members.first(where: { $0.0 == "tensors" })?.1,
        case .object(let first)? = tensors.first
      else { return XCTFail("unexpected JSON \(json)") }
      XCTAssertEqual(first.map(\.0), ["name", "dtype", "shape", "bytes", "role", "stored_bytes"])
      XCTAssertEqual(
        first.last?.1, .integer(Int64(reader.entries[0].storedByteCount)))

      let check = try TestFixtures.runCkpt(["check", output])
      XCTAssertEqual(check.status, 0, check.stderr)
      XCTAssertTrue(check.stdout.contains("2 tensors, 3 chunks: OK"), check.stdout)

      // Back to uncompressed: the provenance of the .ckz input is not carried as metadata.
      let back = folder + "/back.ckz"
      XCTAssertEqual(try TestFixtures.runCkpt(["convert", output, back, "--compress", "none"]).status, 0)
      XCTAssertEqual(try CKZReader(path: back).metadata, ["format": "pt"])
      let backRead = try CKZReader(path: back)
      XCTAssertTrue(backRead.entries.allSatisfy { $0.codec == .none })
      for (index, tensor) in original.tensors.enumerated() {
        XCTAssertEqual(try backRead.load(index), try tensor.load(), tensor.name)
      }
    }
  }

  func testCheckNamesTheBadChunk() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/model.ckz"
      _ = try writeModel(to: path)
      var bytes = try TestFixtures.bytesAt(path)
      let entry = try XCTUnwrap(try CKZReader(path: path).entries.first)
      bytes[entry.offset + entry.chunks[0].storedSize + 5] ^= 4
      try TestFixtures.write(bytes, to: path)

      let text = try TestFixtures.runCkpt(["check", path])
      XCTAssertEqual(text.status, 1)
      XCTAssertTrue(text.stderr.contains("tensor 'encoder.layer.0.weight' at byte"), text.stderr)
      XCTAssertTrue(text.stderr.contains(": chunk 1 of 2 (raw bytes 1048576..<1200000)"), text.stderr)
      XCTAssertTrue(text.stdout.contains("FAILED (1 problems)"), text.stdout)

      let json = try TestFixtures.runCkpt(["check", path, "--json"])
      XCTAssertEqual(json.status, 1)
      let value = try JSONValue.parse(Array(json.stdout.utf8))
      guard case .object(let members) = value else { return XCTFail(json.stdout) }
      XCTAssertEqual(members.first { $0.0 == "ok" }?.1, .bool(false))
      guard case .array(let failures)? = members.first(where: { $0.0 == "failures" })?.1,
        case .object(let failure)? = failures.first
      else { return XCTFail(json.stdout) }
      XCTAssertEqual(failure.first { $0.0 == "chunk" }?.1, .integer(1))
      XCTAssertEqual(failure.first { $0.0 == "tensor" }?.1, .string("encoder.layer.0.weight"))

      // Reading the damaged tensor fails with the same location.
      let inspect = try TestFixtures.runCkpt(["convert", path, folder + "/copy.ckz"])
      XCTAssertEqual(inspect.status, 1)
      XCTAssertTrue(inspect.stderr.contains("chunk 1 of 2"), inspect.stderr)
    }
  }

  func testTruncatedFileIsAClearError() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/model.ckz"
      _ = try writeModel(to: path)
      let bytes = try TestFixtures.bytesAt(path)
      try TestFixtures.write(Array(bytes.prefix(bytes.count - 100)), to: path)
      let result = try TestFixtures.runCkpt(["check", path])
      XCTAssertEqual(result.status, 1)
      XCTAssertTrue(result.stderr.contains("truncated"), result.stderr)
    }
  }

  /// .ckz (zlib:6) → every other format → .ckz (stored) gives back the tensors bit for bit:
  /// F64 … BOOL with 0-d and zero-size tensors through safetensors, npz, pt and h5, and the
  /// BF16 fixture through GGUF too (GGUF has no U8 or BOOL: a clear error naming the tensor).
  /// With `--layout`, the provenance still names the source as read (format and layout),
  /// not the converted checkpoint.
  func testProvenanceDescribesTheSourceBeforeLayoutConversion() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let input = TestFixtures.path("engine/lstm_pytorch.safetensors")
      let output = folder + "/keras.ckz"
      let result = try TestFixtures.runCkpt(["convert", input, output, "--layout", "keras", "--quiet"])
      XCTAssertEqual(result.status, 0, result.stderr)
      let reader = try CKZReader(path: output)
      XCTAssertEqual(reader.provenance["source_format"], "safetensors")
      XCTAssertEqual(reader.provenance["source_layout"], "pytorch")
      XCTAssertEqual(reader.provenance["source_sha256"], try SHA256.hex(SHA256.digest(ofFileAt: input)))
    }
  }

  func testRoundTripsBetweenCKZAndEveryOtherFormatAreBitExact() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let cases: [(fixture: String, formats: [String])] = [
        ("dtypes", ["safetensors", "npz", "pt", "h5"]), ("bf16", ["safetensors", "npz", "pt", "h5", "gguf"]),
      ]
      for (fixture, formats) in cases {
        let source = TestFixtures.path("safetensors/\(fixture).safetensors")
        let original = try FormatRegistry.read(path: source)
        let compressed = folder + "/\(fixture).ckz"
        let first = try TestFixtures.runCkpt([
          "convert", source, compressed, "--compress", "zlib:6", "--quiet",
        ])
        XCTAssertEqual(first.status, 0, first.stderr)
        for format in formats {
          let middle = folder + "/\(fixture).\(format)"
          let back = folder + "/\(fixture)-from-\(format).ckz"
          let out = try TestFixtures.runCkpt(["convert", compressed, middle, "--quiet"])
          XCTAssertEqual(out.status, 0, "\(fixture) → \(format): \(out.stderr)")
          let home = try TestFixtures.runCkpt(["convert", middle, back, "--compress", "none", "--quiet"])
          XCTAssertEqual(home.status, 0, "\(format) → ckz: \(home.stderr)")
          let result = try FormatRegistry.read(path: back)
          XCTAssertEqual(
            Set(result.tensors.map(\.name)), Set(original.tensors.map(\.name)), "\(fixture) via \(format)")
          for tensor in original.tensors {
            guard let got = result.tensors.first(where: { $0.name == tensor.name }) else { continue }
            XCTAssertEqual(got.dtype, tensor.dtype, "\(fixture) via \(format): \(tensor.name)")
            XCTAssertEqual(got.shape, tensor.shape, "\(fixture) via \(format): \(tensor.name)")
            XCTAssertEqual(try got.load(), try tensor.load(), "\(fixture) via \(format): \(tensor.name)")
          }
        }
      }
      let refused = try TestFixtures.runCkpt(["convert", folder + "/dtypes.ckz", folder + "/dtypes.gguf"])
      XCTAssertEqual(refused.status, 1)
      XCTAssertTrue(refused.stderr.contains("tensor 'u8': GGUF cannot store U8 tensors"), refused.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/dtypes.gguf"))
    }
  }
}
