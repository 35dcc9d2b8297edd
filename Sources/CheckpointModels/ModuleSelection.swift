import CheckpointCore

extension Checkpoint {
  /// The tensors of the module under `prefix` alone (`encoder.rnn`, a Keras layer `enc_gru`),
  /// so that one module of a larger checkpoint can be run or verified by itself (`--module`).
  ///
  /// A tensor belongs to the module when the prefix's path components (split at `.` and `/`)
  /// begin its name, after Keras's own roots (`layers/` in Keras 3, `model_weights/` in a full
  /// Keras 2 model): `encoder.rnn` takes `encoder.rnn.weight_ih_l0`, `enc_gru` takes
  /// `enc_gru/enc_gru/gru_cell/kernel:0` and `layers/enc_gru/cell/vars/0`. Names stay as they are;
  /// the metadata is kept. Several prefixes, separated by commas, select several modules (the
  /// Keras layers `encoder_lstm,encoder_lstm_1` that a two-layer PyTorch LSTM became).
  ///
  /// - Throws: `CheckpointError` `.notFound` when no tensor is under `prefix`, naming the modules
  ///   the checkpoint holds.
  public func module(_ prefix: String) throws -> Checkpoint {
    let prefixes = prefix.split(separator: ",").map { Checkpoint.components(String($0)) }
    guard !prefixes.isEmpty, prefixes.allSatisfy({ !$0.isEmpty }) else {
      throw CheckpointError(.invalidArgument, "--module needs a module prefix, such as encoder.rnn")
    }
    func under(_ name: String, _ wanted: [Substring]) -> Bool {
      var parts = Checkpoint.components(name)
      if let first = parts.first, first == "layers" || first == "model_weights", parts.count > wanted.count,
        Array(parts.prefix(wanted.count)) != wanted
      {
        parts.removeFirst()
      }
      return parts.count > wanted.count && Array(parts.prefix(wanted.count)) == wanted
    }
    let selected = tensors.filter { tensor in prefixes.contains { under(tensor.name, $0) } }
    guard !selected.isEmpty else {
      let names = ModuleRecognition(self).runnable.map { "\($0.kind) '\($0.prefix)'" }
      throw CheckpointError(
        .notFound,
        "no tensor is under the module prefix '\(prefix)'"
          + (names.isEmpty ? "" : "; the modules are: " + names.joined(separator: ", ")))
    }
    return try Checkpoint(format: format, tensors: selected, metadata: metadata)
  }

  /// A module prefix as `--module` takes it: without its trailing separator.
  static func trimmed(_ name: String) -> String {
    var text = name
    while text.hasSuffix(".") || text.hasSuffix("/") { text.removeLast() }
    return text
  }

  static func components(_ name: String) -> [Substring] {
    name.split(whereSeparator: { $0 == "." || $0 == "/" })
  }
}

extension ModuleRecognition {
  /// A module `--module` can select: its prefix, what it is and how many layers it has.
  public struct Runnable: Sendable, Equatable {
    /// The prefix `--module` takes (`encoder.lstm`, a Keras layer `enc_gru`).
    public var prefix: String
    /// `LSTM`, `GRU`, `Transformer encoder` or `Transformer decoder`.
    public var kind: String
    /// Its layers (for a Keras recurrent layer, 1).
    public var layers: Int
    /// The naming its tensors follow.
    public var naming: Naming
  }

  /// Every recognised module, recurrent ones first, in file order.
  public var runnable: [Runnable] {
    recurrent.map {
      Runnable(
        prefix: Checkpoint.trimmed($0.name), kind: $0.kind.title, layers: $0.cells.count, naming: $0.layout)
    }
      + transformerStacks.map {
        Runnable(
          prefix: Checkpoint.trimmed($0.name),
          kind: $0.isDecoder ? "Transformer decoder" : "Transformer encoder",
          layers: $0.layers.count, naming: $0.layout)
      }
  }
}
