import CheckpointCore

/// The canned builders: one per ``Architecture``, each making the graph of that model family
/// from a checkpoint's names and shapes, its metadata and the settings given.
extension ModelGraph {
  /// Builds the graph of `architecture` from `checkpoint`.
  ///
  /// - Throws: `CheckpointError` `.notFound` when a module the architecture needs is missing
  ///   or ambiguous, `.invalidShape` for malformed weights.
  public static func build(
    _ architecture: Architecture, from checkpoint: Checkpoint, settings: ModelSettings = ModelSettings()
  ) throws -> ModelGraph {
    try build(architecture, parameters: ParameterSet(checkpoint), settings: settings)
  }

  /// The Transformer settings (`heads`, `activation`, `norm_first`, `eps`) that neither
  /// `settings`, the checkpoint's own config nor its naming determine for `architecture`: what
  /// ``build(_:from:settings:)`` would refuse for (empty for recurrent models, or when the
  /// architecture is not recognised at all).
  public static func unresolvedSettings(
    _ architecture: Architecture, from checkpoint: Checkpoint, settings: ModelSettings = ModelSettings()
  ) -> [String] {
    guard architecture == .transformer || architecture == .transformerEncoder else { return [] }
    let parameters = ParameterSet(checkpoint)
    guard let encoder = TransformerRecognizer(parameters: parameters).stacks().first(where: { !$0.isDecoder })
    else {
      return []
    }
    return unresolved(
      encoder, parameters: parameters, metadata: ModelMetadata(parameters.metadata), settings: settings)
  }

  /// The settings of `encoder`'s stack that nothing determines: heads unless a flag, the config
  /// or Keras kernel shapes give them, then activation, norm placement and eps.
  private static func unresolved(
    _ encoder: TransformerStack, parameters: ParameterSet, metadata: ModelMetadata,
    settings: ModelSettings
  ) -> [String] {
    var missing = TransformerSettings.unresolved(
      naming: encoder.layout, metadata: metadata, options: settings)
    let attention = encoder.layers[0].selfAttention
    let proven =
      !(attention.packed && attention.query == attention.key)
      && (encoder.layout == .keras2 || encoder.layout == .keras3)
      && parameters.shape(attention.query)?.count == 3
    if !proven, settings.heads == nil, metadata.heads == nil { missing.insert("heads", at: 0) }
    return missing
  }

  /// The graph of the first architecture of ``Architecture/detectionOrder`` whose builder
  /// recognises `checkpoint` (names, shapes and metadata only: no tensor is read), or nil.
  public static func recognise(_ checkpoint: Checkpoint, settings: ModelSettings = ModelSettings())
    -> ModelGraph?
  {
    let parameters = ParameterSet(checkpoint)
    for architecture in Architecture.detectionOrder {
      if let graph = try? build(architecture, parameters: parameters, settings: settings) { return graph }
    }
    return nil
  }

  package static func build(_ architecture: Architecture, parameters: ParameterSet, settings: ModelSettings)
    throws -> ModelGraph
  {
    switch architecture {
    case .lstm, .gru: return try recurrent(architecture, parameters)
    case .transformerEncoder, .transformer: return try transformer(architecture, parameters, settings)
    case .seq2seqLSTM: return try seq2seq(parameters)
    }
  }

  // MARK: LSTM and GRU

  private static func recurrent(_ architecture: Architecture, _ parameters: ParameterSet) throws -> ModelGraph
  {
    let kind: RecurrentModule.Kind = architecture == .lstm ? .lstm : .gru
    let module = try RecurrentRecognizer(parameters: parameters).single(kind)
    let node = recurrentNode(architecture.rawValue, module, parameters, inputs: ["x"])
    return ModelGraph(
      architecture: architecture, naming: module.layout, inputs: [Port(name: "x", required: true)],
      outputs: zip(architecture.outputs, node.outputs).map { ($0, $1) }, nodes: [node])
  }

