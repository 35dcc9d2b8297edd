import CheckpointCore
import CheckpointModels

/// Reads a checkpoint into canonical modules: the engine's module recognition finds LSTM, GRU and
/// Transformer modules; the source naming's tables read their tensors; what is left is read as
/// Linear, Embedding or LayerNorm by name.
struct ModuleReader {
  let checkpoint: Checkpoint
  /// The naming of tensors the recognisers do not cover.
  let naming: Naming
  let tensors: [String: Tensor]
  let index: [String: Int]

  init(_ checkpoint: Checkpoint, naming: Naming) {
    self.checkpoint = checkpoint
    self.naming = naming
    var tensors: [String: Tensor] = [:]
    var index: [String: Int] = [:]
    for (position, tensor) in checkpoint.tensors.enumerated() {
      tensors[tensor.name] = tensor
      index[tensor.name] = position
    }
    self.tensors = tensors
    self.index = index
  }

  /// The canonical modules, and the buffers: tensors outside every module whose dtype is not a
  /// floating-point one (`position_ids`, `token_type_ids`, `num_batches_tracked`), which no
  /// layout rule maps because they are not parameters; they are carried as they are.
  func modules() throws -> (modules: [CanonicalModule], buffers: [Tensor]) {
    let found = ModuleRecognition(checkpoint)
    var claimed: Set<String> = []
    var modules: [CanonicalModule] = []
    for module in found.recurrent {
      modules.append(try recurrent(module, claimed: &claimed))
    }
    for stack in found.transformerStacks {
      modules.append(contentsOf: try transformer(stack, all: found.transformerStacks, claimed: &claimed))
    }
    modules += try attention(claimed: &claimed)
    let buffers = checkpoint.tensors.filter { !claimed.contains($0.name) && !$0.dtype.isFloatingPoint }
    claimed.formUnion(buffers.map(\.name))
    modules += try generic(claimed: claimed)
    return (modules.sorted { $0.order < $1.order }, buffers)
  }

  private func strip(_ name: String, suffix: String, module: String) throws -> String {
    guard name.hasSuffix(suffix) else {
      throw CheckpointError(
        .unsupported, "\(module): '\(name)' does not end in '\(suffix)' as the layout rules expect",
        tensor: name)
    }
    return String(name.dropLast(suffix.count))
  }

  private func recurrent(_ module: RecurrentModule, claimed: inout Set<String>) throws -> CanonicalModule {
    let moduleNaming = module.layout
    let kind: ModuleKind = module.kind == .lstm ? .lstm : .gru
    let label = "\(module.kind.rawValue.uppercased()) '\(module.name.isEmpty ? "<root>" : module.name)'"
    guard let table = LayoutTable.table(kind, moduleNaming), let inputRule = table.rule(for: "weight_ih")
    else {
      throw CheckpointError(.unsupported, "\(label): no \(moduleNaming.rawValue) rules for \(kind.rawValue)")
    }
    var units: [[[String: Tensor]]] = []
    var heads: Int?
    for (layer, row) in module.cells.enumerated() {
      var directions: [[String: Tensor]] = []
      for (direction, cell) in row.enumerated() {
        let suffix = LayoutTable.pytorchRNNSuffix(layer: layer, direction: direction)
        if kind == .gru, moduleNaming != .pytorch, let bias = cell.inputBias, tensors[bias]?.shape.count == 1
        {
          throw CheckpointError(
            .unsupported,
            "\(label): a Keras GRU with reset_after=False (bias [3H]) has no exact PyTorch or canonical "
              + "equivalent (its candidate gate applies the reset before the recurrent matrix)",
            tensor: bias)
        }
        let rendered = inputRule.name(suffix: suffix)
        let prefix = try strip(cell.input, suffix: rendered, module: label)
        let parameters = try RuleApplication.read(
          table, prefix: prefix, suffix: suffix, tensors: tensors, claimed: &claimed, heads: &heads)
        directions.append(parameters)
      }
      units.append(directions)
    }
    var name = module.name
    if moduleNaming == .pytorch, name.hasSuffix(".") { name.removeLast() }
    return CanonicalModule(
      kind: kind == .lstm ? .lstm : .gru, name: name, units: units, finalNorm: nil, heads: nil,
      order: index[module.cells[0][0].input] ?? module.firstIndex)
  }

