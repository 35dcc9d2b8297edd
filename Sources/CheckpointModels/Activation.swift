/// The feed-forward activation of a Transformer layer.
public enum Activation: String, Sendable, CaseIterable {
  /// `max(x, 0)` (PyTorch's default).
  case relu
  /// Exact GELU, `x · Φ(x) = ½x(1 + erf(x/√2))` (PyTorch `gelu`, HF BERT).
  case gelu
  /// The tanh approximation, `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (`gelu(approximate="tanh")`).
  case geluTanh = "gelu_tanh"
}
