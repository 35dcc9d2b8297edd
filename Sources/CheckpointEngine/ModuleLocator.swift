import CheckpointCore
import CheckpointModels

/// Which canonical module (``ModuleDescriptor``) each tensor of a checkpoint belongs to,
/// from names and shapes alone: nothing is loaded and the model need not assemble.
///
/// This names the module at fault when a checkpoint cannot be assembled (a weight of the
/// wrong shape): the error names the tensor, the locator its module.
public enum ModuleLocator {
  /// A map from tensor name (as stored in the file) to canonical module name, for the
  /// tensors the recognisers of `architecture` attribute to a module.
  public static func modules(of checkpoint: Checkpoint, architecture: Architecture) -> [String: String] {
    let parameters = ParameterSet(checkpoint)
    var result: [String: String] = [:]
    func add(_ names: [String?], _ module: String) {
      for name in names.compactMap({ $0 }) where parameters.contains(name) {
        result[parameters.fileName(name)] = module
      }
    }
    func recurrent(_ found: RecurrentModule, _ prefix: String) {
      for (layer, cells) in found.cells.enumerated() {
        for cell in cells {
          add(cell.tensors, "\(prefix).l\(layer)")
        }
      }
    }
    switch architecture {
    case .lstm, .gru:
      let kind: RecurrentModule.Kind = architecture == .lstm ? .lstm : .gru
      let matching = RecurrentRecognizer(parameters: parameters).modules().filter { $0.kind == kind }
      guard let first = matching.first else { return result }
      let stack = first.layout == .pytorch ? first : RecurrentModule.stacked(matching) ?? first
      recurrent(stack, architecture == .lstm ? "lstm" : "gru")
    case .seq2seqLSTM:
      guard let (encoder, decoder) = try? Seq2SeqRecognizer(parameters: parameters).encoderAndDecoder() else {
        return result
      }
      recurrent(encoder, "encoder.lstm")
      recurrent(decoder, "decoder.lstm")
    case .transformer, .transformerEncoder:
      let stacks = TransformerRecognizer(parameters: parameters).stacks()
      for stack in stacks {
        let side = stack.isDecoder ? "decoder" : "encoder"
        for (index, layer) in stack.layers.enumerated() {
          let name = "\(side).layers.\(index)"
          func attention(_ names: AttentionNames, _ role: String) {
            add(
              [
                names.query, names.queryBias, names.key, names.keyBias, names.value, names.valueBias,
                names.output,
                names.outputBias,
              ], name + "." + role)
          }
          attention(layer.selfAttention, "self_attn")
          if let cross = layer.crossAttention { attention(cross, "multihead_attn") }
          add(
            [layer.inner, layer.innerBias, layer.outer, layer.outerBias],
            name + ".feed_forward")
          for (position, norm) in layer.norms.enumerated() {
            add([norm.gamma, norm.beta], name + ".norm\(position + 1)")
          }
        }
        if let final = stack.finalNorm { add([final.gamma, final.beta], side + ".norm") }
      }
    }
    return result
  }
}
