import CheckpointCore

extension Model {
  /// A module of the model and the layer that runs it.
  enum Unit {
    case lstmLayer(LSTM, Int)
    case gruLayer(GRU, Int)
    case encoderLayer(TransformerEncoderLayer)
    case decoderLayer(TransformerDecoderLayer)
    case attention(MultiHeadAttention)
    case norm(LayerNorm)
    case feedForward(FeedForward)
    case embedding(Embedding)
    case linear(Linear)
  }

  /// The model's modules under their canonical names, in execution order (a layer's
  /// sub-modules before the layer). See ``ModuleDescriptor`` for the names.
  public var modules: [ModuleDescriptor] { units().map(\.descriptor) }

  /// The inputs the model takes, with the sizes its weights fix (optional inputs left out).
  public var inputSpecs: [InputSpec] {
    switch body {
    case .lstm(let lstm): return [InputSpec(name: "x", isTokens: false, size: lstm.inputSize)]
    case .gru(let gru): return [InputSpec(name: "x", isTokens: false, size: gru.inputSize)]
    case .encoder(let encoder): return [InputSpec(name: "x", isTokens: false, size: encoder.embed)]
    case .transformer(let encoder, let decoder):
      return [
        InputSpec(name: "src", isTokens: false, size: encoder.embed),
        InputSpec(name: "tgt", isTokens: false, size: decoder.embed),
      ]
    case .seq2seq(let model):
      return [
        InputSpec(name: "src", isTokens: true, size: model.encoderEmbedding.vocabulary),
        InputSpec(name: "tgt", isTokens: true, size: model.decoderEmbedding.vocabulary),
      ]
    }
  }

  /// Runs the module `record.name` of this model on `record`'s inputs (and its padding mask
  /// and causality), returning its outputs. With a `trace`, a layer records its sub-modules
  /// as a forward pass does, so a layer's run on another model's layer input shows where
  /// inside the layer the two differ.
  ///
  /// - Throws: ``CheckpointError`` `.notFound` when the model has no such module,
  ///   `.invalidShape` when the inputs do not fit the module's weights.
  public func runModule(_ record: ModuleRecord, trace: ModuleTrace? = nil) throws -> [Matrix] {
    guard let unit = units().first(where: { $0.descriptor.name == record.name })?.unit else {
      throw CheckpointError(.notFound, "no module '\(record.name)' in this \(architecture.rawValue) model")
    }
    let inputs = record.inputs
    func need(_ count: ClosedRange<Int>) throws {
      guard count.contains(inputs.count) else {
        throw CheckpointError(
          .invalidShape, "module '\(record.name)' takes \(count) inputs, given \(inputs.count)")
      }
    }
    func fits(_ index: Int, rank: Int, features: Int) throws {
      let shape = inputs[index].shape
      guard shape.count == rank, shape.allSatisfy({ $0 > 0 }), shape.last == features,
        inputs[index].count == shape.reduce(1, *)
      else {
        throw CheckpointError(
          .invalidShape,
          "module '\(record.name)': input \(index) has shape \(Shape.describe(shape)); "
            + "the module takes \(rank)-d arrays of \(features) features")
      }
    }
    func keepFits(_ memory: Matrix) throws {
      if let keep = record.keep, keep.count != memory.shape[0] * memory.shape[1] {
        throw CheckpointError(.invalidShape, "module '\(record.name)': mask does not match the keys")
      }
    }
    switch unit {
    case .lstmLayer(let lstm, let index):
      try need(1...3)
      let features = index == 0 ? lstm.inputSize : lstm.directions * lstm.outputSize
      try fits(0, rank: 3, features: features)
      let batch = inputs[0].shape[0]
      var h0: Matrix?
      var c0: Matrix?
      if inputs.count == 3 {
        guard inputs[1].shape == [lstm.directions, batch, lstm.outputSize],
          inputs[2].shape == [lstm.directions, batch, lstm.hiddenSize]
        else {
          throw CheckpointError(.invalidShape, "module '\(record.name)': initial states do not fit")
        }
        (h0, c0) = (inputs[1], inputs[2])
      }
      let result = lstm.forwardLayer(index, inputs[0], h0: h0, c0: c0)
      return [result.y, result.hN, result.cN]
    case .gruLayer(let gru, let index):
      try need(1...1)
      try fits(0, rank: 3, features: index == 0 ? gru.inputSize : gru.directions * gru.hiddenSize)
      let result = gru.forwardLayer(index, inputs[0])
      return [result.y, result.hN]
    case .encoderLayer(let layer):
      try need(1...1)
      try fits(0, rank: 3, features: layer.norm1.features)
      try keepFits(inputs[0])
      return [layer(inputs[0], keep: record.keep, trace: trace, name: record.name)]
    case .decoderLayer(let layer):
      try need(2...2)
      try fits(0, rank: 3, features: layer.norm1.features)
      try fits(1, rank: 3, features: layer.crossAttention.key.inFeatures)
      guard inputs[1].shape[0] == inputs[0].shape[0] else {
        throw CheckpointError(.invalidShape, "module '\(record.name)': batch sizes differ")
      }
      try keepFits(inputs[1])
      return [
        layer(inputs[0], memory: inputs[1], memoryKeep: record.keep, trace: trace, name: record.name)
      ]
    case .attention(let attention):
      try need(2...2)
      try fits(0, rank: 3, features: attention.query.inFeatures)
      try fits(1, rank: 3, features: attention.key.inFeatures)
      guard attention.value.inFeatures == attention.key.inFeatures, inputs[1].shape[0] == inputs[0].shape[0]
      else {
        throw CheckpointError(.invalidShape, "module '\(record.name)': key and value inputs differ")
      }
      try keepFits(inputs[1])
      return [attention(inputs[0], memory: inputs[1], keep: record.keep, causal: record.causal)]
    case .norm(let norm):
      try need(1...1)
      try fits(0, rank: inputs[0].shape.count, features: norm.features)
      return [inputs[0].normalized(norm)]
    case .feedForward(let feedForward):
      try need(1...1)
      try fits(0, rank: inputs[0].shape.count, features: feedForward.inner.inFeatures)
      return [feedForward(inputs[0])]
    case .embedding(let embedding):
      try need(1...1)
      let tokens = inputs[0]
      guard tokens.shape.count == 2 else {
        throw CheckpointError(.invalidShape, "module '\(record.name)': expected token ids [B, T]")
      }
      return [
        try embedding.apply(
          tokens.values.map { Int(exactly: $0) ?? -1 }, shape: tokens.shape, input: record.name)
      ]
    case .linear(let linear):
      try need(1...1)
      try fits(0, rank: inputs[0].shape.count, features: linear.inFeatures)
      return [inputs[0].applying(linear)]
    }
  }

