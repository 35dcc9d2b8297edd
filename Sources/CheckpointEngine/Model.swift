import CheckpointCore
import CheckpointModels

/// A model assembled from a checkpoint, ready to run forward passes.
///
/// ```swift
/// let model = try Model(checkpoint, architecture: .lstm)
/// let outputs = try model.run(inputs)   // a Checkpoint of y, h_n, c_n
/// ```
///
/// Modules are recognised from tensor names and shapes in PyTorch, Keras 2, Keras 3
/// (with keras_hub) and Hugging Face BERT/BART naming; see ``Naming``.
public struct Model: Sendable {
  /// The architecture.
  public let architecture: Architecture
  /// The naming scheme the checkpoint was recognised in.
  public let layout: Naming
  /// A one-line description of what was assembled.
  public let summary: String
  /// The Transformer settings the model runs with (the first layer's heads, activation, norm
  /// placement, eps); all `nil` for recurrent models.
  public private(set) var settings = ModelSettings()
  /// The Transformer settings the checkpoint itself records (its metadata; the heads of Keras
  /// `[E, heads, d]` kernels); `nil` where the file is silent and a default or option applied.
  public private(set) var recordedSettings = ModelSettings()
  let body: Body

  enum Body: Sendable {
    case lstm(LSTM)
    case gru(GRU)
    case encoder(EncoderStack)
    case transformer(EncoderStack, DecoderStack)
    case seq2seq(Seq2SeqLSTM)
  }

  /// `x` through a stack's optional final norm, recorded in `trace` as module `name`.
  static func applyingFinalNorm(_ norm: LayerNorm?, to x: Matrix, trace: ModuleTrace?, name: String) -> Matrix
  {
    guard let norm else { return x }
    let y = x.normalized(norm)
    trace?.append(name: name, parent: nil, inputs: [x], outputs: [y])
    return y
  }

  struct EncoderStack: Sendable {
    var layers: [TransformerEncoderLayer]
    var finalNorm: LayerNorm?
    var embed: Int

    func callAsFunction(_ x: Matrix, keep: [Bool]?, trace: ModuleTrace? = nil) -> Matrix {
      var x = x
      for (index, layer) in layers.enumerated() {
        x = layer(x, keep: keep, trace: trace, name: "encoder.layers.\(index)")
      }
      return Model.applyingFinalNorm(finalNorm, to: x, trace: trace, name: "encoder.norm")
    }
  }

  struct DecoderStack: Sendable {
    var layers: [TransformerDecoderLayer]
    var finalNorm: LayerNorm?
    var embed: Int

    func callAsFunction(_ x: Matrix, memory: Matrix, trace: ModuleTrace? = nil) -> Matrix {
      var x = x
      for (index, layer) in layers.enumerated() {
        x = layer(x, memory: memory, trace: trace, name: "decoder.layers.\(index)")
      }
      return Model.applyingFinalNorm(finalNorm, to: x, trace: trace, name: "decoder.norm")
    }
  }

