import CheckpointCore
import CheckpointStorage

/// Writes a ``Checkpoint`` as HDF5: generic, Keras 2 or Keras 3 layout.
///
/// Tensors stream one at a time (load, write, drop). The file is created by
/// libhdf5 at the temporary path ``AtomicFile`` opened, closed, then synced
/// and renamed into place, so a failure leaves no partial file.
enum HDF5CheckpointWriter {
  enum Layout {
    /// Every tensor at its name as a path; metadata as root string attributes.
    case generic
    /// tf.keras 2 `save_weights` layout (`layer_names`, `weight_names`, `backend`, `keras_version`).
    case keras2
    /// Keras 3 `.weights.h5` layout (`layers/<name>/vars/<N>`), no compression.
    case keras3
  }

  /// The `keras_version` written when the checkpoint has none (tf_keras 2.x
  /// treats a version starting with `1` as Keras 1 and converts weights).
  static let defaultKerasVersion = "2.21.0"

  /// Metadata tf.keras reads as a full model rather than weights: not written
  /// to a weights-only file.
  static let fullModelKeys: Set<String> = ["model_config", "training_config"]

  static func write(_ checkpoint: Checkpoint, to path: String, layout: Layout, options: WriteOptions) throws {
    var level: Int?
    if let compression = options.compression, compression.codec == .zlib {
      guard layout != .keras3 else {
        throw CheckpointError(
          .invalidArgument, "Keras 3 .weights.h5 files are not compressed; write generic HDF5 (--format hdf5)"
        )
      }
      level = compression.level
    }
    try checkNames(checkpoint, layout: layout)
    options.progress?.begin(label: "writing \(path)", totalBytes: checkpoint.byteCount)
    try AtomicFile.write(to: path) { output in
      let writer = try HDF5Writer(path: output.path)
      switch layout {
      case .generic, .keras3:
        for tensor in checkpoint.tensors {
          try write(tensor, at: tensor.name, writer: writer, level: level, options: options)
        }
        if layout == .generic {
          for (key, value) in checkpoint.metadata.sorted(by: { $0.key < $1.key }) {
            try writer.setAttribute(onGroup: "", key, .string(value))
          }
        }
      case .keras2:
        try writeKeras2(checkpoint, writer: writer, level: level, options: options)
      }
      try writer.close()
    }
  }

  private static func write(
    _ tensor: Tensor, at path: String, writer: HDF5Writer, level: Int?, options: WriteOptions
  ) throws {
    try CheckpointError.locating(tensor: tensor.name) {
      let bytes = try tensor.load()
      try writer.writeDataset(
        path, dtype: tensor.dtype, shape: tensor.shape, bytes: bytes, compression: level)
      options.progress?.advance(bytes: bytes.count)
    }
  }

  private static func writeKeras2(
    _ checkpoint: Checkpoint, writer: HDF5Writer, level: Int?, options: WriteOptions
  ) throws {
    var layers: [String] = []
    var weights: [String: [String]] = [:]
    for tensor in try keras2Order(checkpoint) {
      // A full model's optimizer state keeps its own group beside the layers, as tf.keras writes
      // it; load_weights reads only the groups layer_names lists.
      if tensor.name.hasPrefix(Keras2Layout.optimizerGroup + "/") {
        try write(tensor, at: tensor.name, writer: writer, level: level, options: options)
        continue
      }
      let (layer, weight) = splitLayer(tensor.name)
      if weights[layer] == nil { layers.append(layer) }
      weights[layer, default: []].append(weight)
      try write(tensor, at: layer + "/" + weight, writer: writer, level: level, options: options)
    }
    for layer in layers {
      try writer.setAttribute(onGroup: layer, "weight_names", .strings(weights[layer] ?? []))
    }
    for (name, part) in splitList(layers, name: "layer_names") {
      try writer.setAttribute(onGroup: "", name, .strings(part))
    }
    try writer.setAttribute(onGroup: "", "backend", .string(checkpoint.metadata["backend"] ?? "tensorflow"))
    try writer.setAttribute(
      onGroup: "", "keras_version", .string(checkpoint.metadata["keras_version"] ?? defaultKerasVersion))
    for (key, value) in checkpoint.metadata.sorted(by: { $0.key < $1.key })
    where key != "backend" && key != "keras_version" && !fullModelKeys.contains(key)
      && key != Keras2Layout.weightOrderKey && key != Checkpoint.kerasLayerOrderKey
      && !Keras2Layout.isSplitAttribute(key, "layer_names")
    {
      try writer.setAttribute(onGroup: "", key, .string(value))
    }
  }

