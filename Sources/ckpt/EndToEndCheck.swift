import CheckpointCore
import CheckpointQuantization

/// The end-to-end error of a quantized model against the original through the forward
/// engine, when the architecture is recognised.
struct EndToEndCheck {
  /// The recognised architecture.
  var architecture: String
  /// Cosine similarity of the quantized model's outputs to the original's.
  var cosineSimilarity: Double
  /// The largest absolute difference between the outputs.
  var maxAbsError: Double
  /// The number of output values compared.
  var values: Int

  var json: JSONValue {
    .object([
      ("architecture", .string(architecture)),
      ("cosine_similarity", .double(cosineSimilarity)),
      ("max_abs_error", .double(maxAbsError)),
      ("values", .integer(Int64(values))),
    ])
  }

  var text: String {
    "end to end (\(architecture), \(values) outputs): cosine similarity \(String(format: "%.6f", cosineSimilarity)), max abs error \(String(format: "%.4g", maxAbsError))"
  }

  /// Runs both models when the forward engine recognises the architecture; `nil` otherwise.
  static func run(original: Checkpoint, quantized: Checkpoint) -> EndToEndCheck? {
    nil
  }
}
