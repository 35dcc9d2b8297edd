/// Settings that names and shapes cannot tell, as given (flags); `nil` leaves a setting to the
/// file's own config, its shapes or what its naming fixes, and assembling fails, naming the
/// flag, where none of these determines it (Docs/settings.md).
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
