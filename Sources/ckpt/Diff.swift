import ArgumentParser
import CheckpointCore
import CheckpointKit
import CheckpointVerification
import Foundation

extension Ckpt {
  /// `ckpt diff`: tensor-by-tensor comparison of two checkpoints.
  struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "diff",
      abstract: "Compare two checkpoints tensor by tensor.",
      discussion: """
        When A and B are in different layouts (PyTorch, Keras 2, Keras 3, Hugging Face), B is first converted into A's layout as `ckpt convert --layout` would (exact transforms; an LSTM's two PyTorch biases and Keras's one merged bias stay different tensors), unless --same-layout. Tensors are then paired by name. Each is identical (same dtype, shape and bytes), close (values within the tolerance), different (with the max abs and max rel error), a shape mismatch, or on one side only. Values of different dtypes are compared as float32. Exits 0 only if every tensor is identical or close with the same dtype and no name is on one side only.
        """
    )

    @Argument(help: "The reference checkpoint.")
    var a: String

    @Argument(help: "The checkpoint to compare with A.")
    var b: String

    @Option(help: "Relative tolerance (default by dtype; F32 1.3e-6).")
    var rtol: Double?

    @Option(help: "Absolute tolerance (default by dtype; F32 1e-5).")
    var atol: Double?

    @Option(
      help: "Attention heads, to convert packed PyTorch attention into Keras kernels for the comparison.")
    var heads: Int?

    @Flag(help: "Compare the tensors as stored, without converting B into A's layout.")
    var sameLayout = false

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
      try validateTolerances(rtol: rtol, atol: atol)
      if let heads, heads < 1 { throw ValidationError("--heads must be at least 1") }
    }

    func run() throws {
      var passed = false
      try reportingErrors(json: outputOptions.json) {
        let checkpointA = try FormatRegistry.read(path: a)
        let checkpointB = try FormatRegistry.read(path: b)
        var tolerance: Tolerance?
        if rtol != nil || atol != nil {
          let base = Tolerance.default(for: [checkpointA, checkpointB])
          tolerance = Tolerance(dtype: "custom", rtol: rtol ?? base.rtol, atol: atol ?? base.atol)
        }
        let report =
          sameLayout
          ? try TensorDiff.compare(checkpointA, checkpointB, tolerance: tolerance)
          : try TensorDiff.compareNormalizingLayout(
            checkpointA, checkpointB, tolerance: tolerance, heads: heads)
        passed = report.passed
        if outputOptions.json {
          emit(report.json.prettyText)
        } else if !outputOptions.quiet || !report.passed {
          emit(report.text)
        }
      }
      if !passed { throw ExitCode(1) }
    }
  }
}
