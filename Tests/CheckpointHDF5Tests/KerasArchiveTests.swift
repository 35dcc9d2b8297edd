import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointTestSupport
import XCTest

@testable import CheckpointHDF5

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
    }
  }

  /// `.keras` → PyTorch layout in safetensors (the config travels in its metadata) → `.keras`
  /// gives the archive's own tensors back, bit for bit, with its config: what
  /// `keras.saving.load_model` needs (Tests/interop/test_keras_archive.py loads it).
  func testWritesAnArchiveBackFromAConversion() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for name in ["encoder", "lstm"] {
        let middle = folder + "/\(name).safetensors"
        let back = folder + "/\(name).keras"
        for arguments in [
          ["convert", path(name + ".keras"), middle, "--layout", "pytorch"],
          ["convert", middle, back, "--layout", "keras3"],
        ] {
          let result = try TestFixtures.runCkpt(arguments)
          XCTAssertEqual(result.status, 0, result.stderr)
        }
        let original = try FormatRegistry.read(path: path(name + ".keras"))
        let written = try FormatRegistry.read(path: back)
        XCTAssertEqual(written.format, KerasArchiveFormat.identifier)
        XCTAssertEqual(
          written.metadata[KerasArchiveFormat.configKey], original.metadata[KerasArchiveFormat.configKey])
        XCTAssertTrue(written.metadata[KerasArchiveFormat.metadataKey]?.contains("\"saved_by\"") ?? false)
        XCTAssertEqual(Set(written.tensors.map(\.name)), Set(original.tensors.map(\.name)), name)
        for tensor in original.tensors {
          XCTAssertEqual(try written[tensor.name]?.load(), try tensor.load(), tensor.name)
        }
      }
      // An archive copied as it is keeps its metadata.json.
      let copy = folder + "/copy.keras"
      XCTAssertEqual(try TestFixtures.runCkpt(["convert", path("encoder.keras"), copy]).status, 0)
      XCTAssertEqual(
        try FormatRegistry.read(path: copy).metadata[KerasArchiveFormat.metadataKey],
        try FormatRegistry.read(path: path("encoder.keras")).metadata[KerasArchiveFormat.metadataKey])
    }
  }

  /// A model cannot be rebuilt from weights alone: without a Keras model config (none, or a
  /// Hugging Face one), or with a tensor that is not one of the config's layers, writing is a
  /// clear error that leaves nothing.
  func testWritingNeedsTheModelsKerasConfig() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/out.keras"
      let bare = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("engine/lstm_pytorch.safetensors"), out,
      ])
      XCTAssertEqual(bare.status, 1)
      XCTAssertTrue(bare.stderr.contains("needs the model's Keras config (config.json)"), bare.stderr)
      var archive = try FormatRegistry.read(path: path("encoder.keras"))
      var hf = archive
      hf.metadata[KerasArchiveFormat.configKey] = #"{"model_type": "bert", "num_attention_heads": 2}"#
      XCTAssertThrowsError(try FormatRegistry.write(hf, to: out)) { error in
        XCTAssertEqual((error as? CheckpointError)?.kind, .unsupported, "\(error)")
      }
      let first = archive.tensors[0]
      archive.tensors[0] = Tensor(
        info: TensorInfo(name: "layers/conv2d/vars/0", dtype: first.dtype, shape: first.shape),
        byteCount: first.byteCount, loader: { try first.load() })
      XCTAssertThrowsError(try FormatRegistry.write(archive, to: out)) { error in
        let error = error as? CheckpointError
        XCTAssertEqual(error?.tensor, "layers/conv2d/vars/0")
        XCTAssertTrue(
          error?.message.contains("not a layer of the model's config") ?? false,
          "\(String(describing: error))")
      }
      XCTAssertFalse(FileManager.default.fileExists(atPath: out))
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }
  }

  /// Layer paths as Keras's `saving_lib` names them: the class in snake case, numbered.
  func testLayerPathsFollowKerasNaming() throws {
    for (name, expected) in [
      ("TransformerEncoder", "transformer_encoder"), ("LSTM", "lstm"), ("GRUCell", "gru_cell"),
      ("Conv2D", "conv2d"), ("Dense", "dense"), ("MultiHeadAttention", "multi_head_attention"),
      ("LayerNormalization", "layer_normalization"), ("HTTPServer", "http_server"),
    ] {
      XCTAssertEqual(KerasArchiveFormat.snakeCase(name), expected, name)
    }
    let config = try XCTUnwrap(try FormatRegistry.read(path: path("encoder.keras")).metadata["config.json"])
    XCTAssertEqual(
      try KerasArchiveFormat.layerPaths(config),
      ["input_layer", "dense", "transformer_encoder", "transformer_encoder_1"])
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