  /// Assembles `architecture` from `checkpoint`.
  ///
  /// - Throws: ``CheckpointError``: `.notFound` when a module is missing, `.invalidShape` when a
  ///   weight does not fit, `.invalidArgument` for options that cannot work (heads not dividing E).
  public init(_ checkpoint: Checkpoint, architecture: Architecture, options: ModelSettings = ModelSettings())
    throws
  {
    try BLAS.load()
    self.architecture = architecture
    let parameters = ParameterSet(checkpoint)
    switch architecture {
    case .lstm, .gru:
      let kind: RecurrentRecognizer.Kind = architecture == .lstm ? .lstm : .gru
      let found = RecurrentRecognizer(parameters: parameters).modules()
      let module = try Model.single(found, kind: kind, parameters: parameters)
      layout = module.layout
      if architecture == .lstm {
        let lstm = try module.lstm(parameters)
        body = .lstm(lstm)
        summary =
          "LSTM (\(layout.rawValue)): \(lstm.layers.count) layer(s) × \(lstm.directions) direction(s), "
          + "input \(lstm.inputSize), hidden \(lstm.hiddenSize)"
          + (lstm.outputSize != lstm.hiddenSize ? ", projection \(lstm.outputSize)" : "")
      } else {
        let gru = try module.gru(parameters)
        body = .gru(gru)
        summary =
          "GRU (\(layout.rawValue)\(gru.resetAfter ? "" : ", reset_after=False")): \(gru.layers.count) layer(s) × "
          + "\(gru.directions) direction(s), input \(gru.inputSize), hidden \(gru.hiddenSize)"
      }
    case .transformerEncoder, .transformer:
      let stacks = TransformerRecognizer(parameters: parameters).stacks()
      let encoders = stacks.filter { !$0.isDecoder }
      let decoders = stacks.filter { $0.isDecoder }
      guard let encoderNames = encoders.first else {
        throw EngineError.missingModule(
          "no Transformer encoder layers found (looked for PyTorch 'layers.N.self_attn', HF BERT 'layer.N.attention', "
            + "HF BART 'layers.N.self_attn.q_proj', keras_hub '_self_attention_layer')")
      }
      guard encoders.count == 1 else {
        throw EngineError.missingModule(
          "found \(encoders.count) encoder stacks (\(encoders.map { "'\($0.prefix)'" }.joined(separator: ", "))); expected one"
        )
      }
      layout = encoderNames.layout
      let metadata = ModelMetadata(parameters.metadata)
      let transformer = TransformerSettings(layout: layout, metadata: metadata, options: options)
      let builder = TransformerBuilder(parameters: parameters, settings: transformer, layout: layout)
      let encoder = try Model.encoder(encoderNames, builder)
      let heads = encoder.layers.first?.selfAttention.heads
      settings = ModelSettings(
        heads: heads, activation: transformer.activation, normFirst: transformer.normFirst,
        eps: transformer.eps)
      recordedSettings = ModelSettings(
        heads: layout == .keras3 || layout == .keras2 ? heads : metadata.heads,
        activation: metadata.activation,
        normFirst: metadata.normFirst, eps: metadata.eps)
      let describe =
        "heads \(heads ?? 0), \(transformer.activation.rawValue), "
        + "\(transformer.normFirst ? "pre-norm" : "post-norm"), eps \(transformer.eps)"
      if architecture == .transformerEncoder {
        body = .encoder(encoder)
        summary =
          "Transformer encoder (\(layout.rawValue)): \(encoder.layers.count) layer(s), d_model \(encoder.embed), "
          + describe + (encoder.finalNorm == nil ? "" : ", final norm")
      } else {
        guard let decoderNames = decoders.first, decoders.count == 1 else {
          throw EngineError.missingModule(
            decoders.isEmpty
              ? "no Transformer decoder layers found (with cross-attention)"
              : "found \(decoders.count) decoder stacks; expected one")
        }
        let decoder = try Model.decoder(decoderNames, builder)
        guard decoder.embed == encoder.embed else {
          throw EngineError.missingModule(
            "decoder width \(decoder.embed) differs from the encoder's \(encoder.embed)")
        }
        body = .transformer(encoder, decoder)
        summary =
          "Transformer (\(layout.rawValue)): \(encoder.layers.count) encoder + \(decoder.layers.count) decoder "
          + "layer(s), d_model \(encoder.embed), " + describe
      }
    case .seq2seqLSTM:
      let (model, layout) = try Seq2SeqRecognizer(parameters: parameters).model()
      self.layout = layout
      body = .seq2seq(model)
      summary =
        "seq2seq LSTM (\(layout.rawValue)): vocabularies \(model.encoderEmbedding.vocabulary) → "
        + "\(model.projection.outFeatures), \(model.encoder.layers.count) layer(s), hidden \(model.encoder.hiddenSize)"
    }
  }

  private static func single(
    _ found: [RecurrentRecognizer.Found], kind: RecurrentRecognizer.Kind, parameters: ParameterSet
  ) throws
    -> RecurrentRecognizer.Found
  {
    let matching = found.filter { $0.kind == kind }
    guard !matching.isEmpty else {
      let others = found.map { "\($0.kind.rawValue) '\($0.prefix)'" }
      throw EngineError.missingModule(
        "no \(kind.rawValue) module found"
          + (others.isEmpty ? "" : " (found \(others.joined(separator: ", ")))"))
    }
    if matching[0].layout == .pytorch {
      guard matching.count == 1 else {
        throw EngineError.missingModule(
          "found \(matching.count) \(kind.rawValue) modules (\(matching.map { "'\($0.prefix)'" }.joined(separator: ", "))); "
            + "expected one")
      }
      return matching[0]
    }
    // Keras: one layer per module; the layers of the file make the stack.
    if let config = parameters.kerasConfig {
      for module in matching { try config.checkRecurrent(module.prefix) }
    }
    guard matching.count == found.count, let stack = RecurrentRecognizer.Found.stacked(matching) else {
      throw EngineError.missingModule("the file mixes LSTM and GRU layers; cannot tell the stack")
    }
    return stack
  }

  private static func encoder(_ names: TransformerRecognizer.Stack, _ builder: TransformerBuilder) throws
    -> EncoderStack
  {
    let embed = try builder.embedSize(names)
    let layers = try names.layers.map { try builder.encoderLayer($0, embed: embed) }
    let norm = try names.finalNorm.map {
      try builder.layerNorm($0, embed: embed, module: "encoder final norm")
    }
    return EncoderStack(layers: layers, finalNorm: norm, embed: embed)
  }

  private static func decoder(_ names: TransformerRecognizer.Stack, _ builder: TransformerBuilder) throws
    -> DecoderStack
  {
    let embed = try builder.embedSize(names)
    let layers = try names.layers.map { try builder.decoderLayer($0, embed: embed) }
    let norm = try names.finalNorm.map {
      try builder.layerNorm($0, embed: embed, module: "decoder final norm")
    }
    return DecoderStack(layers: layers, finalNorm: norm, embed: embed)
  }
}
