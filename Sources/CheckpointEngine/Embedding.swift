import CheckpointModels

/// A lookup table `[vocabulary, features]`: token `t` becomes row `t`.
struct Embedding: Sendable {
  var table: [Float]
  var vocabulary: Int
  var features: Int

  /// Looks up `tokens` (shape `[B, T]`) into `[B, T, features]`.
  ///
  /// - Throws: ``CheckpointError`` `.invalidArgument` for a token outside `0..<vocabulary`.
  func apply(_ tokens: [Int], shape: [Int], input: String) throws -> Matrix {
    var result = Matrix(zeros: shape + [features])
    for (index, token) in tokens.enumerated() {
      guard token >= 0, token < vocabulary else {
        throw ModelError.invalidInput(
          input, "token \(token) at position \(index) is outside the vocabulary 0..<\(vocabulary)")
      }
      for j in 0..<features {
        result.values[index * features + j] = table[token * features + j]
      }
    }
    return result
  }
}
