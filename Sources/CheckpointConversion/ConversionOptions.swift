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
  /// The model's settings as given (flags): recorded in the output's metadata with what the
  /// source's own config says, so that the converted file runs without flags. Nothing is
  /// recorded that neither says.
  public var settings: ModelSettings

  /// Creates options.
  public init(
    heads: Int? = nil, hfStyle: Naming? = nil, rules: [UserRule] = [], stackRecurrent: Bool = true,
    settings: ModelSettings = ModelSettings()
  ) {
    self.heads = heads
    self.hfStyle = hfStyle
    self.rules = rules
    self.stackRecurrent = stackRecurrent
    self.settings = settings
  }
}
