import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// `Converter`, the library's whole conversion (what `ckpt convert` runs): layout, write,
/// verification, and a note for everything a target cannot hold.
final class ConverterTests: XCTestCase {
  func testConvertsVerifiesAndNamesWhatItLeftOut() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let output = folder + "/seq2seq.safetensors"
      var printed: [String] = []
      let result = try Converter.convert(
        Converter.Request(
          input: TestFixtures.path("engine/seq2seq_lstm_keras2.h5"), output: output, layout: .pytorch,
          verify: true),
        note: { printed.append($0) })
      XCTAssertEqual(result.inputFormat, "keras")
      XCTAssertEqual(result.format, "safetensors")
      XCTAssertEqual(result.layout?.from, .keras)
      XCTAssertEqual(result.layout?.to, .pytorch)
      XCTAssertEqual(result.verification?.passed, true)
      XCTAssertEqual(result.verification?.architecture, "seq2seq-lstm")
      XCTAssertEqual(printed, result.notes)
      let written = try FormatRegistry.read(path: output)
      XCTAssertEqual(Set(written.tensors.map(\.name)), Set(result.checkpoint.tensors.map(\.name)))

      // Metadata a target cannot hold is a note, as is a flag that does nothing.
      let npy = try Converter.convert(
        Converter.Request(
          input: TestFixtures.path("engine/lstm_pytorch.safetensors"), output: folder + "/x.pt",
          write: WriteOptions(compression: try CompressionSetting(parsing: "zlib:6"))))
      XCTAssertEqual(npy.notes, ["--compress does nothing for pytorch output: stored uncompressed"])
    }
  }

  /// A failed check removes the output unless asked to keep it, and says which.
  func testAnUnverifiableOutputIsRemoved() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let output = folder + "/weights.safetensors"
      // Plain tensors with no architecture cannot be verified.
      XCTAssertThrowsError(
        try Converter.convert(
          Converter.Request(
            input: TestFixtures.path("safetensors/sharded/model.safetensors.index.json"), output: output,
            verify: true))
      ) { error in
        XCTAssertTrue("\(error)".contains("removed the unverified output"), "\(error)")
      }
      XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }
  }
}
