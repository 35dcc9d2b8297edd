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
/// (with keras_hub) and Hugging Face BERT/BART naming; see `Naming`.
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
  /// The graph the model was assembled from (`ModelGraph`), node by node what `steps` run.
  public let graph: ModelGraph
  /// The graph's nodes compiled into the engine's layers, in execution order.
  let steps: [Step]

  /// A node of the graph and the layer that computes it.
  struct Step: Sendable {
    var node: ModelGraph.Node
    var kernel: Kernel
  }

  /// The engine's layer for each ``ModelGraph/Operation``.
  enum Kernel: Sendable {
    case lstm(LSTM)
    case gru(GRU)
    case encoderLayer(TransformerEncoderLayer)
    case decoderLayer(TransformerDecoderLayer)
    case norm(LayerNorm)
    case embedding(Embedding)
    case dense(Linear)
  }

  /// `x` through a stack's optional final norm, recorded in `trace` as module `name`.
  static func applyingFinalNorm(_ norm: LayerNorm?, to x: Matrix, trace: ModuleTrace?, name: String) -> Matrix
  {
    guard let norm else { return x }
    let y = x.normalized(norm)
    trace?.append(name: name, parent: nil, inputs: [x], outputs: [y])
    return y
  }

  /// Assembles `architecture` from `checkpoint`: its canned builder makes the graph
  /// (`ModelGraph/build(_:from:settings:)`), and each node is loaded into an engine layer.
  ///
  /// - Throws: `CheckpointError`: `.notFound` when a module is missing, `.invalidShape` when a
  ///   weight does not fit, `.invalidArgument` for options that cannot work (heads not dividing E).
  public init(_ checkpoint: Checkpoint, architecture: Architecture, options: ModelSettings = ModelSettings())
    throws
  {
    try BLAS.load()
    let parameters = ParameterSet(checkpoint)
    try self.init(
      ModelGraph.build(architecture, parameters: parameters, settings: options), parameters: parameters,
      options: options)
  }

  /// Compiles `graph`'s nodes with the tensors of `parameters`.
  init(_ graph: ModelGraph, parameters: ParameterSet, options: ModelSettings) throws {
    self.graph = graph
    architecture = graph.architecture
    layout = graph.naming
    let metadata = ModelMetadata(parameters.metadata)
    let transformer =
      graph.architecture == .transformer || graph.architecture == .transformerEncoder
      ? try TransformerSettings(naming: layout, metadata: metadata, options: options) : nil
    let naming = graph.naming
    let builder = transformer.map { TransformerBuilder(parameters: parameters, settings: $0, layout: naming) }
    var steps: [Step] = []
    var widths: [String: Int] = [:]
    /// The width of the stack `side` (`encoder`, `decoder`): its first layer's attention output.
    func width(_ side: String, _ builder: TransformerBuilder) throws -> Int {
      if let known = widths[side] { return known }
      guard let first = graph.node("\(side).layers.0")?.transformerLayer else {
        throw ModelError.missingModule("no Transformer \(side) layers")
      }
      let embed = try builder.embedSize(first)
      if side == "decoder", let encoder = widths["encoder"], encoder != embed {
        throw ModelError.missingModule("decoder width \(embed) differs from the encoder's \(encoder)")
      }
      widths[side] = embed
      return embed
    }
    for node in graph.nodes {
      let side = String(node.name.prefix { $0 != "." })
      let kernel: Kernel
      switch node.operation {
      case .lstm: kernel = .lstm(try Model.recurrent(node).lstm(parameters))
      case .gru: kernel = .gru(try Model.recurrent(node).gru(parameters))
      case .transformerEncoderLayer:
        guard let builder else { throw Model.unnamed(node) }
        kernel = .encoderLayer(
          try builder.encoderLayer(try Model.layer(node), embed: try width(side, builder)))
      case .transformerDecoderLayer:
        guard let builder else { throw Model.unnamed(node) }
        kernel = .decoderLayer(
          try builder.decoderLayer(try Model.layer(node), embed: try width(side, builder)))
      case .layerNorm:
        guard let names = node.norm, let builder else { throw Model.unnamed(node) }
        kernel = .norm(
          try builder.layerNorm(names, embed: try width(side, builder), module: "\(side) final norm"))
      case .embedding:
        guard let name = node.table, let shape = parameters.shape(name), shape.count == 2 else {
          throw Model.unnamed(node)
        }
        let table = try parameters.floats(name, module: "\(side) embedding")
        kernel = .embedding(Embedding(table: table, vocabulary: shape[0], features: shape[1]))
      case .dense:
        guard let names = node.dense else { throw Model.unnamed(node) }
        let features = steps.compactMap { step -> Int? in
          guard case .lstm(let lstm) = step.kernel, node.inputs.first == step.node.outputs.first else {
            return nil
          }
          return lstm.outputSize
        }.first
        let weight = try parameters.dense(
          names.weight, layout: layout == .pytorch ? .outIn : .inOut, inFeatures: features,
          module: "output projection")
        let bias = try names.bias.map {
          try parameters.vector($0, count: weight.outFeatures, module: "output projection")
        }
        kernel = .dense(Linear(weight: weight, bias: bias))
      }
      steps.append(Step(node: node, kernel: kernel))
    }
    self.steps = steps
    summary = Model.summary(graph, steps, transformer)
    if let transformer {
      let heads = steps.lazy.compactMap { step -> Int? in
        if case .encoderLayer(let layer) = step.kernel { return layer.selfAttention.heads }
        return nil
      }.first
      settings = ModelSettings(
        heads: heads, activation: transformer.activation, normFirst: transformer.normFirst,
        eps: transformer.eps)
    }
  }

  private static func recurrent(_ node: ModelGraph.Node) throws -> RecurrentModule {
    guard let names = node.recurrent else { throw unnamed(node) }
    return names
  }

  private static func layer(_ node: ModelGraph.Node) throws -> TransformerLayerNames {
    guard let names = node.transformerLayer else { throw unnamed(node) }
    return names
  }

  private static func unnamed(_ node: ModelGraph.Node) -> CheckpointError {
    ModelError.missingModule(
      "graph node '\(node.name)' (\(node.operation.rawValue)) names no tensors the engine can load")
  }

  /// The one-line description of the assembled model.
  private static func summary(_ graph: ModelGraph, _ steps: [Step], _ transformer: TransformerSettings?)
    -> String
  {
    let layout = graph.naming.rawValue
    var encoderLayers: [TransformerEncoderLayer] = []
    var decoderLayers: [TransformerDecoderLayer] = []
    var lstms: [LSTM] = []
    var embeddings: [Embedding] = []
    var projection: Linear?
    var finalNorms: [String] = []
    for step in steps {
      switch step.kernel {
      case .lstm(let lstm): lstms.append(lstm)
      case .gru(let gru):
        return
          "GRU (\(layout)\(gru.resetAfter ? "" : ", reset_after=False")): \(gru.layers.count) layer(s) × "
          + "\(gru.directions) direction(s), input \(gru.inputSize), hidden \(gru.hiddenSize)"
      case .encoderLayer(let layer): encoderLayers.append(layer)
      case .decoderLayer(let layer): decoderLayers.append(layer)
      case .norm: finalNorms.append(step.node.name)
      case .embedding(let embedding): embeddings.append(embedding)
      case .dense(let linear): projection = linear
      }
    }
    switch graph.architecture {
    case .lstm, .gru:
      let lstm = lstms[0]
      return "LSTM (\(layout)): \(lstm.layers.count) layer(s) × \(lstm.directions) direction(s), "
        + "input \(lstm.inputSize), hidden \(lstm.hiddenSize)"
        + (lstm.outputSize != lstm.hiddenSize ? ", projection \(lstm.outputSize)" : "")
    case .seq2seqLSTM:
      return "seq2seq LSTM (\(layout)): vocabularies \(embeddings[0].vocabulary) → "
        + "\(projection?.outFeatures ?? 0), \(lstms[0].layers.count) layer(s), hidden \(lstms[0].hiddenSize)"
    case .transformerEncoder, .transformer:
      guard let transformer else { return "Transformer (\(layout))" }
      let heads = encoderLayers.first?.selfAttention.heads
      let embed = encoderLayers.first?.norm1.features ?? 0
      let describe =
        "heads \(heads ?? 0), \(transformer.activation.rawValue), "
        + "\(transformer.normFirst ? "pre-norm" : "post-norm"), eps \(transformer.eps)"
      if graph.architecture == .transformerEncoder {
        return "Transformer encoder (\(layout)): \(encoderLayers.count) layer(s), d_model \(embed), "
          + describe + (finalNorms.contains("encoder.norm") ? ", final norm" : "")
      }
      return "Transformer (\(layout)): \(encoderLayers.count) encoder + \(decoderLayers.count) decoder "
        + "layer(s), d_model \(embed), " + describe
    }
  }
}
