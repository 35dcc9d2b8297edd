import CheckpointCore

/// The model families `ckpt run` can assemble from a checkpoint.
public enum Architecture: String, Sendable, CaseIterable {
  /// A (multi-layer, bidirectional, projected) LSTM: `x` → `y`, `h_n`, `c_n`.
  case lstm
  /// A (multi-layer, bidirectional) GRU: `x` → `y`, `h_n`.
  case gru
  /// A Transformer encoder stack: `x`, optional `mask` → `y`.
  case transformerEncoder = "transformer-encoder"
  /// An encoder-decoder Transformer: `src`, `tgt` → `out` (causal decoder self-attention).
  case transformer
  /// Embedding + LSTM encoder, embedding + LSTM decoder started from the encoder's state,
  /// output projection: `src`, `tgt` tokens → `logits`.
  case seq2seqLSTM = "seq2seq-lstm"

  /// The order the canned builders are tried in when no architecture is given (`ckpt verify`,
  /// `ckpt inspect`): the largest model first, so a Transformer's encoder is not taken alone.
  public static let detectionOrder: [Architecture] = [
    .transformer, .transformerEncoder, .seq2seqLSTM, .lstm, .gru,
  ]

  /// Parses an architecture name.
  ///
  /// - Throws: `CheckpointError` `.invalidArgument` naming the known architectures.
  public init(parsing name: String) throws {
    guard let value = Architecture(rawValue: name.lowercased()) else {
      throw CheckpointError(
        .invalidArgument,
        "unknown architecture '\(name)' (known: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))"
      )
    }
    self = value
  }

  /// The input arrays, in order, and whether each is required.
  public var inputs: [(name: String, required: Bool)] {
    switch self {
    case .lstm, .gru: return [("x", true)]
    case .transformerEncoder: return [("x", true), ("mask", false)]
    case .transformer, .seq2seqLSTM: return [("src", true), ("tgt", true)]
    }
  }

  /// The output arrays, in order.
  public var outputs: [String] {
    switch self {
    case .lstm: return ["y", "h_n", "c_n"]
    case .gru: return ["y", "h_n"]
    case .transformerEncoder: return ["y"]
    case .transformer: return ["out"]
    case .seq2seqLSTM: return ["logits"]
    }
  }
}
