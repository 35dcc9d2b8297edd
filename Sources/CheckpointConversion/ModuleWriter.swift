import CheckpointCore
import CheckpointModels

/// Names and writes canonical modules in a target naming.
///
/// PyTorch and Hugging Face keep the source's module names. Keras layers are named the way Keras
/// numbers them (`lstm`, `lstm_1`, `bidirectional`, `dense`, `transformer_encoder`, …): Keras 3
/// always by class and order (its `.weights.h5` paths depend on nothing else); Keras 2 by the
/// source module's name when it has one, else by class and order.
struct ModuleWriter {
  let naming: Naming
  /// Heads for modules whose source did not tell.
  let heads: Int?
  private var counters: [String: Int] = [:]
  private var used: Set<String> = []

  init(naming: Naming, heads: Int?) {
    self.naming = naming
    self.heads = heads
  }

  /// A Keras layer name: `preferred` (Keras 2 only) if free, else the class name numbered by order.
  private mutating func kerasName(_ className: String, preferred: String = "") -> String {
    if naming == .keras2, !preferred.isEmpty, !used.contains(preferred) {
      used.insert(preferred)
      return preferred
    }
    while true {
      let count = counters[className, default: 0]
      counters[className] = count + 1
      let name = count == 0 ? className : "\(className)_\(count)"
      if !used.contains(name) {
        used.insert(name)
        return name
      }
    }
  }

  private static func sanitize(_ name: String) -> String {
    String(name.map { $0 == "." || $0 == "/" ? "_" : $0 })
  }

  private func table(_ kind: ModuleKind) throws -> LayoutTable {
    guard let table = LayoutTable.table(kind, naming) else {
      throw CheckpointError(.unsupported, "no \(naming.rawValue) rules for \(kind.rawValue)")
    }
    return table
  }

  /// The tensors of `module` in the target naming.
  mutating func write(_ module: CanonicalModule) throws -> [Tensor] {
    switch module.kind {
    case .lstm, .gru: return try recurrent(module)
    case .encoderStack, .decoderStack: return try transformer(module)
    case .linear, .embedding, .layerNorm, .attention: return try plain(module)
    }
  }

  private mutating func recurrent(_ module: CanonicalModule) throws -> [Tensor] {
    let kindName = KerasLayers.className(module.unitKind)
    let table = try table(module.unitKind)
    if naming == .keras2 || naming == .keras3,
      module.units.joined().contains(where: { $0["weight_hr"] != nil })
    {
      throw CheckpointError(
        .unsupported, "\(module.label): an LSTM with proj_size (weight_hr) has no Keras equivalent")
    }
    var tensors: [Tensor] = []
    for (layer, row) in module.units.enumerated() {
      var prefixes: [String] = []
      var suffixes: [String] = []
      switch naming {
      case .pytorch, .hfBert, .hfBart:
        let prefix = module.name.isEmpty ? "" : module.name + "."
        for direction in row.indices {
          prefixes.append(prefix)
          suffixes.append(LayoutTable.pytorchRNNSuffix(layer: layer, direction: direction))
        }
      case .keras2, .keras3:
        let base = ModuleWriter.sanitize(module.name)
        let preferred = base.isEmpty ? "" : (layer == 0 ? base : "\(base)_\(layer)")
        if row.count == 2 {
          let name = kerasName(KerasLayers.bidirectional, preferred: preferred)
          prefixes = [0, 1].map { KerasLayers.cellPrefix(name, className: kindName, direction: $0, naming) }
        } else {
          let name = kerasName(kindName, preferred: preferred)
          prefixes = [KerasLayers.cellPrefix(name, className: kindName, direction: nil, naming)]
        }
        suffixes = prefixes.map { _ in "" }
      }
      guard row.count <= 2 else {
        throw CheckpointError(.unsupported, "\(module.label): \(row.count) directions")
      }
      for (direction, parameters) in row.enumerated() {
        let where_ = "\(module.label) layer \(layer)\(direction == 1 ? " (reverse)" : "")"
        tensors += try RuleApplication.write(
          table, prefix: prefixes[direction], suffix: suffixes[direction], parameters: parameters, heads: nil,
          module: where_)
      }
    }
    return tensors
  }

  private mutating func transformer(_ module: CanonicalModule) throws -> [Tensor] {
    let heads = module.heads ?? self.heads
    let decoder = module.kind == .decoderStack
    var tensors: [Tensor] = []
    let stackPrefix = module.name.isEmpty ? "" : module.name + "."
    // A BERT decoder layer is written in BART's naming (`LayoutTable.table`).
    let tableNaming = naming == .hfBert && decoder ? .hfBart : naming
    for (index, row) in module.units.enumerated() {
      if naming == .keras2 {
        throw CheckpointError(
          .unsupported,
          "\(module.label): tf.keras 2 has no Transformer encoder/decoder layer; convert to keras3 (keras_hub "
            + "TransformerEncoder/TransformerDecoder) instead")
      }
      guard let table = LayoutTable.table(module.unitKind, tableNaming) else {
        throw CheckpointError(
          .unsupported, "no \(tableNaming.rawValue) rules for \(module.unitKind.rawValue)")
      }
      let prefix: String
      if let layer = table.layerPrefix(index) {
        prefix = stackPrefix + layer
      } else {
        prefix = KerasLayers.layerPrefix(kerasName(KerasLayers.className(module.unitKind)), naming)
      }
      tensors += try RuleApplication.write(
        table, prefix: prefix, parameters: row[0], heads: heads, module: "\(module.label) layer \(index)")
    }
    if let norm = module.finalNorm {
      let prefix: String
      if let finalNorm = LayoutTable.table(module.unitKind, tableNaming)?.stack?.finalNorm {
        prefix = stackPrefix + finalNorm
      } else if naming == .keras3 {
        prefix = KerasLayers.layerPrefix(kerasName(KerasLayers.className(.layerNorm)), naming)
      } else {
        throw CheckpointError(
          .unsupported, "\(module.label): \(naming.rawValue) layers have no final LayerNorm after the stack")
      }
      tensors += try RuleApplication.write(
        try table(.layerNorm), prefix: prefix, parameters: norm, heads: nil,
        module: "\(module.label) final norm")
    }
    return tensors
  }

  private mutating func plain(_ module: CanonicalModule) throws -> [Tensor] {
    let className = KerasLayers.className(module.unitKind)
    let prefix: String
    switch naming {
    case .pytorch, .hfBert, .hfBart: prefix = module.name + "."
    case .keras2, .keras3:
      prefix = KerasLayers.layerPrefix(
        kerasName(className, preferred: ModuleWriter.sanitize(module.name)), naming)
    }
    return try RuleApplication.write(
      try table(module.unitKind), prefix: prefix, parameters: module.units[0][0],
      heads: module.heads ?? heads,
      module: module.label)
  }
}
