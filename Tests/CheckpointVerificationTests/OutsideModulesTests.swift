import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// `verify` covers the whole checkpoint: the tensors no module runs (a BERT's embeddings and
/// pooler, its position ids) are compared one by one, and a difference there fails verify by
/// the tensor's name, whatever the modules say.
final class OutsideModulesTests: XCTestCase {
  private func folderWith(_ change: (inout [Float]) -> Void, tensor: String, in scratch: String) throws
    -> String
  {
    var checkpoint = try FormatRegistry.read(path: TestFixtures.path("hf/bert"))
    let index = try XCTUnwrap(checkpoint.tensors.firstIndex { $0.name == tensor })
    var values = try TensorValues.floats(checkpoint.tensors[index])
    change(&values)
    checkpoint.tensors[index] = try TensorValues.tensor(
      tensor, Matrix(shape: checkpoint.tensors[index].shape, values: values))
    let out = scratch + "/\(tensor)/"
    try FormatRegistry.write(checkpoint, to: out)
    return out
  }

  func testEverySeededDifferenceOutsideTheModulesFailsByName() throws {
    try TestFixtures.withTemporaryFolder { scratch in
      let original = try FormatRegistry.read(path: TestFixtures.path("hf/bert"))
      let same = try ParityVerifier.verify(original, original)
      XCTAssertTrue(same.passed, same.text)
      let outside = try XCTUnwrap(same.outside)
      XCTAssertTrue(outside.tensors.map(\.name).contains("embeddings.word_embeddings.weight"))
      XCTAssertTrue(
        same.text.contains("the whole model and \(outside.tensors.count) other tensors match"), same.text)
      for (tensor, change) in [
        ("embeddings.LayerNorm.weight", { (v: inout [Float]) in v[0] += 1e-3 }),
        ("embeddings.word_embeddings.weight", { (v: inout [Float]) in v = v.map { _ in 0 } }),
      ] {
        let changed = try FormatRegistry.read(path: try folderWith(change, tensor: tensor, in: scratch))
        let report = try ParityVerifier.verify(original, changed)
        XCTAssertFalse(report.passed, tensor)
        XCTAssertTrue(report.modules.allSatisfy(\.passed), tensor)
        XCTAssertEqual(report.firstOutsideFailure, tensor)
        XCTAssertTrue(
          report.text.contains("FAIL: tensor \(tensor), which no module reads, differs"), report.text)
      }
    }
  }

  /// A setting known to differ fails its modules even when the numbers land inside the
  /// tolerance (eps 1e-12 against 1e-11 moves nothing measurable here).
  func testASettingKnownToDifferFailsWhateverTheNumbers() throws {
    try TestFixtures.withTemporaryFolder { scratch in
      let original = try FormatRegistry.read(path: TestFixtures.path("hf/bert"))
      var changed = original
      let config = try XCTUnwrap(original.metadata[ModelFolder.configKey])
      changed.metadata[ModelFolder.configKey] = config.replacingOccurrences(
        of: "\"layer_norm_eps\": 1e-12", with: "\"layer_norm_eps\": 1e-11")
      XCTAssertNotEqual(changed.metadata[ModelFolder.configKey], config)
      let report = try ParityVerifier.verify(original, changed)
      XCTAssertFalse(report.passed)
      let failed = report.modules.filter { !$0.passed }
      XCTAssertEqual(failed.map(\.name), ["encoder.layers.0", "encoder.layers.1"])
      XCTAssertTrue(
        failed.allSatisfy { $0.reason?.contains("settings differ: eps 1e-12 in A, 1e-11 in B") ?? false })
      XCTAssertTrue(failed.allSatisfy { ($0.statistics?.maxAbsError ?? 1) < 1e-6 })
    }
  }

  /// A flag a file does not take (a Keras 3 file's kernels give its heads) is said, not ignored.
  func testAFlagThatDoesNotApplyIsNoted() throws {
    try TestFixtures.withTemporaryFolder { scratch in
      let source = TestFixtures.path("engine/encoder_post_relu_pytorch.safetensors")
      let keras = scratch + "/encoder.weights.h5"
      let settings = ["--activation", "relu", "--no-norm-first", "--eps", "1e-5"]
      XCTAssertEqual(
        try TestFixtures.runCkpt(["convert", source, keras, "--layout", "keras3", "--heads", "2", "-q"])
          .status, 0)
      let result = try TestFixtures.runCkpt(
        ["verify", source, keras, "--heads", "2", "--heads-b", "4", "--json"] + settings)
      XCTAssertEqual(result.status, 0, result.stderr)
      let notes = try JSONValue.parse(Array(result.stdout.utf8))["notes"]?.arrayValue?.compactMap(
        \.stringValue)
      XCTAssertEqual(notes, ["--heads-b 4 does not apply to B: its shapes give heads 2"])
    }
  }
}
