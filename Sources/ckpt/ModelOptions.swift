import ArgumentParser
import CheckpointCore
import CheckpointKit
import CheckpointModels

/// The settings of a model that names and shapes cannot tell, for every command that runs or
/// converts one (`run`, `verify`, `quantize`'s end-to-end check, `convert`). A setting none of
/// the flags, the file's own config and the shapes determine is an error naming its flag.
struct ModelOptions: ParsableArguments {
  @Option(help: "Attention heads, where neither the file's config nor its shapes record them.")
  var heads: Int?

  @Option(help: "Feed-forward activation of Transformer layers.")
  var activation: Activation?

  @Flag(
    inversion: .prefixedNo,
    help:
      "Transformer layers normalise before (--norm-first) or after (--no-norm-first) attention and feed-forward."
  )
  var normFirst: Bool?

  @Option(help: "LayerNorm epsilon of Transformer layers.")
  var eps: Float?

  @Flag(help: "A flag that contradicts the file's own config is an error instead of a warning.")
  var strict = false

  func validate() throws {
    if let heads, heads < 1 { throw ValidationError("--heads must be at least 1") }
    if let eps, !(eps >= 0) || !eps.isFinite { throw ValidationError("--eps must be a finite number ≥ 0") }
  }

  /// Warns on stderr where a flag contradicts what `checkpoint`'s own config says (the flag
  /// wins), or with `--strict` fails.
  func checkAgainstConfig(_ checkpoint: Checkpoint, file: String, architecture: Architecture?) throws {
    let graph =
      architecture.flatMap { try? ModelGraph.build($0, from: checkpoint, settings: settings) }
      ?? ModelGraph.recognise(checkpoint, settings: settings)
    for note in graph?.notes ?? [] {
      if strict { throw CheckpointError(.invalidArgument, note + " (--strict)", file: file) }
      warn("\(file): \(note); the flag wins")
    }
  }

  /// The settings the flags give.
  var settings: ModelSettings {
    ModelSettings(heads: heads, activation: activation, normFirst: normFirst, eps: eps)
  }
}
