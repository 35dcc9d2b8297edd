import CheckpointCore

/// Finds the parts of a sequence-to-sequence LSTM: two LSTMs, two embeddings, one projection.
package struct Seq2SeqRecognizer {
  package let parameters: ParameterSet

  package init(parameters: ParameterSet) { self.parameters = parameters }

  /// The encoder and decoder LSTMs: the file's two LSTM modules, or (Keras, one layer per
  /// module) the layers named `enc…` and `dec…` stacked in Keras order.
  package func encoderAndDecoder() throws -> (
    encoder: RecurrentModule, decoder: RecurrentModule
  ) {
    var lstms = RecurrentRecognizer(parameters: parameters).modules().filter { $0.kind == .lstm }
    if let config = parameters.kerasConfig {
      for module in lstms { try config.checkRecurrent(module.name) }
    }
    if lstms.count > 2, lstms.allSatisfy({ $0.layout != .pytorch }) {
      let encoders = lstms.filter { hint($0.name, "enc") }
      let decoders = lstms.filter { hint($0.name, "dec") && !hint($0.name, "enc") }
      if encoders.count + decoders.count == lstms.count,
        let encoder = RecurrentModule.stacked(encoders),
        let decoder = RecurrentModule.stacked(decoders)
      {
        lstms = [encoder, decoder]
      }
    }
    guard lstms.count == 2 else {
      throw ModelError.missingModule(
        "seq2seq-lstm needs two LSTMs (encoder and decoder); found \(lstms.count)"
          + (lstms.isEmpty ? "" : " (\(lstms.map { "'\($0.name)'" }.joined(separator: ", ")))"))
    }
    var (first, second) = (lstms[0], lstms[1])
    if hint(first.name, "dec") || hint(second.name, "enc") { swap(&first, &second) }
    return (first, second)
  }

  /// The parts' names: the encoder and decoder LSTMs (sizes checked to chain), the two
  /// embedding tables and the output projection.
  package func parts() throws -> Parts {
    let (first, second) = try encoderAndDecoder()
    let lstms = [first, second]
    let layout = first.layout
    var sizes: [(input: Int, hidden: Int, output: Int)] = []
    for module in lstms {
      try module.checkDirections()
      let (hidden, output) = try module.hiddenSize(parameters, gates: 4)
      sizes.append((try module.inputSize(parameters), hidden, output))
    }
    let (encoder, decoder) = (sizes[0], sizes[1])
    let (encoderLayers, decoderLayers) = (
      first.cells.count * first.cells[0].count, second.cells.count * second.cells[0].count
    )
    guard encoderLayers == decoderLayers, encoder.output == decoder.output, encoder.hidden == decoder.hidden
    else {
      throw ModelError.missingModule(
        "seq2seq-lstm: the decoder '\(second.name)' (\(second.cells.count) layers × \(second.cells[0].count), "
          + "\(decoder.hidden) units) cannot start from the encoder '\(first.name)' state "
          + "(\(first.cells.count) layers × \(first.cells[0].count), \(encoder.hidden) units)")
    }
    let lstmNames = Set(lstms.flatMap { $0.cells.flatMap { $0.flatMap(\.tensors) } })
    var embeddings = embeddingNames().filter { !lstmNames.contains($0) }
    let encoderEmbedding = try pickEmbedding(
      &embeddings, features: encoder.input, hintText: "enc", role: "encoder")
    let decoderEmbedding = try pickEmbedding(
      &embeddings, features: decoder.input, hintText: "dec", role: "decoder")
    let projection = try pickProjection(
      exclude: lstmNames.union([encoderEmbedding, decoderEmbedding]), features: decoder.output, layout: layout
    )
    return Parts(
      encoder: first, decoder: second, encoderEmbedding: encoderEmbedding, decoderEmbedding: decoderEmbedding,
      projection: projection)
  }

  /// The tensor names of a sequence-to-sequence LSTM.
  package struct Parts {
    package var encoder: RecurrentModule
    package var decoder: RecurrentModule
    /// Normalised names of the embedding tables.
    package var encoderEmbedding: String
    package var decoderEmbedding: String
    /// The output projection's weight and bias.
    package var projection: (weight: String, bias: String?)
  }

  private func hint(_ name: String, _ text: String) -> Bool { name.lowercased().contains(text) }

  /// 2-D tensors that look like embedding tables, in Keras layer order or file order: an `emb`
  /// name ending in an Embedding table's name (PyTorch `.weight`, Keras 3 `.vars.0`, Keras 2
  /// `embeddings` also at the end of a longer last component: `src_embeddings`).
  private func embeddingNames() -> [String] {
    let suffixes =
      [LayoutTable.embeddingPyTorch, .embeddingKeras3].map { "." + $0.name("weight") }
      + [LayoutTable.embeddingKeras2.name("weight")]
    let names = parameters.names.filter { name in
      let lower = name.lowercased()
      guard lower.contains("emb"), parameters.shape(name)?.count == 2 else { return false }
      return suffixes.contains { lower.hasSuffix($0) }
    }
    return names.sorted { kerasOrder(layerName($0), layerName($1)) }
  }

  /// The Keras layer component of a name (`layers.embedding_1.vars.0` → `embedding_1`), else the name.
  private func layerName(_ name: String) -> String {
    var parts = name.split(separator: ".").map(String.init)
    if parts.first == KerasLayers.root, parts.count > 1 { parts.removeFirst() }
    return parts.count > 1 ? parts[0] : name
  }

  private func pickEmbedding(_ candidates: inout [String], features: Int, hintText: String, role: String)
    throws -> String
  {
    let fitting = candidates.filter { parameters.shape($0)?[1] == features }
    guard let name = fitting.first(where: { hint($0, hintText) }) ?? fitting.first else {
      throw ModelError.missingModule(
        "seq2seq-lstm: no \(role) embedding with \(features) features (candidates: "
          + (candidates.isEmpty ? "none" : candidates.joined(separator: ", ")) + ")")
    }
    candidates.removeAll { $0 == name }
    let shape = parameters.shape(name) ?? [0, 0]
    guard shape[0] > 0, shape[1] > 0 else {
      throw ModelError.badWeight(
        parameters.fileName(name), "\(role) embedding: empty table \(Shape.describe(shape))")
    }
    return name
  }

  private func pickProjection(exclude: Set<String>, features: Int, layout: Naming) throws -> (
    weight: String, bias: String?
  ) {
    // PyTorch stores [out, in], Keras [in, out].
    let outIn = layout == .pytorch
    var found: [(weight: String, bias: String?)] = []
    for name in parameters.names where !exclude.contains(name) && parameters.shape(name)?.count == 2 {
      let inputs = outIn ? parameters.shape(name)?[1] : parameters.shape(name)?[0]
      guard inputs == features else { continue }
      for linear in [LayoutTable.linearPyTorch, .linearKeras2, .linearKeras3] {
        let (suffix, biasSuffix) = ("." + linear.name("weight"), "." + linear.name("bias"))
        guard name.hasSuffix(suffix) else { continue }
        let stem = String(name.dropLast(suffix.count))
        // A Keras 2 recurrent cell's kernel is not a projection.
        if parameters.contains(stem + "." + LayoutTable.lstmKeras2.name("weight_hh")) { continue }
        found.append((name, parameters.contains(stem + biasSuffix) ? stem + biasSuffix : nil))
      }
    }
    guard let pick = found.last else {
      throw ModelError.missingModule(
        "seq2seq-lstm: no output projection taking the decoder's \(features) features")
    }
    return pick
  }
}
