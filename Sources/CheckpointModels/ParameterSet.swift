import CheckpointCore

/// A checkpoint's model tensors (parameters and buffers, not training state: ``TensorRole``)
/// under normalised names, with typed, shape-checked access.
///
/// Names are normalised so one set of patterns serves every layout: a leading `/`,
/// Keras 2's `:0` suffix and a `model_weights/` root are dropped, and `/` becomes `.`
/// (`model_weights/lstm/lstm/lstm_cell/kernel:0` → `lstm.lstm.lstm_cell.kernel`).
package struct ParameterSet {
  private var byName: [String: Tensor] = [:]
  /// Normalised names in file order.
  package private(set) var names: [String] = []
  /// The checkpoint's metadata.
  package var metadata: [String: String]
  /// The Keras 2 `model_config`, when the file carries one.
  package var kerasConfig: KerasModelConfig?

  package init(_ checkpoint: Checkpoint) {
    metadata = checkpoint.metadata
    kerasConfig = KerasModelConfig(checkpoint.metadata)
    // Training state is not the model: an optimizer's moments under `optimizer_weights/Adam/m/lstm/`
    // are shaped like the LSTM they track and must not be recognised as one.
    for tensor in checkpoint.tensors where TensorRole.of(tensor.info) != .trainingState {
      let name = ParameterSet.normalize(tensor.name)
      guard byName[name] == nil else { continue }
      byName[name] = tensor
      names.append(name)
    }
  }

  package static func normalize(_ name: String) -> String {
    var text = name
    while text.hasPrefix("/") { text.removeFirst() }
    if text.hasSuffix(":0") { text.removeLast(2) }
    if text.hasPrefix("model_weights/") { text.removeFirst("model_weights/".count) }
    return text.split(separator: "/", omittingEmptySubsequences: false).joined(separator: ".")
  }

  package func contains(_ name: String) -> Bool { byName[name] != nil }

  /// The shape of `name`, if present.
  package func shape(_ name: String) -> [Int]? { byName[name]?.shape }

  /// The original (file) name of `name`.
  package func fileName(_ name: String) -> String { byName[name]?.name ?? name }

  /// The tensor stored under normalised name `name`.
  package func tensor(_ name: String) -> Tensor? { byName[name] }

  /// Names matching `pattern`'s capture groups: `(prefix, captures)` for each hit.
  package func matches(_ pattern: String) -> [(name: String, groups: [String])] {
    guard let regex = try? Regex(pattern) else { return [] }
    var result: [(String, [String])] = []
    for name in names {
      guard let match = try? regex.wholeMatch(in: name) else { continue }
      var groups: [String] = []
      for index in 1..<match.output.count {
        groups.append(match.output[index].substring.map(String.init) ?? "")
      }
      result.append((name, groups))
    }
    return result
  }
}

/// A regex that matches `text` as it is.
package func regexLiteral(_ text: String) -> String {
  var result = ""
  for character in text {
    if "\\^$.|?*+()[]{}".contains(character) { result.append("\\") }
    result.append(character)
  }
  return result
}

/// Sorts Keras layer names as Keras numbers them: `lstm`, `lstm_1`, `lstm_2`, …, `lstm_10`.
package func kerasOrder(_ a: String, _ b: String) -> Bool {
  func split(_ name: String) -> (String, Int) {
    if let underscore = name.lastIndex(of: "_"), let number = Int(name[name.index(after: underscore)...]) {
      return (String(name[..<underscore]), number)
    }
    return (name, 0)
  }
  let (baseA, numberA) = split(a)
  let (baseB, numberB) = split(b)
  return baseA == baseB ? numberA < numberB : baseA < baseB
}