  private func transformer(_ stack: TransformerStack, all: [TransformerStack], claimed: inout Set<String>)
    throws
    -> [CanonicalModule]
  {
    let moduleNaming = stack.layout
    let kind: ModuleKind = stack.isDecoder ? .decoderLayer : .encoderLayer
    guard let table = LayoutTable.table(kind, moduleNaming), let outRule = table.rule(for: "self.out.weight")
    else {
      throw CheckpointError(.unsupported, "no \(moduleNaming.rawValue) rules for \(kind.rawValue)")
    }
    var name = stack.name
    if name.hasSuffix(".") { name.removeLast() }
    if moduleNaming == .keras3 {
      // keras_hub layers are not grouped by a prefix: one encoder stack is the model, two stacks
      // are the encoder and the decoder.
      name = all.count > 1 ? (stack.isDecoder ? "decoder" : "encoder") : ""
    }
    let label =
      "\(stack.isDecoder ? "Transformer decoder" : "Transformer encoder") '\(name.isEmpty ? "<root>" : name)'"
    var heads: Int?
    var units: [[[String: Tensor]]] = []
    for layer in stack.layers {
      let prefix = try strip(layer.selfAttention.output, suffix: outRule.name, module: label)
      let parameters = try RuleApplication.read(
        table, prefix: prefix, tensors: tensors, claimed: &claimed, heads: &heads)
      for role in ["self.q.weight", "cross.q.weight"] {
        guard let weight = parameters[role] else { continue }
        guard weight.shape.count == 2, weight.shape[0] == weight.shape[1] else {
          throw CheckpointError(
            .unsupported,
            "\(label): attention projections of shape \(Shape.describe(weight.shape)) (a Keras key_dim that is not "
              + "E/heads, or kdim ≠ E) cannot be mapped exactly to nn.MultiheadAttention or the other layouts",
            tensor: layer.selfAttention.query)
        }
      }
      units.append([parameters])
    }
    var finalNorm: [String: Tensor]?
    if let norm = stack.finalNorm, let gamma = tensors[norm.gamma], let beta = tensors[norm.beta] {
      claimed.insert(norm.gamma)
      claimed.insert(norm.beta)
      finalNorm = ["weight": gamma, "bias": beta]
    }
    let first = stack.layers.first.map(\.selfAttention.output) ?? ""
    let order =
      stack.layers.flatMap { [$0.selfAttention.query, $0.selfAttention.output, $0.inner] }
      .compactMap { index[$0] }.min() ?? index[first] ?? 0
    return [
      CanonicalModule(
        kind: stack.isDecoder ? .decoderStack : .encoderStack, name: name, units: units, finalNorm: finalNorm,
        heads: heads, order: order)
    ]
  }

  /// Standalone attention modules among the tensors nobody claimed: PyTorch `{m}.in_proj_weight`
  /// (or `q_proj_weight`), Keras 2 `{m}/query/kernel:0`, Keras 3 `{m}/query_dense/vars/0`.
  private func attention(claimed: inout Set<String>) throws -> [CanonicalModule] {
    guard let table = LayoutTable.table(.attention, naming),
      let marker = table.rule(for: "self.q.weight")?.name
    else { return [] }
    // PyTorch's separate projections (kdim/vdim ≠ E), beside an output projection.
    let separate = table.readOnlyRules.first { $0.roles.contains("self.q.weight") }?.name
    let output = table.rule(for: "self.out.weight")?.name
    var modules: [CanonicalModule] = []
    for tensor in checkpoint.tensors where !claimed.contains(tensor.name) {
      var prefix: String
      if tensor.name.hasSuffix(marker) {
        prefix = String(tensor.name.dropLast(marker.count))
      } else if let separate, let output, tensor.name.hasSuffix(separate),
        tensors[String(tensor.name.dropLast(separate.count)) + output] != nil
      {
        prefix = String(tensor.name.dropLast(separate.count))
      } else {
        continue
      }
      var heads: Int?
      let parameters = try RuleApplication.read(
        table, prefix: prefix, tensors: tensors, claimed: &claimed, heads: &heads)
      if let weight = parameters["self.q.weight"],
        weight.shape.count != 2 || weight.shape[0] != weight.shape[1]
      {
        throw CheckpointError(
          .unsupported,
          "attention '\(prefix)': projections of shape \(Shape.describe(weight.shape)) (a Keras key_dim that is not "
            + "E/heads, or kdim ≠ E) cannot be mapped exactly to nn.MultiheadAttention",
          tensor: tensor.name)
      }
      if prefix.hasSuffix(naming.separator) { prefix.removeLast(naming.separator.count) }
      modules.append(
        CanonicalModule(
          kind: .attention, name: moduleName(prefix), units: [[parameters]], finalNorm: nil, heads: heads,
          order: index[tensor.name] ?? 0))
    }
    return modules
  }

