import CheckpointCore
import CheckpointModels

/// A module in canonical form: PyTorch roles and orientation, tensors loaded lazily through the
/// source layout's inverse rules.
struct CanonicalModule {
  enum Kind: Equatable {
    case lstm
    case gru
    case encoderStack
    case decoderStack
    case linear
    case embedding
    case layerNorm
    case attention
  }

  var kind: Kind
  /// The module's name in the source (PyTorch prefix without the final dot, Keras layer name);
  /// empty for a bare PyTorch module.
  var name: String
  /// Recurrent: `[layer][direction]`; Transformer stack: `[layer][0]`; others: `[[parameters]]`.
  var units: [[[String: Tensor]]]
  /// A Transformer stack's final LayerNorm (`weight`, `bias`).
  var finalNorm: [String: Tensor]?
  /// Attention heads when the source tells (Keras kernels `[E, heads, head_dim]`).
  var heads: Int?
  /// The index of the module's first tensor in the source, for ordering.
  var order: Int

  var isRecurrent: Bool { kind == .lstm || kind == .gru }
  var directions: Int { units.first?.count ?? 1 }

  /// The table kind of one unit.
  var unitKind: ModuleKind {
    switch kind {
    case .lstm: return .lstm
    case .gru: return .gru
    case .encoderStack: return .encoderLayer
    case .decoderStack: return .decoderLayer
    case .linear: return .linear
    case .embedding: return .embedding
    case .layerNorm: return .layerNorm
    case .attention: return .attention
    }
  }

  /// A short description for messages (`LSTM 'encoder.lstm'`).
  var label: String {
    let what: String
    switch kind {
    case .lstm: what = "LSTM"
    case .gru: what = "GRU"
    case .encoderStack: what = "Transformer encoder"
    case .decoderStack: what = "Transformer decoder"
    case .linear: what = "Linear"
    case .embedding: what = "Embedding"
    case .layerNorm: what = "LayerNorm"
    case .attention: what = "MultiheadAttention"
    }
    return "\(what) '\(name.isEmpty ? "<root>" : name)'"
  }
}
