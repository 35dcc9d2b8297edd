import CheckpointCore

/// What names and shapes cannot tell about a Transformer: heads (of packed or `[out, in]`
/// projections), activation, norm placement and LayerNorm eps, each with its source.
///
/// Precedence: a flag, then the file's own config or metadata, then what the naming's
/// architecture fixes (Hugging Face BERT layers are post-norm; BART and Marian layers are
/// post-norm with eps 1e-5, mBART's and Pegasus's pre-norm, as the config's `model_type` says).
/// A setting that none of these determines is not guessed: assembling fails with an error that
/// names the flag to pass (``unresolved``).
package struct TransformerSettings {
  package var heads: Int?
  package var activation: Activation
  package var normFirst: Bool
  package var eps: Float
  /// Where each came from.
  package var headsSource: ModelGraph.Source?
  package var activationSource: ModelGraph.Source
  package var normFirstSource: ModelGraph.Source
  package var epsSource: ModelGraph.Source

  /// The settings of a Transformer in `naming`, from the options given, the file's metadata and
  /// the naming; throws when one that changes the numbers is determined by none of them.
  package init(naming: Naming, metadata: ModelMetadata, options: ModelSettings) throws {
    let found = Resolution(naming: naming, metadata: metadata, options: options)
    guard let activation = found.activation, let normFirst = found.normFirst, let eps = found.eps else {
      throw TransformerSettings.unresolvedError(found.missing, naming: naming)
    }
    (self.activation, activationSource) = activation
    (self.normFirst, normFirstSource) = normFirst
    (self.eps, epsSource) = eps
    (heads, headsSource) = (found.heads?.value, found.heads?.source)
  }

  /// The settings that neither the options, the file's metadata nor the naming determine, by
  /// name (`activation`, `norm_first`, `eps`; `heads` is decided per attention block).
  package static func unresolved(naming: Naming, metadata: ModelMetadata, options: ModelSettings) -> [String]
  {
    Resolution(naming: naming, metadata: metadata, options: options).missing
  }

  /// What the options, the file's metadata and the naming determine, each nil where none does:
  /// what a file converted from this one should record.
  package static func known(naming: Naming, metadata: ModelMetadata, options: ModelSettings) -> ModelSettings
  {
    let found = Resolution(naming: naming, metadata: metadata, options: options)
    return ModelSettings(
      heads: found.heads?.value, activation: found.activation?.0, normFirst: found.normFirst?.0,
      eps: found.eps?.0)
  }

  /// The flags that contradict what the file's own config says, as lines for a warning (the
  /// flag wins: it is the user's explicit choice).
  package static func contradictions(metadata: ModelMetadata, options: ModelSettings) -> [String] {
    var lines: [String] = []
    func add(_ flag: String, _ given: String?, _ recorded: String?) {
      if let given, let recorded, given != recorded {
        lines.append("\(flag) \(given) contradicts the file's own config (\(recorded))")
      }
    }
    add("--heads", options.heads.map(String.init), metadata.heads.map(String.init))
    add("--activation", options.activation?.rawValue, metadata.activation?.rawValue)
    add(
      options.normFirst == true ? "--norm-first" : "--no-norm-first",
      options.normFirst.map { $0 ? "pre-norm" : "post-norm" },
      metadata.normFirst.map { $0 ? "pre-norm" : "post-norm" })
    add("--eps", options.eps.map { "\($0)" }, metadata.eps.map { "\($0)" })
    return lines
  }

  /// The error for settings nobody gave, naming the flags.
  package static func unresolvedError(_ missing: [String], naming: Naming) -> CheckpointError {
    let flags = missing.map { setting -> String in
      switch setting {
      case "heads": return "--heads"
      case "activation": return "--activation"
      case "norm_first": return "--norm-first or --no-norm-first"
      default: return "--eps"
      }
    }
    return CheckpointError(
      .invalidArgument,
      "the file does not record the Transformer's \(missing.joined(separator: ", ")) (\(naming.rawValue) naming), "
        + "and they change the numbers: pass \(flags.joined(separator: ", ")) (a Hugging Face folder's config.json, "
        + "a Keras model config or a file ckpt wrote records them)")
  }

  /// Refuses what the file's config says that the engine cannot honour and no flag decides.
  package static func check(_ metadata: ModelMetadata, options: ModelSettings) throws {
    for (setting, reason) in metadata.unsupported {
      if setting == "activation", options.activation != nil { continue }
      throw CheckpointError(.unsupported, reason)
    }
  }

  /// The heads of an attention block as the engine takes them: a Keras `[E, heads, d]` kernel
  /// proves them; else a flag or the file's config gives them; nil when nothing does.
  package func heads(
    _ attention: AttentionNames, naming: Naming, parameters: ParameterSet
  )
    -> (value: Int, source: ModelGraph.Source)?
  {
    let packed = attention.packed && attention.query == attention.key
    if !packed, naming == .keras2 || naming == .keras3, let shape = parameters.shape(attention.query),
      shape.count == 3
    {
      return (shape[1], .shapes)
    }
    return heads.map { ($0, headsSource ?? .flag) }
  }

  /// The settings of a layer whose self-attention is `attention`, for its graph node.
  package func describe(
    _ attention: AttentionNames, naming: Naming, parameters: ParameterSet
  ) -> [ModelGraph.Setting] {
    var settings: [ModelGraph.Setting] = []
    if let (value, source) = heads(attention, naming: naming, parameters: parameters) {
      settings.append(ModelGraph.Setting(name: "heads", value: String(value), source: source))
    }
    settings += [
      ModelGraph.Setting(name: "activation", value: activation.rawValue, source: activationSource),
      ModelGraph.Setting(name: "norm_first", value: String(normFirst), source: normFirstSource),
      epsSetting,
    ]
    return settings
  }

  /// The LayerNorm eps as a setting.
  package var epsSetting: ModelGraph.Setting {
    ModelGraph.Setting(name: "eps", value: "\(eps)", source: epsSource)
  }

  /// Each setting from the first source that gives it.
  private struct Resolution {
    var heads: (value: Int, source: ModelGraph.Source)?
    var activation: (Activation, ModelGraph.Source)?
    var normFirst: (Bool, ModelGraph.Source)?
    var eps: (Float, ModelGraph.Source)?

    init(naming: Naming, metadata: ModelMetadata, options: ModelSettings) {
      let fixed = TransformerSettings.fixed(naming, modelType: metadata.modelType)
      heads = options.heads.map { ($0, .flag) } ?? metadata.heads.map { ($0, .fileConfig) }
      activation = options.activation.map { ($0, .flag) } ?? metadata.activation.map { ($0, .fileConfig) }
      normFirst =
        options.normFirst.map { ($0, .flag) } ?? metadata.normFirst.map { ($0, .fileConfig) }
        ?? fixed.normFirst.map { ($0, .naming) }
      eps =
        options.eps.map { ($0, .flag) } ?? metadata.eps.map { ($0, .fileConfig) }
        ?? fixed.eps.map { ($0, .naming) }
    }

    var missing: [String] {
      [
        activation == nil ? "activation" : nil, normFirst == nil ? "norm_first" : nil,
        eps == nil ? "eps" : nil,
      ]
      .compactMap { $0 }
    }
  }

  /// What a naming's architecture fixes, whatever the model's config: transformers' BERT-family
  /// layers are post-norm; its BART-family classes hard-code nn.LayerNorm (eps 1e-5) and their
  /// norm placement, known from the config's `model_type`.
  private static func fixed(_ naming: Naming, modelType: String?) -> (normFirst: Bool?, eps: Float?) {
    switch naming {
    case .hfBert: return (false, nil)
    case .hfBart:
      switch modelType {
      case "bart", "marian", "plbart", "blenderbot-small": return (false, 1e-5)
      case "mbart", "pegasus", "blenderbot", "m2m_100": return (true, 1e-5)
      default: return (nil, nil)
      }
    case .pytorch, .keras2, .keras3: return (nil, nil)
    }
  }
}