  private static func recurrentNode(
    _ name: String, _ module: RecurrentModule, _ parameters: ParameterSet, inputs: [String]
  ) -> Node {
    var roles: [(String, String)] = []
    for (layer, cells) in module.cells.enumerated() {
      for (direction, cell) in cells.enumerated() {
        let suffix = "l\(layer)" + (direction == 1 ? "_reverse" : "")
        let named: [(String, String?)] = [
          ("weight_ih", cell.input), ("weight_hh", cell.recurrent), ("bias_ih", cell.inputBias),
          ("bias_hh", cell.recurrentBias), ("weight_hr", cell.projection),
        ]
        for (role, tensor) in named {
          if let tensor, parameters.contains(tensor) {
            roles.append(("\(suffix).\(role)", parameters.fileName(tensor)))
          }
        }
      }
    }
    let lstm = module.kind == .lstm
    var settings: [Setting] = []
    if !lstm {
      // PyTorch's GRU is always reset-after; Keras records it in its bias's shape ([2, 3H]).
      if module.layout == .pytorch {
        settings.append(Setting(name: "reset_after", value: "true", source: .naming))
      } else if let bias = module.cells[0][0].inputBias, let shape = parameters.shape(bias) {
        settings.append(Setting(name: "reset_after", value: String(shape.count == 2), source: .shapes))
      }
    }
    let outputs = (lstm ? ["y", "h_n", "c_n"] : ["y", "h_n"]).map { "\(name):\($0)" }
    return Node(
      name: name, operation: lstm ? .lstm : .gru, inputs: inputs, outputs: outputs, parameters: roles,
      settings: settings, recurrent: module)
  }

  // MARK: Transformers

  private static func transformer(
    _ architecture: Architecture, _ parameters: ParameterSet, _ given: ModelSettings
  )
    throws -> ModelGraph
  {
    let stacks = TransformerRecognizer(parameters: parameters).stacks()
    let encoders = stacks.filter { !$0.isDecoder }
    let decoders = stacks.filter { $0.isDecoder }
    guard let encoder = encoders.first else {
      throw ModelError.missingModule(
        "no Transformer encoder layers found (looked for PyTorch 'layers.N.self_attn', HF BERT 'layer.N.attention', "
          + "HF BART 'layers.N.self_attn.q_proj', keras_hub '_self_attention_layer')")
    }
    guard encoders.count == 1 else {
      throw ModelError.missingModule(
        "found \(encoders.count) encoder stacks (\(encoders.map { "'\($0.name)'" }.joined(separator: ", "))); expected one"
      )
    }
    if architecture == .transformer, decoders.count != 1 {
      throw ModelError.missingModule(
        decoders.isEmpty
          ? "no Transformer decoder layers found (with cross-attention)"
          : "found \(decoders.count) decoder stacks; expected one")
    }
    let naming = encoder.layout
    let metadata = ModelMetadata(parameters.metadata)
    try TransformerSettings.check(metadata, options: given)
    let missing = unresolved(encoder, parameters: parameters, metadata: metadata, settings: given)
    guard missing.isEmpty else { throw TransformerSettings.unresolvedError(missing, naming: naming) }
    let settings = try TransformerSettings(naming: naming, metadata: metadata, options: given)
    var nodes: [Node] = []
    let memory = stack(
      encoder, side: "encoder", input: architecture == .transformer ? "src" : "x", memory: nil,
      settings: settings, parameters: parameters, into: &nodes)
    let notes = TransformerSettings.contradictions(metadata: metadata, options: given)
    guard architecture == .transformer else {
      return ModelGraph(
        architecture: architecture, naming: naming,
        inputs: [Port(name: "x", required: true), Port(name: "mask", required: false)],
        outputs: [("y", memory)],
        nodes: nodes, notes: notes)
    }
    guard let decoder = decoders.first, decoders.count == 1 else {
      throw ModelError.missingModule(
        decoders.isEmpty
          ? "no Transformer decoder layers found (with cross-attention)"
          : "found \(decoders.count) decoder stacks; expected one")
    }
    let out = stack(
      decoder, side: "decoder", input: "tgt", memory: memory, settings: settings, parameters: parameters,
      into: &nodes)
    return ModelGraph(
      architecture: architecture, naming: naming,
      inputs: [Port(name: "src", required: true), Port(name: "tgt", required: true)], outputs: [("out", out)],
      nodes: nodes, notes: notes)
  }

