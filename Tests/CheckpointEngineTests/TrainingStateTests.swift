import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// Training checkpoints made by the frameworks (Fixtures/training): tf_keras `model.save` of a
/// compiled, fitted model (its `optimizer_weights`), Keras 3 `save_weights` after `fit`
/// (`optimizer/vars`), and a PyTorch `{"model", "optimizer", "epoch"}` dict. Each inspects the
/// same way: the framework's own weights are the parameters, the rest is training state; a
/// conversion keeps it, or leaves it out with a line that says so.
final class TrainingStateTests: XCTestCase {
  private let files = ["keras2_full.h5", "keras3_fit.weights.h5", "torch_training.pt"]

  private func expected() throws -> JSONValue {
    try JSONValue.parse(try TestFixtures.bytes("training/expected.json"))
  }

  func testOnlyTheModelsWeightsAreParameters() throws {
    let expected = try expected()
    for file in files {
      let checkpoint = try FormatRegistry.read(path: TestFixtures.path("training/" + file))
      let weights = try XCTUnwrap(expected[file]?.objectValue, file)
      XCTAssertEqual(checkpoint.parameterCount, weights.reduce(0) { $0 + ($1.1.intValue ?? 0) }, file)
      let parameters = checkpoint.tensors.filter { TensorRole.of($0.info) == .parameter }
      XCTAssertEqual(parameters.count, weights.count, file)
      let training = checkpoint.tensors.filter { TensorRole.of($0.info) == .trainingState }
      XCTAssertGreaterThan(training.count, weights.count, file)  // Adam keeps two moments per weight
      if file.hasPrefix("keras2") {
        // tf_keras names weights `dense/bias:0`; the file keeps them under their layer.
        for (name, _) in weights {
          XCTAssertTrue(parameters.contains { $0.name.hasSuffix("/" + name) }, name)
        }
        XCTAssertTrue(training.allSatisfy { $0.name.hasPrefix("optimizer_weights/") })
      } else if file.hasPrefix("torch") {
        XCTAssertEqual(Set(parameters.map(\.name)), Set(weights.map { "model." + $0.0 }))
      }
    }
  }

  func testInspectShowsEachRoleApart() throws {
    let result = try TestFixtures.runCkpt([
      "inspect", "--json", TestFixtures.path("training/torch_training.pt"),
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    let report = try JSONValue.parse(Array(result.stdout.utf8))
    XCTAssertEqual(report["parameters"]?.intValue, 108)
    XCTAssertEqual(report["training_state"]?.intValue, 220)
    XCTAssertEqual(report["buffers"]?.intValue, 0)
    let roles = report["tensors"]?.arrayValue?.compactMap { $0["role"]?.stringValue } ?? []
    XCTAssertEqual(roles.filter { $0 == "parameter" }.count, 4)
    XCTAssertEqual(roles.filter { $0 == "training_state" }.count, 12)
    let text = try TestFixtures.runCkpt(["inspect", TestFixtures.path("training/keras2_full.h5")])
    XCTAssertTrue(text.stdout.contains("184 parameters + 369 training-state elements"), text.stdout)
    XCTAssertTrue(text.stdout.contains("training state (not the model's weights):"), text.stdout)
  }

  /// Without --layout, training state is carried (a tf.keras full model's optimizer group comes
  /// back bit for bit through safetensors); with --layout it is left out with a line on stderr
  /// and in --json notes, and what remains converts and verifies.
  func testConversionsCarryOrNameTrainingState() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let source = TestFixtures.path("training/keras2_full.h5")
      for (from, to) in [
        (source, folder + "/k.safetensors"), (folder + "/k.safetensors", folder + "/back.h5"),
      ] {
        let result = try TestFixtures.runCkpt(["convert", from, to])
        XCTAssertEqual(result.status, 0, result.stderr)
      }
      let original = try FormatRegistry.read(path: source)
      let back = try FormatRegistry.read(path: folder + "/back.h5")
      // In the file's own order: tf.keras loads weights by position, and safetensors sorts names.
      XCTAssertEqual(back.tensors.map(\.name), original.tensors.map(\.name))
      var bare = try FormatRegistry.read(path: folder + "/k.safetensors")
      bare.metadata = [:]
      try FormatRegistry.write(bare, to: folder + "/bare.safetensors")
      let unordered = try TestFixtures.runCkpt(["convert", folder + "/bare.safetensors", folder + "/x.h5"])
      XCTAssertEqual(unordered.status, 1)
      XCTAssertTrue(
        unordered.stderr.contains("the order of the Keras layers and weights is not known"), unordered.stderr)
      // With only the model_config, layers follow it and each layer's weights Keras's own order.
      bare.metadata = ["model_config": try XCTUnwrap(original.metadata["model_config"])]
      try FormatRegistry.write(bare, to: folder + "/config.safetensors")
      XCTAssertEqual(
        try TestFixtures.runCkpt(["convert", folder + "/config.safetensors", folder + "/y.h5"]).status, 1)
      bare.tensors.removeAll { TensorRole.of($0.info) == .trainingState }
      try FormatRegistry.write(bare, to: folder + "/weights.safetensors")
      let ordered = try TestFixtures.runCkpt(["convert", folder + "/weights.safetensors", folder + "/z.h5"])
      XCTAssertEqual(ordered.status, 0, ordered.stderr)
      XCTAssertEqual(
        try FormatRegistry.read(path: folder + "/z.h5").tensors.map(\.name),
        original.tensors.filter { TensorRole.of($0.info) == .parameter }.map(\.name))
      for tensor in original.tensors {
        XCTAssertEqual(try back[tensor.name]?.load(), try tensor.load(), tensor.name)
      }
      for file in files {
        let out = folder + "/" + file + ".safetensors"
        let result = try TestFixtures.runCkpt([
          "convert", TestFixtures.path("training/" + file), out, "--layout", "pytorch", "--verify", "--json",
        ])
        XCTAssertEqual(result.status, 0, "\(file): \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("training-state tensor(s)"), result.stderr)
        let notes = try JSONValue.parse(Array(result.stdout.utf8))["notes"]?.arrayValue ?? []
        XCTAssertTrue(notes.contains { $0.stringValue?.contains("training-state") ?? false }, file)
        let written = try FormatRegistry.read(path: out)
        XCTAssertEqual(written.elementCount(.trainingState), 0, file)
        // PyTorch's LSTM holds two biases: the Keras one, and zeros (4 × 3 more).
        let original = try FormatRegistry.read(path: TestFixtures.path("training/" + file)).parameterCount
        XCTAssertEqual(written.parameterCount, original + (file.hasPrefix("keras") ? 12 : 0), file)
      }
    }
  }
}
