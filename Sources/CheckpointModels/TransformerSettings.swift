import CheckpointCore

/// What names and shapes cannot tell about a Transformer: heads (of packed or `[out, in]`
/// projections), activation, norm placement and LayerNorm eps, each with its source.
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

  /// The naming's defaults (PyTorch's for PyTorch), then the file's metadata, then the options given.
  package init(naming: Naming, metadata: ModelMetadata, options: ModelSettings) {
    switch naming {
    case .hfBert: (activation, normFirst, eps) = (.gelu, false, 1e-12)
    case .hfBart: (activation, normFirst, eps) = (.gelu, false, 1e-5)
    case .pytorch, .keras2, .keras3: (activation, normFirst, eps) = (.relu, false, 1e-5)
    }
    (activationSource, normFirstSource, epsSource) = (.namingDefault, .namingDefault, .namingDefault)
    heads = metadata.heads ?? options.heads
    headsSource = metadata.heads != nil ? .fileConfig : options.heads != nil ? .flag : nil
    if let value = metadata.activation { (activation, activationSource) = (value, .fileConfig) }
    if let value = metadata.normFirst { (normFirst, normFirstSource) = (value, .fileConfig) }
    if let value = metadata.eps { (eps, epsSource) = (value, .fileConfig) }
    if let value = options.heads { (heads, headsSource) = (value, .flag) }
    if let value = options.activation { (activation, activationSource) = (value, .flag) }
    if let value = options.normFirst { (normFirst, normFirstSource) = (value, .flag) }
    if let value = options.eps { (eps, epsSource) = (value, .flag) }
  }

  /// Refuses what the file's config says that the engine cannot honour and no flag decides.
  package func check(_ metadata: ModelMetadata, options: ModelSettings) throws {
    for (setting, reason) in metadata.unsupported {
      if setting == "activation", options.activation != nil { continue }
      throw CheckpointError(.unsupported, reason)
    }
  }

  /// The heads of an attention block as the engine takes them: a Keras `[E, heads, d]` kernel
  /// proves them; a packed projection needs them given (nil: not known); else the given value,
  /// or PyTorch's default of 8.
  package func heads(
    _ attention: TransformerRecognizer.AttentionNames, naming: Naming, parameters: ParameterSet
  )
    -> (value: Int, source: ModelGraph.Source)?
  {
    if attention.packed && attention.query == attention.key {
      return heads.map { ($0, headsSource ?? .flag) }
    }
    if naming == .keras2 || naming == .keras3, let shape = parameters.shape(attention.query), shape.count == 3
    {
      return (shape[1], .shapes)
    }
    return heads.map { ($0, headsSource ?? .flag) } ?? (8, .namingDefault)
  }

  /// The settings of a layer whose self-attention is `attention`, for its graph node.
  package func describe(
    _ attention: TransformerRecognizer.AttentionNames, naming: Naming, parameters: ParameterSet
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
}
