import CheckpointModels

/// How ``LayoutConverter`` converts.
public struct ConversionOptions: Sendable {
  /// Attention heads, needed to write Keras `[E, heads, head_dim]` kernels from `[E, E]` weights
  /// when neither the source's shapes nor its metadata tell (`--heads`).
  public var heads: Int?
  /// The Hugging Face style of `--layout hf` (`hfBert` or `hfBart`); `nil` picks BERT for
  /// encoder-only models and BART when there is a decoder.
  public var hfStyle: Naming?
  /// User rules (`--map rules.json`).
  public var rules: [UserRule]
  /// Whether consecutive Keras recurrent layers become one multi-layer PyTorch module when the
  /// file holds nothing else and their sizes chain (the equivalent of a Keras stack).
  public var stackRecurrent: Bool

  /// Creates options.
  public init(heads: Int? = nil, hfStyle: Naming? = nil, rules: [UserRule] = [], stackRecurrent: Bool = true)
  {
    self.heads = heads
    self.hfStyle = hfStyle
    self.rules = rules
    self.stackRecurrent = stackRecurrent
  }
}