  /// Appends the nodes of an encoder (`memory` nil) or decoder stack; returns its output value.
  // swift-format-ignore: FunctionParameterCount
  private static func stack(
    _ stack: TransformerStack, side: String, input: String, memory: String?,
    settings: TransformerSettings, parameters: ParameterSet, into nodes: inout [Node]
  ) -> String {
    var value = input
    for (index, layer) in stack.layers.enumerated() {
      let name = "\(side).layers.\(index)"
      var inputs = [value]
      if let memory { inputs.append(memory) } else if input == "x" { inputs.append("mask") }
      nodes.append(
        Node(
          name: name, operation: memory == nil ? .transformerEncoderLayer : .transformerDecoderLayer,
          inputs: inputs, outputs: ["\(name):y"], parameters: roles(layer, parameters),
          settings: settings.describe(layer.selfAttention, naming: stack.layout, parameters: parameters),
          transformerLayer: layer))
      value = "\(name):y"
    }
    if let norm = stack.finalNorm {
      let name = "\(side).norm"
      nodes.append(
        Node(
          name: name, operation: .layerNorm, inputs: [value], outputs: ["\(name):y"],
          parameters: [("weight", norm.gamma), ("bias", norm.beta)].filter { parameters.contains($0.1) }.map {
            ($0.0, parameters.fileName($0.1))
          }, settings: [settings.epsSetting], norm: norm))
      value = "\(name):y"
    }
    return value
  }

  private static func roles(_ layer: TransformerLayerNames, _ parameters: ParameterSet) -> [(
    role: String, tensor: String
  )] {
    var named: [(String, String?)] = []
    func attention(_ a: AttentionNames, _ role: String) {
      if a.packed && a.query == a.key {
        named += [("\(role).in_proj.weight", a.query), ("\(role).in_proj.bias", a.queryBias)]
      } else {
        named += [
          ("\(role).q.weight", a.query), ("\(role).q.bias", a.packed ? nil : a.queryBias),
          ("\(role).k.weight", a.key),
          ("\(role).k.bias", a.packed ? nil : a.keyBias), ("\(role).v.weight", a.value),
          ("\(role).v.bias", a.packed ? nil : a.valueBias),
        ]
        if a.packed { named.append(("\(role).in_proj.bias", a.queryBias)) }
      }
      named += [("\(role).out.weight", a.output), ("\(role).out.bias", a.outputBias)]
    }
    attention(layer.selfAttention, "self")
    if let cross = layer.crossAttention { attention(cross, "cross") }
    named += [
      ("linear1.weight", layer.inner), ("linear1.bias", layer.innerBias),
      ("linear2.weight", layer.outer), ("linear2.bias", layer.outerBias),
    ]
    for (index, norm) in layer.norms.enumerated() {
      named += [("norm\(index + 1).weight", norm.gamma), ("norm\(index + 1).bias", norm.beta)]
    }
    return named.compactMap { role, tensor in
      guard let tensor, parameters.contains(tensor) else { return nil }
      return (role, parameters.fileName(tensor))
    }
  }

  // MARK: seq2seq LSTM

  /// The encoder-decoder LSTM of the classic sequence-to-sequence tutorial: the encoder embeds
  /// and encodes `src`; the decoder embeds `tgt` and runs its LSTM from the encoder's final
  /// `(h, c)` (teacher forcing); a dense layer turns each output into vocabulary logits.
  private static func seq2seq(_ parameters: ParameterSet) throws -> ModelGraph {
    let parts = try Seq2SeqRecognizer(parameters: parameters).parts()
    let encoderEmbedding = Node(
      name: "encoder.embedding", operation: .embedding, inputs: ["src"], outputs: ["encoder.embedding:y"],
      parameters: [("weight", parameters.fileName(parts.encoderEmbedding))], settings: [],
      table: parts.encoderEmbedding)
    let encoder = recurrentNode("encoder.lstm", parts.encoder, parameters, inputs: ["encoder.embedding:y"])
    let decoderEmbedding = Node(
      name: "decoder.embedding", operation: .embedding, inputs: ["tgt"], outputs: ["decoder.embedding:y"],
      parameters: [("weight", parameters.fileName(parts.decoderEmbedding))], settings: [],
      table: parts.decoderEmbedding)
    let decoder = recurrentNode(
      "decoder.lstm", parts.decoder, parameters,
      inputs: ["decoder.embedding:y", "encoder.lstm:h_n", "encoder.lstm:c_n"])
    let projection = Node(
      name: "projection", operation: .dense, inputs: ["decoder.lstm:y"], outputs: ["projection:y"],
      parameters: [("weight", parameters.fileName(parts.projection.weight))]
        + (parts.projection.bias.map { [("bias", parameters.fileName($0))] } ?? []),
      settings: [], dense: parts.projection)
    return ModelGraph(
      architecture: .seq2seqLSTM, naming: parts.encoder.layout,
      inputs: [Port(name: "src", required: true), Port(name: "tgt", required: true)],
      outputs: [("logits", "projection:y")],
      nodes: [encoderEmbedding, encoder, decoderEmbedding, decoder, projection])
  }
}
