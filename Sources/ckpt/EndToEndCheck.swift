import CheckpointCore
import CheckpointEngine
import CheckpointModels
import CheckpointQuantization

/// The end-to-end error of a quantized model against the original through the forward
/// engine, when the architecture is recognised.
///
/// Recognition tries, in order, transformer, seq2seq-lstm, transformer-encoder, lstm and gru:
/// the first the engine assembles from the original's names and shapes is used. Both models
/// run on the same seeded inputs (``CheckpointEngine/Model/sampleInputs(seed:batch:length:)``,
/// seed 0, 2 sequences of 6 steps); the quantized weights are dequantized to float32 first
/// (Q8_0/Q4_0 blocks, F16/BF16, int8 × scale).
struct EndToEndCheck {
  /// The recognised architecture.
  var architecture: String
  /// Cosine similarity of the quantized model's outputs to the original's (all outputs together).
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
    "end to end (\(architecture), \(values) outputs): cosine similarity \(String(format: "%.6f", cosineSimilarity)), "
      + "max abs error \(String(format: "%.4g", maxAbsError))"
  }

  /// The architectures tried, in order.
  static let candidates: [Architecture] = [.transformer, .seq2seqLSTM, .transformerEncoder, .lstm, .gru]

  /// Runs both models when the forward engine recognises the architecture; `nil` otherwise.
  static func run(original: Checkpoint, quantized: Checkpoint, options: ModelSettings = ModelSettings())
    throws
    -> EndToEndCheck?
  {
    var found: (Architecture, Model)?
    for architecture in candidates {
      if let model = try? Model(original, architecture: architecture, options: options) {
        found = (architecture, model)
        break
      }
    }
    guard let (architecture, reference) = found else {
      // A model whose settings the file does not record: say which flags to pass.
      for architecture in candidates
      where !ModelGraph.unresolvedSettings(architecture, from: original, settings: options).isEmpty {
        _ = try ModelGraph.build(architecture, from: original, settings: options)
      }
      return nil
    }
    let restored = try Dequantizer.dequantizingAll(quantized)
    let candidate = try Model(restored, architecture: architecture, options: options)
    let inputs = try reference.sampleInputs(seed: 0)
    let expected = try reference.run(inputs)
    let actual = try candidate.run(inputs)
    var dot = 0.0
    var normA = 0.0
    var normB = 0.0
    var worst = 0.0
    var count = 0
    for (a, b) in zip(expected.tensors, actual.tensors) {
      let x = try FloatDecoding.decode(try a.load(), dtype: a.dtype)
      let y = try FloatDecoding.decode(try b.load(), dtype: b.dtype)
      for (u, v) in zip(x, y) {
        let (p, q) = (Double(u), Double(v))
        dot += p * q
        normA += p * p
        normB += q * q
        worst = max(worst, abs(p - q))
      }
      count += x.count
    }
    let cosine =
      normA == 0 || normB == 0 ? (normA == normB ? 1 : 0) : dot / (normA.squareRoot() * normB.squareRoot())
    return EndToEndCheck(
      architecture: architecture.rawValue, cosineSimilarity: cosine, maxAbsError: worst, values: count)
  }
}