  /// Every module with its descriptor, in execution order.
  func units() -> [(descriptor: ModuleDescriptor, unit: Unit)] {
    var result: [(descriptor: ModuleDescriptor, unit: Unit)] = []
    func add(
      _ name: String, _ kind: String, _ unit: Unit, parent: String? = nil, signature: String,
      settings: String = "", inputs: [String], outputs: [String]
    ) {
      result.append(
        (
          ModuleDescriptor(
            name: name, kind: kind, parent: parent, signature: signature, settings: settings,
            inputNames: inputs,
            outputNames: outputs), unit
        ))
    }
    func lstmLayers(_ lstm: LSTM, _ prefix: String, states: Bool) {
      for index in lstm.layers.indices {
        let features = index == 0 ? lstm.inputSize : lstm.directions * lstm.outputSize
        add(
          "\(prefix).l\(index)", "lstm-layer", .lstmLayer(lstm, index),
          signature: "input \(features), hidden \(lstm.hiddenSize), output \(lstm.outputSize), "
            + "directions \(lstm.directions)",
          inputs: states ? ["x", "h0", "c0"] : ["x"], outputs: ["y", "h_n", "c_n"])
      }
    }
    func norm(_ norm: LayerNorm, _ name: String, parent: String?) {
      add(
        name, "layer-norm", .norm(norm), parent: parent, signature: "features \(norm.features)",
        settings: "eps \(norm.eps)", inputs: ["x"], outputs: ["y"])
    }
    func attention(_ attention: MultiHeadAttention, _ name: String, parent: String) {
      add(
        name, "attention", .attention(attention), parent: parent,
        signature: "query \(attention.query.inFeatures)→\(attention.query.outFeatures), "
          + "key \(attention.key.inFeatures)→\(attention.key.outFeatures), "
          + "value \(attention.value.inFeatures)→\(attention.value.outFeatures), "
          + "output \(attention.output.inFeatures)→\(attention.output.outFeatures)",
        settings: "heads \(attention.heads)", inputs: ["x", "memory"], outputs: ["y"])
    }
    func feedForward(_ ff: FeedForward, _ name: String, parent: String) {
      add(
        name, "feed-forward", .feedForward(ff), parent: parent,
        signature: "\(ff.inner.inFeatures)→\(ff.inner.outFeatures)→\(ff.outer.outFeatures)",
        settings: "activation \(ff.activation.rawValue)", inputs: ["x"], outputs: ["y"])
    }
    func encoderStack(_ stack: EncoderStack) {
      for (index, layer) in stack.layers.enumerated() {
        let name = "encoder.layers.\(index)"
        let parts: [() -> Void] = [
          { attention(layer.selfAttention, name + ".self_attn", parent: name) },
          { norm(layer.norm1, name + ".norm1", parent: name) },
          { feedForward(layer.feedForward, name + ".feed_forward", parent: name) },
          { norm(layer.norm2, name + ".norm2", parent: name) },
        ]
        let order = layer.normFirst ? [1, 0, 3, 2] : [0, 1, 2, 3]
        for position in order { parts[position]() }
        add(
          name, "encoder-layer", .encoderLayer(layer), signature: "width \(layer.norm1.features)",
          settings: layer.normFirst ? "pre-norm" : "post-norm", inputs: ["x"], outputs: ["y"])
      }
      if let final = stack.finalNorm { norm(final, "encoder.norm", parent: nil) }
    }
    switch body {
    case .lstm(let lstm): lstmLayers(lstm, "lstm", states: false)
    case .gru(let gru):
      for index in gru.layers.indices {
        let features = index == 0 ? gru.inputSize : gru.directions * gru.hiddenSize
        add(
          "gru.l\(index)", "gru-layer", .gruLayer(gru, index),
          signature: "input \(features), hidden \(gru.hiddenSize), directions \(gru.directions)",
          settings: gru.resetAfter ? "reset_after" : "reset_before", inputs: ["x"], outputs: ["y", "h_n"])
      }
    case .encoder(let encoder): encoderStack(encoder)
    case .transformer(let encoder, let decoder):
      encoderStack(encoder)
      for (index, layer) in decoder.layers.enumerated() {
        let name = "decoder.layers.\(index)"
        let parts: [() -> Void] = [
          { attention(layer.selfAttention, name + ".self_attn", parent: name) },
          { norm(layer.norm1, name + ".norm1", parent: name) },
          { attention(layer.crossAttention, name + ".multihead_attn", parent: name) },
          { norm(layer.norm2, name + ".norm2", parent: name) },
          { feedForward(layer.feedForward, name + ".feed_forward", parent: name) },
          { norm(layer.norm3, name + ".norm3", parent: name) },
        ]
        let order = layer.normFirst ? [1, 0, 3, 2, 5, 4] : [0, 1, 2, 3, 4, 5]
        for position in order { parts[position]() }
        add(
          name, "decoder-layer", .decoderLayer(layer), signature: "width \(layer.norm1.features)",
          settings: layer.normFirst ? "pre-norm" : "post-norm", inputs: ["x", "memory"], outputs: ["y"])
      }
      if let final = decoder.finalNorm { norm(final, "decoder.norm", parent: nil) }
    case .seq2seq(let model):
      for (name, embedding, lstm, states) in [
        ("encoder", model.encoderEmbedding, model.encoder, false),
        ("decoder", model.decoderEmbedding, model.decoder, true),
      ] {
        add(
          name + ".embedding", "embedding", .embedding(embedding),
          signature: "vocabulary \(embedding.vocabulary), features \(embedding.features)", inputs: ["tokens"],
          outputs: ["y"])
        lstmLayers(lstm, name + ".lstm", states: states)
      }
      add(
        "projection", "linear", .linear(model.projection),
        signature: "\(model.projection.inFeatures)→\(model.projection.outFeatures)", inputs: ["x"],
        outputs: ["y"])
    }
    return result
  }
}
