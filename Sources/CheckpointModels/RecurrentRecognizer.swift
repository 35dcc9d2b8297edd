import CheckpointCore

/// Finds LSTM and GRU modules in a checkpoint from names and shapes.
///
/// The cell names are the LSTM tables' (`Names/Rules/LSTM+*.swift`; a GRU cell's tensors have the
/// same names), under a prefix:
/// - PyTorch: `{prefix}` + the names with `{s}` = `_l{k}[_reverse]`, one module per prefix.
/// - Keras 2: `{layer}/{layer}/lstm_cell/` (`{bidirectional}/{bidirectional}/forward_lstm/…`,
///   `backward_lstm/…`), found by the recurrent kernel.
/// - Keras 3: `layers/{layer}/cell/` (`layers/{bidirectional}/forward_layer/cell/…`), found by the
///   kernel.
///
/// Keras layers are one layer each; consecutive layers of the file make the stack.
///
/// It gives ``RecurrentModule``s under normalised names (``ParameterSet``'s); absent biases are nil.
package struct RecurrentRecognizer {
  package let parameters: ParameterSet

  package init(parameters: ParameterSet) { self.parameters = parameters }

  /// Every recurrent module, in file order (PyTorch) or Keras layer order.
  package func modules() -> [RecurrentModule] {
    let torch = pytorchModules()
    if !torch.isEmpty { return torch }
    return kerasModules()
  }

  private func present(_ name: String) -> String? { parameters.contains(name) ? name : nil }

  private func pytorchModules() -> [RecurrentModule] {
    let table = LayoutTable.lstmPyTorch
    var groups: [String: [(layer: Int, reverse: Bool)]] = [:]
    var order: [String] = []
    let input = regexLiteral(table.name("weight_ih", suffix: "{s}"))
      .replacing(regexLiteral("{s}"), with: LayoutTable.pytorchRNNSuffixPattern)
    for hit in parameters.matches("(.*)" + input) {
      let prefix = hit.groups[0]
      guard let layer = Int(hit.groups[1]) else { continue }
      if groups[prefix] == nil { order.append(prefix) }
      groups[prefix, default: []].append((layer, !hit.groups[2].isEmpty))
    }
    return order.compactMap { prefix in
      let entries = groups[prefix] ?? []
      let layerCount = (entries.map(\.layer).max() ?? -1) + 1
      let directions = entries.contains { $0.reverse } ? 2 : 1
      var cells: [[RecurrentCell]] = []
      for layer in 0..<layerCount {
        var row: [RecurrentCell] = []
        for direction in 0..<directions {
          let suffix = LayoutTable.pytorchRNNSuffix(layer: layer, direction: direction)
          func name(_ role: String) -> String { prefix + table.name(role, suffix: suffix) }
          row.append(
            RecurrentCell(
              input: name("weight_ih"), recurrent: name("weight_hh"), inputBias: present(name("bias_ih")),
              recurrentBias: present(name("bias_hh")), projection: present(name("weight_hr"))))
        }
        cells.append(row)
      }
      let first = cells[0][0]
      var kind = RecurrentModule.Kind.lstm
      if let ih = parameters.shape(first.input), let hh = parameters.shape(first.recurrent), ih.count == 2,
        hh.count == 2, first.projection == nil, ih[0] == 3 * hh[1]
      {
        kind = .gru
      }
      let firstIndex = parameters.names.firstIndex { $0.hasPrefix(prefix) } ?? 0
      return RecurrentModule(kind: kind, layout: .pytorch, name: prefix, cells: cells, firstIndex: firstIndex)
    }
  }

  private func kerasModules() -> [RecurrentModule] {
    // Cells: Keras 3 `….cell.` found by the kernel, then Keras 2 any prefix found by the
    // recurrent kernel (a bare `kernel` is any Dense's); both kernels needed, the bias optional.
    var cells: [(layer: String, backward: Bool, names: RecurrentCell, layout: Naming, index: Int)] = []
    let finders: [(table: LayoutTable, prefix: String, by: String)] = [
      (.lstmKeras3, #".*\."# + regexLiteral(KerasLayers.cell) + #"\."#, "weight_ih"),
      (.lstmKeras2, #".*\."#, "weight_hh"),
    ]
    for (table, prefixPattern, role) in finders {
      for hit in parameters.matches("(" + prefixPattern + ")" + regexLiteral(table.name(role))) {
        let prefix = hit.groups[0]
        let (input, recurrent) = (prefix + table.name("weight_ih"), prefix + table.name("weight_hh"))
        guard parameters.contains(input), parameters.contains(recurrent) else { continue }
        let bias = prefix + table.name("bias_ih")
        cells.append(
          kerasCell(
            prefix: prefix, input: input, recurrent: recurrent, bias: present(bias),
            layout: table.naming))
      }
    }
    var byLayer: [String: [(backward: Bool, names: RecurrentCell, layout: Naming, index: Int)]] = [:]
    for cell in cells {
      byLayer[cell.layer, default: []].append((cell.backward, cell.names, cell.layout, cell.index))
    }
    // Model order from a Keras 2 model_config when it lists every layer; else Keras numbering.
    func name(_ key: String) -> String { key.split(separator: ".").last.map(String.init) ?? key }
    var keys = byLayer.keys.sorted { a, b in
      name(a) == name(b) ? a < b : kerasOrder(name(a), name(b))
    }
    if let config = parameters.kerasConfig, keys.allSatisfy({ config.position(of: name($0)) != nil }) {
      keys.sort { (config.position(of: name($0)) ?? 0) < (config.position(of: name($1)) ?? 0) }
    }
    return keys.compactMap { layer in
      let entries = (byLayer[layer] ?? []).sorted { !$0.backward && $1.backward }
      guard let first = entries.first else { return nil }
      var kind = RecurrentModule.Kind.lstm
      if let kernel = parameters.shape(first.names.input),
        let recurrent = parameters.shape(first.names.recurrent),
        kernel.count == 2, recurrent.count == 2, recurrent[1] == 3 * recurrent[0]
      {
        kind = .gru
      }
      return RecurrentModule(
        kind: kind, layout: first.layout, name: layer, cells: [entries.map(\.names)],
        firstIndex: entries.map(\.index).min() ?? 0)
    }
  }

  /// The layer a Keras cell belongs to: its path without `cell` / `*_cell`, the
  /// `forward_*` / `backward_*` wrapper part and Keras 2's repeated layer name
  /// (`bidirectional/bidirectional/forward_lstm/lstm_cell/` → `bidirectional`); nested
  /// models keep their path (`layers/functional/layers/lstm/cell/` → `functional.layers.lstm`).
  private func kerasCell(prefix: String, input: String, recurrent: String, bias: String?, layout: Naming)
    -> (layer: String, backward: Bool, names: RecurrentCell, layout: Naming, index: Int)
  {
    var parts = prefix.split(separator: ".").map(String.init)
    if parts.first == KerasLayers.root && layout == .keras3 { parts.removeFirst() }
    if let last = parts.last, last == KerasLayers.cell || last.hasSuffix("_" + KerasLayers.cell) {
      parts.removeLast()
    }
    var backward = false
    if let last = parts.last, let direction = KerasLayers.directions.firstIndex(where: { last.hasPrefix($0) })
    {
      backward = direction == 1
      parts.removeLast()
    }
    if parts.count >= 2, parts[parts.count - 1] == parts[parts.count - 2] { parts.removeLast() }
    let layer = parts.isEmpty ? prefix : parts.joined(separator: ".")
    let index = parameters.names.firstIndex(of: input) ?? 0
    return (
      layer, backward, RecurrentCell(input: input, recurrent: recurrent, inputBias: bias), layout, index
    )
  }
}

/// Shapes and stacking of recognised recurrent modules.
extension RecurrentModule {
  /// Joins consecutive single-layer Keras modules of one kind into a stack.
  package static func stacked(_ modules: [Self]) -> Self? {
    guard var first = modules.first else { return nil }
    first.cells = modules.flatMap(\.cells)
    first.name = modules.map(\.name).joined(separator: ", ")
    return first
  }

  package func describe(_ layer: Int, _ direction: Int) -> String {
    "\(kind.title) '\(name.isEmpty ? "<root>" : name)' layer \(layer)\(direction == 1 ? " (reverse)" : "")"
  }

  /// The hidden size from the first cell's recurrent weight, and the gate count check.
  package func hiddenSize(_ parameters: ParameterSet, gates: Int) throws -> (hidden: Int, output: Int) {
    let first = cells[0][0]
    let name = first.recurrent
    guard let shape = parameters.shape(name), shape.count == 2 else {
      throw ModelError.missingModule("\(describe(0, 0)): missing or malformed tensor '\(name)'")
    }
    if let projection = first.projection, let p = parameters.shape(projection), p.count == 2 {
      return (p[1], p[0])
    }
    let (g, h) = layout == .pytorch ? (shape[0], shape[1]) : (shape[1], shape[0])
    guard g == gates * h else {
      throw ModelError.badWeight(
        parameters.fileName(name),
        "\(describe(0, 0)): recurrent weight \(Shape.describe(shape)) is not \(gates) gates of \(h) units")
    }
    return (h, h)
  }

  package func inputSize(_ parameters: ParameterSet) throws -> Int {
    let name = cells[0][0].input
    guard let shape = parameters.shape(name), shape.count == 2 else {
      throw ModelError.missingModule("\(describe(0, 0)): missing or malformed tensor '\(name)'")
    }
    return layout == .pytorch ? shape[1] : shape[0]
  }

  package func checkDirections() throws {
    let directions = cells[0].count
    for (index, layer) in cells.enumerated() where layer.count != directions {
      throw ModelError.missingModule(
        "\(describe(index, 0)): has \(layer.count) direction(s), layer 0 has \(directions)")
    }
  }
}

extension RecurrentRecognizer {
  /// The one module of `kind` a single-module architecture (`lstm`, `gru`) runs: the file's only
  /// PyTorch module of that kind, or its Keras layers of that kind stacked in model order.
  package func single(_ kind: RecurrentModule.Kind) throws -> RecurrentModule {
    let found = modules()
    let matching = found.filter { $0.kind == kind }
    guard !matching.isEmpty else {
      let others = found.map { "\($0.kind.title) '\($0.name)'" }
      throw ModelError.missingModule(
        "no \(kind.title) module found"
          + (others.isEmpty ? "" : " (found \(others.joined(separator: ", ")))"))
    }
    if matching[0].layout == .pytorch {
      guard matching.count == 1 else {
        throw ModelError.missingModule(
          "found \(matching.count) \(kind.title) modules (\(matching.map { "'\($0.name)'" }.joined(separator: ", "))); "
            + "expected one: pass --module with the prefix of the one to run")
      }
      return matching[0]
    }
    // Keras: one layer per module; the layers of the file make the stack.
    if let config = parameters.kerasConfig {
      for module in matching { try config.checkRecurrent(module.name) }
    }
    guard matching.count == found.count, let stack = RecurrentModule.stacked(matching) else {
      throw ModelError.missingModule("the file mixes LSTM and GRU layers; cannot tell the stack")
    }
    return stack
  }
}
