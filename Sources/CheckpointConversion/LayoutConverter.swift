import CheckpointCore
import CheckpointModels
import Foundation

/// Converts a checkpoint's parameters from one framework's layout to another's.
///
/// ```swift
/// let keras = try LayoutConverter.convert(torch, from: nil, to: .keras)
/// try FormatRegistry.write(keras, to: "model.h5")
/// ```
///
/// The source's modules are found by the engine's recognisers (`ModuleRecognition`), read into
/// canonical parameters through the source naming's `LayoutTable`s, and written through the
/// target's. Tensors are transformed lazily: nothing is loaded until a converted tensor's
/// `load()`. Transforms move data exactly (transposes, gate permutations, reshapes, packing);
/// the one arithmetic step is the LSTM bias merge `b_ih + b_hh` into Keras (float32), whose
/// reverse puts the bias in `b_ih` and zeros in `b_hh`.
///
/// What cannot be mapped exactly is an error: a Keras GRU with `reset_after=False` into PyTorch,
/// an LSTM `proj_size` into Keras, a Keras `key_dim` that is not E/heads, a Transformer into
/// tf.keras 2.
public enum LayoutConverter {
  /// The metadata key recording the conversion and the Transformer settings the source implies
  /// (a JSON object: `from`, `to`, `num_heads`, `activation`, `layer_norm_eps`, `norm_first`).
  public static let metadataKey = "layout_conversion"

  /// Converts `checkpoint` to the `to` layout.
  ///
  /// - Parameters:
  ///   - checkpoint: the source checkpoint.
  ///   - from: the source layout; `nil` detects it (``detect(_:)``).
  ///   - to: the target layout (`hf` picks BERT or BART naming, see ``ConversionOptions/hfStyle``).
  ///   - options: the settings, heads and user rules the conversion needs.
  /// - Returns: a checkpoint (format `"memory"`) of lazily transformed tensors.
  /// - Throws: `CheckpointError` `.unsupported` for what has no exact mapping, `.notFound`
  ///   for missing parameters, `.invalidShape` for shapes that do not fit the rules.
  public static func convert(
    _ checkpoint: Checkpoint, from: Layout?, to: Layout, options: ConversionOptions = ConversionOptions()
  ) throws -> Checkpoint {
    var notes: [String] = []
    return try convert(checkpoint, from: from, to: to, options: options, notes: &notes)
  }