  /// The tensors in the order tf.keras `load_weights` needs, which matches layers and each
  /// layer's weights by position: the order the source file recorded
  /// (``Keras2Layout/weightOrderKey``, kept by the reader and carried by formats with metadata),
  /// else layers in the order a layout conversion from Keras recorded (`Checkpoint.kerasLayerOrderKey`)
  /// or in `model_config` order with each layer's weights in Keras's own order
  /// (kernel, recurrent kernel, bias, ...), else the checkpoint's order — unless that came from
  /// a format that sorts names (safetensors), where it would be alphabetical by accident: then it
  /// is an error.
  static func keras2Order(_ checkpoint: Checkpoint) throws -> [Tensor] {
    func list(_ key: String) -> [String]? {
      checkpoint.metadata[key].flatMap { try? JSONValue.parse(Array($0.utf8)).arrayValue }?.compactMap(
        \.stringValue)
    }
    let tensors = checkpoint.tensors
    if let recorded = list(Keras2Layout.weightOrderKey) {
      let position = Dictionary(recorded.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
      let placed = tensors.filter { position[$0.name] != nil }.sorted {
        position[$0.name]! < position[$1.name]!
      }
      if placed.count == tensors.count { return placed }
    }
    let recordedLayers = list(Checkpoint.kerasLayerOrderKey) ?? []
    let sorted = [SafetensorsFormat.identifier, ShardedSafetensorsFormat.identifier].contains(
      checkpoint.format)
    guard sorted || !recordedLayers.isEmpty else { return tensors }
    let configText = checkpoint.metadata["model_config"]
    let configLayers =
      !recordedLayers.isEmpty
      ? recordedLayers
      : configText.flatMap { try? JSONValue.parse(Array($0.utf8)) }?["config"]?["layers"]?.arrayValue?
        .compactMap { $0["config"]?["name"]?.stringValue ?? $0["name"]?.stringValue } ?? []
    var layers: [String] = []
    var byLayer: [String: [Tensor]] = [:]
    for tensor in tensors {
      let layer = splitLayer(tensor.name).layer
      if byLayer[layer] == nil { layers.append(layer) }
      byLayer[layer, default: []].append(tensor)
    }
    let unknown = layers.filter { !configLayers.contains($0) }
    let unranked = byLayer.values.contains { weights in
      weights.count > 1 && weights.contains { weightRank($0.name) == nil }
    }
    if sorted, unknown.count > 1 || unranked || (!layers.isEmpty && configLayers.isEmpty && layers.count > 1)
    {
      throw CheckpointError(
        .invalidArgument,
        "the order of the Keras layers and weights is not known: \(checkpoint.format) sorts tensor names, and "
          + "the source records neither its weight order nor a model_config that names every layer (tf.keras "
          + "loads weights by position); convert from the original .h5, or through npz, .ckz or .pt, which keep it"
      )
    }
    let ordered = configLayers.filter { byLayer[$0] != nil } + unknown
    return ordered.flatMap { layer in
      (byLayer[layer] ?? []).enumerated().sorted { a, b in
        (weightRank(a.element.name) ?? 99, a.offset) < (weightRank(b.element.name) ?? 99, b.offset)
      }.map(\.element)
    }
  }

  /// Where Keras creates a weight in its layer, by the weight's last name: kernels, then
  /// recurrent kernels, then biases (Dense, LSTM, GRU, Conv), embeddings, and a normalisation's
  /// gamma, beta and moving statistics.
  static func weightRank(_ name: String) -> Int? {
    let leaf = name.split(separator: "/").last.map { String($0.split(separator: ":")[0]) } ?? name
    return [
      "kernel", "recurrent_kernel", "bias", "embeddings", "gamma", "beta", "moving_mean", "moving_variance",
    ]
    .firstIndex(of: leaf)
  }

  /// `lstm/lstm/lstm_cell/kernel:0` → (`lstm`, `lstm/lstm_cell/kernel:0`).
  static func splitLayer(_ name: String) -> (layer: String, weight: String) {
    guard let slash = name.firstIndex(of: "/") else { return (name, name) }
    return (String(name[..<slash]), String(name[name.index(after: slash)...]))
  }

  /// `layer_names` as one attribute, or split into `layer_names0..N` the way
  /// tf.keras does when the list exceeds HDF5's 64 KiB object-header limit
  /// (`np.array_split` into the fewest parts whose fixed-width size, the
  /// longest UTF-8 name times the count, fits).
  static func splitList(_ list: [String], name: String) -> [(String, [String])] {
    let width = list.map(\.utf8.count).max() ?? 0
    var parts = 1
    while parts < list.count, (list.count + parts - 1) / parts * width > Keras2Layout.attributeLimit {
      parts += 1
    }
    guard parts > 1 else { return [(name, list)] }
    var result: [(String, [String])] = []
    var start = 0
    for index in 0..<parts {
      let size = list.count / parts + (index < list.count % parts ? 1 : 0)
      result.append(("\(name)\(index)", Array(list[start..<(start + size)])))
      start += size
    }
    return result
  }

  /// Refuses names the layout cannot hold, before anything is written.
  static func checkNames(_ checkpoint: Checkpoint, layout: Layout) throws {
    for tensor in checkpoint.tensors {
      try HDF5Writer.validate(name: tensor.name)
      switch layout {
      case .generic: break
      case .keras2:
        guard Keras2Layout.isWeightName(tensor.name) else {
          throw CheckpointError(
            .invalidArgument,
            "not a Keras 2 weight path '<layer>/<weight>:0'; the checkpoint's layout must be converted first",
            tensor: tensor.name)
        }
      case .keras3:
        guard Keras3Layout.isVariablePath(tensor.name) else {
          throw CheckpointError(
            .invalidArgument,
            "not a Keras 3 variable path 'layers/<layer>/vars/<N>'; the checkpoint's layout must be converted first",
            tensor: tensor.name)
        }
      }
    }
  }
}