  /// Linear, Embedding and LayerNorm modules among the tensors nobody claimed.
  private func generic(claimed: Set<String>) throws -> [CanonicalModule] {
    var stems: [String] = []
    var members: [String: [String]] = [:]
    let separator = naming.separator
    for tensor in checkpoint.tensors where !claimed.contains(tensor.name) {
      // The leaf is the last component (`weight`, `kernel:0`), or `vars/N` in Keras 3.
      var search = tensor.name[...]
      if naming == .keras3, let vars = tensor.name.range(of: "/vars/", options: .backwards) {
        search = tensor.name[..<vars.upperBound].dropLast()
      }
      guard let cut = search.range(of: separator, options: .backwards) else {
        throw unmapped(tensor.name)
      }
      let stem = String(tensor.name[..<cut.lowerBound])
      if members[stem] == nil { stems.append(stem) }
      members[stem, default: []].append(String(tensor.name[cut.upperBound...]))
    }
    var modules: [CanonicalModule] = []
    for stem in stems {
      let leaves = Set(members[stem] ?? [])
      let kind = try genericKind(stem: stem, leaves: leaves)
      guard let table = LayoutTable.table(kind.unit, naming) else { throw unmapped(stem) }
      var scratch: Set<String> = []
      var heads: Int?
      let parameters = try RuleApplication.read(
        table, prefix: stem + separator, tensors: tensors, claimed: &scratch, heads: &heads)
      let leftover = leaves.map { stem + separator + $0 }.filter { !scratch.contains($0) }
      if let first = leftover.sorted().first { throw unmapped(first) }
      modules.append(
        CanonicalModule(
          kind: kind.module, name: moduleName(stem), units: [[parameters]], finalNorm: nil, heads: nil,
          order: leaves.compactMap { index[stem + separator + $0] }.min() ?? 0))
    }
    return modules
  }

  private func unmapped(_ name: String) -> CheckpointError {
    CheckpointError(
      .unsupported,
      "no layout rule maps '\(name)' (not part of a recognised LSTM, GRU or Transformer module, nor a "
        + "\(naming.rawValue) Linear, Embedding or LayerNorm); add a --map rule (see Docs/layouts.md)",
      tensor: name)
  }

  private func genericKind(stem: String, leaves: Set<String>) throws -> (
    unit: ModuleKind, module: CanonicalModule.Kind
  ) {
    let last = stem.split(separator: Character(naming.separator)).last.map(String.init) ?? stem
    // The leaf names of the naming's tables (`kernel:0`, `gamma`), read-only ones with `readOnly`.
    func leaf(_ kind: ModuleKind, _ role: String, readOnly: Bool = false) -> String? {
      let table = LayoutTable.table(kind, naming)
      let rules = (readOnly ? table?.readOnlyRules : table?.rules) ?? []
      return rules.first { $0.roles.contains(role) }?.name
    }
    func has(_ kind: ModuleKind, _ role: String, readOnly: Bool = false) -> Bool {
      leaf(kind, role, readOnly: readOnly).map(leaves.contains) ?? false
    }
    switch naming {
    case .keras2:
      if has(.embedding, "weight") { return (.embedding, .embedding) }
      if has(.layerNorm, "weight") || has(.layerNorm, "bias") { return (.layerNorm, .layerNorm) }
      if has(.linear, "weight") { return (.linear, .linear) }
    case .keras3:
      let base = Self.kerasClass(last)
      if base == KerasLayers.className(.embedding) { return (.embedding, .embedding) }
      if base == KerasLayers.className(.layerNorm) { return (.layerNorm, .layerNorm) }
      if base == KerasLayers.className(.linear) { return (.linear, .linear) }
    case .pytorch, .hfBert, .hfBart:
      let weight = leaf(.linear, "weight").flatMap { tensors[stem + naming.separator + $0] }
      if has(.layerNorm, "weight", readOnly: true) || weight?.shape.count == 1 {
        return (.layerNorm, .layerNorm)
      }
      if weight?.shape.count == 2 {
        let isEmbedding = !has(.linear, "bias") && stem.lowercased().contains("emb")
        return isEmbedding ? (.embedding, .embedding) : (.linear, .linear)
      }
    }
    throw unmapped(stem + naming.separator + (leaves.sorted().first ?? ""))
  }

  /// A Keras layer name without its `_N` counter (`dense_2` → `dense`).
  static func kerasClass(_ name: String) -> String {
    if let cut = name.lastIndex(of: "_"), Int(name[name.index(after: cut)...]) != nil {
      return String(name[..<cut])
    }
    return name
  }

  /// The module name of a generic stem: PyTorch keeps it; Keras uses the layer name
  /// (`model_weights/dense/dense` → `dense`, `layers/dense` → `dense`).
  private func moduleName(_ stem: String) -> String {
    switch naming {
    case .pytorch, .hfBert, .hfBart: return stem
    case .keras2:
      var parts = stem.split(separator: "/").map(String.init)
      if parts.first == "model_weights" { parts.removeFirst() }
      if parts.count >= 2, parts[0] == parts[1] { parts.removeFirst() }
      return parts.joined(separator: "_")
    case .keras3:
      var parts = stem.split(separator: "/").map(String.init)
      if parts.first == KerasLayers.root { parts.removeFirst() }
      return parts.joined(separator: "_")
    }
  }
}