  /// Converts as ``convert(_:from:to:options:)`` does, adding to `notes` a line for what the
  /// target cannot hold and is left out (buffers in a Keras weights file).
  public static func convert(
    _ checkpoint: Checkpoint, from: Layout?, to: Layout, options: ConversionOptions, notes: inout [String]
  ) throws -> Checkpoint {
    // Training state (optimizer moments, step counts) is laid out like the parameters it tracks
    // and would need their every step; it is left out, and said so, rather than mistaken for
    // modules (Keras 2's `optimizer_weights/Adam/m/lstm/...` looks like an LSTM).
    let all = try UserRule.apply(options.rules, stage: .source, to: checkpoint.tensors)
    let training = all.filter { TensorRole.of($0.info) == .trainingState }
    if !training.isEmpty {
      notes.append(
        "left out \(training.count) training-state tensor(s) (optimizer state does not follow a layout "
          + "conversion; convert without --layout to keep them): "
          + training.prefix(4).map(\.name).joined(separator: ", ") + (training.count > 4 ? ", ..." : ""))
    }
    let source = try Checkpoint(
      format: checkpoint.format, tensors: all.filter { TensorRole.of($0.info) != .trainingState },
      metadata: checkpoint.metadata)
    let fromLayout = from ?? detect(source).layout
    let recognised = ModuleRecognition(source)
    // Flags, then the source's own config, then what its naming fixes (BERT is post-norm).
    let settings = TransformerSettings.known(
      naming: recognised.transformerStacks.first?.layout ?? .pytorch,
      metadata: ModelMetadata(source.metadata),
      options: options.settings)
    var (modules, buffers) = try ModuleReader(source, naming: naming(fromLayout)).modules()
    let target = try targetNaming(to, modules: modules, options: options)
    if options.stackRecurrent, target == .pytorch || target == .hfBert || target == .hfBart {
      modules = stackKerasLayers(modules, fromLayout: fromLayout)
    }
    let heads = options.heads ?? modules.compactMap(\.heads).first ?? settings.heads
    if target == .keras3 {
      // Final norms become LayerNormalization layers numbered encoder first (what the engine reads back).
      let rank: (CanonicalModule) -> Int = { $0.kind == .encoderStack ? 0 : $0.kind == .decoderStack ? 1 : 2 }
      modules = modules.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }
        .map(\.element)
    }
    var writer = ModuleWriter(naming: target, heads: heads)
    var tensors: [Tensor] = []
    for module in modules { tensors += try writer.write(module) }
    // Buffers are not parameters: PyTorch-style targets keep them as they are; Keras weights
    // files, loaded by position, have no place for them.
    if target == .keras2 || target == .keras3 {
      if !buffers.isEmpty {
        notes.append(
          "left out \(buffers.count) buffer(s) a Keras weights file has no place for: "
            + buffers.prefix(4).map(\.name).joined(separator: ", ") + (buffers.count > 4 ? ", ..." : ""))
      }
      buffers = []
    }
    tensors += buffers
    tensors = try UserRule.apply(options.rules, stage: .target, to: tensors)
    var metadata: [String: String] = [:]
    // The model's own config describes the same model in any layout.
    if let config = source.metadata[Checkpoint.configKey] { metadata[Checkpoint.configKey] = config }
    // A Keras model's layer order, from the source file's own order when it is Keras.
    if let order = source.metadata[Checkpoint.kerasLayerOrderKey] {
      metadata[Checkpoint.kerasLayerOrderKey] = order
    } else if fromLayout == .keras || fromLayout == .keras3 {
      var layers: [String] = []
      for tensor in source.tensors {
        let parts = tensor.name.split(separator: "/").map(String.init)
        guard
          let layer = fromLayout == .keras3
            ? (parts.first == "layers" && parts.count > 1 ? parts[1] : nil) : parts.first,
          !layers.contains(layer)
        else { continue }
        layers.append(layer)
      }
      if layers.count > 1 {
        metadata[Checkpoint.kerasLayerOrderKey] = JSONValue.array(layers.map { .string($0) }).compactText
      }
    }
    // Keras 3 weights files hold no metadata; their kernels carry the heads.
    if target != .keras3 {
      metadata[metadataKey] = record(
        from: fromLayout, to: target, modules: modules, heads: heads, settings: settings)
    }
    return try Checkpoint(format: "memory", tensors: tensors, metadata: metadata)
  }

  /// Detects a checkpoint's layout: from the modules the engine recognises when there are any
  /// (evidence names them), else from tensor names (``LayoutDetector``).
  public static func detect(_ checkpoint: Checkpoint) -> LayoutDetection {
    let found = ModuleRecognition(checkpoint)
    var evidence: [String] = []
    var layout: Layout?
    for module in found.recurrent.prefix(3) {
      let name = module.name.isEmpty ? "<root>" : module.name
      evidence.append(
        "\(module.kind.title) '\(name)': \(module.cells[0][0].input) (\(module.layout.rawValue) naming)"
      )
      layout = layout ?? Layout(module.layout)
    }
    for stack in found.transformerStacks.prefix(3) {
      let what = stack.isDecoder ? "Transformer decoder" : "Transformer encoder"
      evidence.append(
        "\(what) (\(stack.layers.count) layers): \(stack.layers.first?.selfAttention.query ?? "") "
          + "(\(stack.layout.rawValue) naming)")
      layout = layout ?? Layout(stack.layout)
    }
    if let layout { return LayoutDetection(layout: layout, evidence: evidence) }
    return LayoutDetector.detect(names: checkpoint.tensors.map(\.name))
  }

  /// The naming of plain (Linear, Embedding, LayerNorm) tensors in a layout.
  static func naming(_ layout: Layout) -> Naming {
    switch layout {
    case .pytorch, .hf, .unknown: return .pytorch
    case .keras: return .keras2
    case .keras3: return .keras3
    }
  }

  private static func targetNaming(_ layout: Layout, modules: [CanonicalModule], options: ConversionOptions)
    throws
    -> Naming
  {
    switch layout {
    case .pytorch: return .pytorch
    case .keras: return .keras2
    case .keras3: return .keras3
    case .hf:
      if let style = options.hfStyle { return style }
      return modules.contains { $0.kind == .decoderStack } ? .hfBart : .hfBert
    case .unknown:
      throw CheckpointError(.invalidArgument, "choose a target layout: pytorch, keras, keras3 or hf")
    }
  }

  /// Joins consecutive Keras recurrent layers into one multi-layer module when the file holds
  /// nothing else, all are the same kind and direction count, and each layer's input is the
  /// previous layer's output.
  static func stackKerasLayers(_ modules: [CanonicalModule], fromLayout: Layout) -> [CanonicalModule] {
    guard fromLayout == .keras || fromLayout == .keras3, modules.count > 1, let first = modules.first,
      modules.allSatisfy({ $0.isRecurrent && $0.kind == first.kind && $0.directions == first.directions })
    else { return modules }
    for (previous, next) in zip(modules, modules.dropFirst()) {
      guard let hidden = previous.units.last?.first?["weight_hh"]?.shape.last,
        let input = next.units.first?.first?["weight_ih"]?.shape.last,
        input == hidden * previous.directions
      else { return modules }
    }
    var stacked = first
    stacked.name = ""
    stacked.units = modules.flatMap(\.units)
    return [stacked]
  }

  /// The conversion record: heads when known, and for Transformers the activation, eps and
  /// norm placement that the flags or the source's own config give — never a guess, so a
  /// converted file runs without flags exactly when its source did (or the flags were given).
  private static func record(
    from: Layout, to: Naming, modules: [CanonicalModule], heads: Int?, settings: ModelSettings
  ) -> String {
    var members: [(String, JSONValue)] = [("from", .string(from.rawValue)), ("to", .string(to.rawValue))]
    let stacks = modules.filter { $0.kind == .encoderStack || $0.kind == .decoderStack }
    let attention = !stacks.isEmpty || modules.contains { $0.kind == .attention }
    if attention, let heads { members.append(("num_heads", .integer(Int64(heads)))) }
    if !stacks.isEmpty {
      if let activation = settings.activation { members.append(("activation", .string(activation.rawValue))) }
      if let eps = settings.eps { members.append(("layer_norm_eps", .double(Double(eps)))) }
      if let normFirst = settings.normFirst { members.append(("norm_first", .bool(normFirst))) }
    }
    return JSONValue.object(members).compactText
  }
}
