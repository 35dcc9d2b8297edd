import CheckpointCore
import CheckpointModels

/// The encoder-decoder LSTM of the classic sequence-to-sequence tutorial: the encoder
/// embeds and encodes `src`; the decoder embeds `tgt`, runs its LSTM from the encoder's
/// final `(h, c)`, and a linear layer turns each output into vocabulary logits.
struct Seq2SeqLSTM: Sendable {
  var encoderEmbedding: Embedding
  var encoder: LSTM
  var decoderEmbedding: Embedding
  var decoder: LSTM
  var projection: Linear

  /// `src` `[B, S]`, `tgt` `[B, T]` tokens → logits `[B, T, V]`.
  ///
  /// With a `trace`, records `encoder.embedding` (input: the token ids as floats),
  /// `encoder.lstm.l{k}`, `decoder.embedding`, `decoder.lstm.l{k}` and `projection`.
  func forward(
    source: [Int], sourceShape: [Int], target: [Int], targetShape: [Int], trace: ModuleTrace? = nil
  ) throws -> Matrix {
    let sourceEmbedded = try encoderEmbedding.apply(source, shape: sourceShape, input: "src")
    trace?.append(
      name: "encoder.embedding", parent: nil,
      inputs: [Matrix(shape: sourceShape, values: source.map { Float($0) })], outputs: [sourceEmbedded])
    let encoded = encoder.forward(sourceEmbedded, trace: trace, name: "encoder.lstm")
    let targetEmbedded = try decoderEmbedding.apply(target, shape: targetShape, input: "tgt")
    trace?.append(
      name: "decoder.embedding", parent: nil,
      inputs: [Matrix(shape: targetShape, values: target.map { Float($0) })], outputs: [targetEmbedded])
    let decoded = decoder.forward(
      targetEmbedded, h0: encoded.hN, c0: encoded.cN, trace: trace, name: "decoder.lstm")
    let logits = decoded.y.applying(projection)
    trace?.append(name: "projection", parent: nil, inputs: [decoded.y], outputs: [logits])
    return logits
  }
}

/// Finds the parts of a sequence-to-sequence LSTM: two LSTMs, two embeddings, one projection.
struct Seq2SeqRecognizer {
  let parameters: ParameterSet

  /// The encoder and decoder LSTMs: the file's two LSTM modules, or (Keras, one layer per
  /// module) the layers named `enc…` and `dec…` stacked in Keras order.
  func encoderAndDecoder() throws -> (encoder: RecurrentRecognizer.Found, decoder: RecurrentRecognizer.Found)
  {
    var lstms = RecurrentRecognizer(parameters: parameters).modules().filter { $0.kind == .lstm }
    if let config = parameters.kerasConfig {
      for module in lstms { try config.checkRecurrent(module.prefix) }
    }
    if lstms.count > 2, lstms.allSatisfy({ $0.layout != .pytorch }) {
      let encoders = lstms.filter { hint($0.prefix, "enc") }
      let decoders = lstms.filter { hint($0.prefix, "dec") && !hint($0.prefix, "enc") }
      if encoders.count + decoders.count == lstms.count,
        let encoder = RecurrentRecognizer.Found.stacked(encoders),
        let decoder = RecurrentRecognizer.Found.stacked(decoders)
      {
        lstms = [encoder, decoder]
      }
    }
    guard lstms.count == 2 else {
      throw EngineError.missingModule(
        "seq2seq-lstm needs two LSTMs (encoder and decoder); found \(lstms.count)"
          + (lstms.isEmpty ? "" : " (\(lstms.map { "'\($0.prefix)'" }.joined(separator: ", ")))"))
    }
    var (first, second) = (lstms[0], lstms[1])
    if hint(first.prefix, "dec") || hint(second.prefix, "enc") { swap(&first, &second) }
    return (first, second)
  }

