import CheckpointCore
import CheckpointEngine
import CheckpointHDF5
import CheckpointKit
import CheckpointModels
import CheckpointTestSupport
import XCTest

/// Keras 3 `.keras` archives written by `model.save` (Fixtures/keras_archive): their config
/// says what the weights cannot, so they run, convert and verify with no flags.
final class KerasArchiveTests: XCTestCase {
  private func path(_ name: String) -> String { TestFixtures.path("keras_archive/" + name) }

  func testReadsTheWeightsAndTheConfig() throws {
    let archive = try FormatRegistry.read(path: path("encoder.keras"))
    XCTAssertEqual(archive.format, KerasArchiveFormat.identifier)
    let config = try XCTUnwrap(archive.metadata[KerasArchiveFormat.configKey])
    XCTAssertTrue(config.contains("\"TransformerEncoder\""), config)
    XCTAssertNotNil(archive.metadata[KerasArchiveFormat.metadataKey])
    // The same tensors as the model's save_weights file, bit for bit.
    let weights = try FormatRegistry.read(path: path("encoder_weights_only.weights.h5"))
    XCTAssertEqual(archive.tensors.map(\.name), weights.tensors.map(\.name))
    for tensor in weights.tensors {
      XCTAssertEqual(try archive[tensor.name]?.load(), try tensor.load(), tensor.name)
    }
    XCTAssertEqual(try FormatRegistry.read(path: path("lstm.keras")).tensors.count, 3)
  }

  /// gelu, pre-norm and eps 1e-6 come from the config (a Dense layer's relu before the encoders
  /// is not taken for theirs); the weights alone are an error naming the flags.
  func testRunsWithNoFlagsAndMatchesKeras() throws {
    let model = try Model(
      try FormatRegistry.read(path: path("encoder.keras")), architecture: .transformerEncoder)
    XCTAssertEqual(model.settings.activation, .gelu)
    XCTAssertEqual(model.settings.normFirst, true)
    XCTAssertEqual(model.settings.eps, 1e-6)
    let outputs = try model.run(try FormatRegistry.read(path: path("encoder.inputs.npz")))
    let expected = try FormatRegistry.read(path: path("encoder.outputs.npz"))
    let got = try TensorValues.floats(try XCTUnwrap(outputs["y"]))
    let want = try TensorValues.floats(try XCTUnwrap(expected["y"]))
    XCTAssertEqual(got.count, want.count)
    XCTAssertLessThanOrEqual(zip(got, want).map { abs($0 - $1) }.max() ?? 1, 1e-5)
    XCTAssertThrowsError(
      try Model(
        try FormatRegistry.read(path: path("encoder_weights_only.weights.h5")),
        architecture: .transformerEncoder)
    ) { error in
      let message = (error as? CheckpointError)?.message ?? "\(error)"
      XCTAssertTrue(message.contains("pass --activation, --norm-first or --no-norm-first, --eps"), message)
    }
  }

  func testConvertsToPyTorchWithVerifyAndTheResultRunsWithoutFlags() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/encoder.safetensors"
      let convert = try TestFixtures.runCkpt([
        "convert", path("encoder.keras"), out, "--layout", "pytorch", "--verify",
      ])
      XCTAssertEqual(convert.status, 0, convert.stderr)
      XCTAssertTrue(convert.stdout.contains("verified: transformer-encoder"), convert.stdout)
      let run = try TestFixtures.runCkpt([
        "run", out, "--arch", "transformer-encoder", "--inputs", path("encoder.inputs.npz"), "--output",
        folder + "/y.npz",
      ])
      XCTAssertEqual(run.status, 0, run.stderr)
      // Writing .keras is refused clearly, and leaves nothing.
      let write = try TestFixtures.runCkpt(["convert", path("encoder.keras"), folder + "/copy.keras"])
      XCTAssertEqual(write.status, 1)
      XCTAssertTrue(write.stderr.contains("writing .keras archives is not supported"), write.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/copy.keras"))
    }
  }

  func testMalformedArchivesAreClearErrors() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let config = Array(#"{"class_name": "Functional"}"#.utf8)
      let cases: [(String, [(name: String, data: [UInt8])], String)] = [
        (
          "noweights.keras", [("metadata.json", Array("{}".utf8)), ("config.json", config)],
          "no model.weights.h5"
        ),
        (
          "badconfig.keras",
          [
            ("config.json", Array("{\"layers\": [".utf8)),
            ("model.weights.h5", try TestFixtures.bytes("keras_archive/encoder_weights_only.weights.h5")),
          ],
          "config.json is not valid JSON"
        ),
        (
          "notkeras.keras", [("config.json", config), ("model.weights.h5", Array("not hdf5".utf8))],
          "model.weights.h5"
        ),
      ]
      for (name, records, message) in cases {
        let file = folder + "/" + name
        try TestFixtures.write(StoredZip.archive(records), to: file)
        XCTAssertThrowsError(try FormatRegistry.read(path: file), name) { error in
          XCTAssertTrue("\(error)".contains(message), "\(name): \(error)")
        }
      }
    }
  }
}
