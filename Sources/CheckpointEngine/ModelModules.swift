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
    graph.inputs.filter(\.required).compactMap { port in
      guard let consumer = steps.first(where: { $0.node.inputs.contains(port.name) }) else { return nil }
      if case .embedding(let embedding) = consumer.kernel {
        return InputSpec(name: port.name, isTokens: true, size: embedding.vocabulary)
      }
      return InputSpec(name: port.name, isTokens: false, size: consumer.inputWidth)
    }
  }

  /// Runs the module `record.name` of this model on `record`'s inputs (and its padding mask
  /// and causality), returning its outputs. With a `trace`, a layer records its sub-modules
  /// as a forward pass does, so a layer's run on another model's layer input shows where
  /// inside the layer the two differ.
  ///
  /// - Throws: `CheckpointError` `.notFound` when the model has no such module,
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
    for step in steps {
      let name = step.node.name
      switch step.kernel {
      case .lstm(let lstm): lstmLayers(lstm, name, states: step.node.inputs.count == 3)
      case .gru(let gru):
        for index in gru.layers.indices {
          let features = index == 0 ? gru.inputSize : gru.directions * gru.hiddenSize
          add(
            "\(name).l\(index)", "gru-layer", .gruLayer(gru, index),
            signature: "input \(features), hidden \(gru.hiddenSize), directions \(gru.directions)",
            settings: gru.resetAfter ? "reset_after" : "reset_before", inputs: ["x"], outputs: ["y", "h_n"])
        }
      case .encoderLayer(let layer):
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
      case .decoderLayer(let layer):
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
      case .norm(let final): norm(final, name, parent: nil)
      case .embedding(let embedding):
        add(
          name, "embedding", .embedding(embedding),
          signature: "vocabulary \(embedding.vocabulary), features \(embedding.features)", inputs: ["tokens"],
          outputs: ["y"])
      case .dense(let linear):
        add(
          name, "linear", .linear(linear), signature: "\(linear.inFeatures)→\(linear.outFeatures)",
          inputs: ["x"],
          outputs: ["y"])
      }
    }
    return result
  }
}

extension Model.Step {
  /// The features of the first array the step reads.
  var inputWidth: Int {
    switch kernel {
    case .lstm(let lstm): return lstm.inputSize
    case .gru(let gru): return gru.inputSize
    case .encoderLayer(let layer): return layer.norm1.features
    case .decoderLayer(let layer): return layer.norm1.features
    case .norm(let norm): return norm.features
    case .embedding(let embedding): return embedding.vocabulary
    case .dense(let linear): return linear.inFeatures
    }
  }
}