  func model() throws -> (Seq2SeqLSTM, Naming) {
    let (first, second) = try encoderAndDecoder()
    let lstms = [first, second]
    let layout = first.layout
    let encoder = try first.lstm(parameters)
    let decoder = try second.lstm(parameters)
    guard encoder.layers.count * encoder.directions == decoder.layers.count * decoder.directions,
      encoder.outputSize == decoder.outputSize, encoder.hiddenSize == decoder.hiddenSize
    else {
      throw EngineError.missingModule(
        "seq2seq-lstm: the decoder '\(second.prefix)' (\(decoder.layers.count) layers × \(decoder.directions), "
          + "\(decoder.hiddenSize) units) cannot start from the encoder '\(first.prefix)' state "
          + "(\(encoder.layers.count) layers × \(encoder.directions), \(encoder.hiddenSize) units)")
    }
    let lstmNames = Set(lstms.flatMap { $0.cells.flatMap { $0.flatMap { cellNames($0) } } })
    var embeddings = embeddingNames().filter { !lstmNames.contains($0) }
    let encoderEmbedding = try pickEmbedding(
      &embeddings, features: encoder.inputSize, hintText: "enc", role: "encoder")
    let decoderEmbedding = try pickEmbedding(
      &embeddings, features: decoder.inputSize, hintText: "dec", role: "decoder")
    let projection = try pickProjection(
      exclude: lstmNames.union([encoderEmbedding.name, decoderEmbedding.name]), features: decoder.outputSize,
      layout: layout)
    return (
      Seq2SeqLSTM(
        encoderEmbedding: encoderEmbedding.embedding, encoder: encoder,
        decoderEmbedding: decoderEmbedding.embedding,
        decoder: decoder, projection: projection), layout
    )
  }

  private func hint(_ name: String, _ text: String) -> Bool { name.lowercased().contains(text) }

  private func cellNames(_ cell: RecurrentRecognizer.CellNames) -> [String] {
    [cell.input, cell.recurrent, cell.inputBias, cell.recurrentBias, cell.projection].compactMap { $0 }
  }

  /// 2-D tensors that look like embedding tables, in Keras layer order or file order.
  private func embeddingNames() -> [String] {
    let names = parameters.names.filter { name in
      let lower = name.lowercased()
      guard lower.contains("emb"), parameters.shape(name)?.count == 2 else { return false }
      return lower.hasSuffix(".weight") || lower.hasSuffix("embeddings") || lower.hasSuffix(".vars.0")
    }
    return names.sorted { kerasOrder(layerName($0), layerName($1)) }
  }

  /// The Keras layer component of a name (`layers.embedding_1.vars.0` → `embedding_1`), else the name.
  private func layerName(_ name: String) -> String {
    var parts = name.split(separator: ".").map(String.init)
    if parts.first == "layers", parts.count > 1 { parts.removeFirst() }
    return parts.count > 1 ? parts[0] : name
  }

  private func pickEmbedding(_ candidates: inout [String], features: Int, hintText: String, role: String)
    throws
    -> (name: String, embedding: Embedding)
  {
    let fitting = candidates.filter { parameters.shape($0)?[1] == features }
    guard let name = fitting.first(where: { hint($0, hintText) }) ?? fitting.first else {
      throw EngineError.missingModule(
        "seq2seq-lstm: no \(role) embedding with \(features) features (candidates: "
          + (candidates.isEmpty ? "none" : candidates.joined(separator: ", ")) + ")")
    }
    candidates.removeAll { $0 == name }
    let shape = parameters.shape(name) ?? [0, 0]
    guard shape[0] > 0, shape[1] > 0 else {
      throw EngineError.badWeight(
        parameters.fileName(name), "\(role) embedding: empty table \(Shape.describe(shape))")
    }
    let table = try parameters.floats(name, module: "\(role) embedding")
    return (name, Embedding(table: table, vocabulary: shape[0], features: shape[1]))
  }

  private func pickProjection(exclude: Set<String>, features: Int, layout: Naming) throws -> Linear {
    let weightLayout: DenseWeight.Layout = layout == .pytorch ? .outIn : .inOut
    var found: [(weight: String, bias: String?)] = []
    for name in parameters.names where !exclude.contains(name) && parameters.shape(name)?.count == 2 {
      let inputs = weightLayout == .outIn ? parameters.shape(name)?[1] : parameters.shape(name)?[0]
      guard inputs == features else { continue }
      for (suffix, biasSuffix) in [(".weight", ".bias"), (".kernel", ".bias"), (".vars.0", ".vars.1")]
      where name.hasSuffix(suffix) {
        let stem = String(name.dropLast(suffix.count))
        if parameters.contains(stem + ".recurrent_kernel") { continue }
        found.append((name, parameters.contains(stem + biasSuffix) ? stem + biasSuffix : nil))
      }
    }
    guard let pick = found.last else {
      throw EngineError.missingModule(
        "seq2seq-lstm: no output projection taking the decoder's \(features) features")
    }
    let weight = try parameters.dense(
      pick.weight, layout: weightLayout, inFeatures: features, module: "output projection")
    let bias = try pick.bias.map {
      try parameters.vector($0, count: weight.outFeatures, module: "output projection")
    }
    return Linear(weight: weight, bias: bias)
  }
}
