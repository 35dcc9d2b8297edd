/// Settings that names and shapes cannot tell; `nil` keeps the layout's default
/// (PyTorch's: 8 heads, relu, post-norm, eps 1e-5) or what the file's metadata says.
public struct ModelSettings: Sendable {
  /// Attention heads (`--heads`).
  public var heads: Int?
  /// Feed-forward activation (`--activation`).
  public var activation: Activation?
  /// Pre-norm layers (`--norm-first`).
  public var normFirst: Bool?
  /// LayerNorm epsilon (`--eps`).
  public var eps: Float?

  /// Creates options.
  public init(heads: Int? = nil, activation: Activation? = nil, normFirst: Bool? = nil, eps: Float? = nil) {
    self.heads = heads
    self.activation = activation
    self.normFirst = normFirst
    self.eps = eps
  }
}
