import CheckpointCore

/// Builds a ``Checkpoint`` from an HDF5 file, recognising the Keras layouts.
///
/// - Keras 2 (tf.keras `save_weights`, or `model.save` under `model_weights/`):
///   the root (or `model_weights`) carries `layer_names` (split into
///   `layer_names0..N` when long) and each layer group `weight_names`. Tensors
///   are named `<layer>/<weight name>` (`lstm/lstm/lstm_cell/kernel:0`) in
///   `layer_names` then `weight_names` order; the string attributes
///   (`backend`, `keras_version`, `model_config`, `training_config`) become
///   metadata. The format is reported as `keras`. A full-model file's
///   `optimizer_weights` group is training state: its datasets follow the layers under their
///   paths (`optimizer_weights/Adam/m/dense/bias:0`), which ``TensorRole`` classifies so.
/// - Keras 3 (`.weights.h5`): datasets at `…/vars/<N>` under `layers/` (or
///   `_layer_checkpoint_dependencies/`) and `vars/`. Tensors keep their full
///   paths; reported as `keras3`.
/// - Anything else: every numeric dataset under its full path without the
///   leading slash, root string attributes as metadata; reported as `hdf5`.
///
/// Datasets that hold no numbers (strings, compounds, references) or have a
/// null dataspace are not tensors and are left out; `ckpt inspect --tree` shows them.
enum HDF5CheckpointReader {
  static func read(path: String) throws -> Checkpoint {
    try CheckpointError.locating(file: path) { try readUnlocated(path: path) }
  }

  private static func readUnlocated(path: String) throws -> Checkpoint {
    let file = try HDF5File(path: path)
    let root = try file.tree()
    if let weightsRoot = Keras2Layout.weightsRoot(of: root) {
      return try keras2(file: file, root: root, weightsRoot: weightsRoot)
    }
    let datasets = root.datasets
    let format = Keras3Layout.matches(root) ? Keras3Format.identifier : HDF5Format.identifier
    return try Checkpoint(
      format: format, tensors: try datasets.compactMap { try tensor(file: file, node: $0, name: $0.path) },
      metadata: metadata(root.attributes))
  }

  private static func keras2(file: HDF5File, root: HDF5Node, weightsRoot: HDF5Node) throws -> Checkpoint {
    var tensors: [Tensor] = []
    var used = Set<String>()
    for layerName in Keras2Layout.stringList(weightsRoot, "layer_names") {
      guard let layer = weightsRoot.child(layerName), layer.kind == .group else {
        throw CheckpointError(.corrupt, "layer_names lists '\(layerName)' but there is no such group")
      }
      for weightName in Keras2Layout.stringList(layer, "weight_names") {
        guard let node = layer.node(at: weightName), node.kind == .dataset else {
          throw CheckpointError(
            .corrupt,
            "weight_names of layer '\(layerName)' lists '\(weightName)' but there is no such dataset")
        }
        let name = layerName + "/" + weightName
        guard used.insert(node.path).inserted else { continue }
        if let tensor = try tensor(file: file, node: node, name: name) { tensors.append(tensor) }
      }
    }
    // A full model's optimizer state (tf.keras `model.save` with a compiled model): training
    // state, kept under its own path so inspect shows it apart and conversions carry or name it.
    if let optimizer = root.child(Keras2Layout.optimizerGroup), optimizer.kind == .group {
      for node in optimizer.datasets where used.insert(node.path).inserted {
        if let tensor = try tensor(file: file, node: node, name: node.path) { tensors.append(tensor) }
      }
    }
    var attributes = root.attributes
    if weightsRoot.path != root.path {
      attributes += weightsRoot.attributes.filter { attribute in
        !attributes.contains { $0.name == attribute.name }
      }
    }
    let structural = attributes.filter { !Keras2Layout.isSplitAttribute($0.name, "layer_names") }
    var metadata = metadata(structural)
    // The order tf.keras loads weights by, kept so that formats that sort names can carry it.
    metadata[Keras2Layout.weightOrderKey] = JSONValue.array(tensors.map { .string($0.name) }).compactText
    return try Checkpoint(format: Keras2Format.identifier, tensors: tensors, metadata: metadata)
  }

  /// The tensor for a dataset node, or `nil` when it holds no numbers.
  static func tensor(file: HDF5File, node: HDF5Node, name: String) throws -> Tensor? {
    guard let info = node.dataset, let dtype = info.dtype, let shape = info.shape else { return nil }
    let byteCount = try CheckpointError.locating(tensor: name) { try Shape.byteCount(shape, dtype: dtype) }
    let datasetPath = node.path
    let stored = info.storedBytes
    let filePath = file.path
    var tensor = Tensor(info: TensorInfo(name: name, dtype: dtype, shape: shape), byteCount: byteCount) {
      try CheckpointError.locating(file: filePath) {
        try file.read(path: datasetPath, dtype: dtype, shape: shape, storedBytes: stored)
      }
    }
    if !info.filters.isEmpty { tensor.storedByteCount = stored }
    return tensor
  }

  /// String and number attributes as metadata text.
  static func metadata(_ attributes: [HDF5Attribute]) -> [String: String] {
    var result: [String: String] = [:]
    for attribute in attributes {
      switch attribute.value {
      case .other: continue
      case .strings(let list):
        result[attribute.name] = JSONValue.array(list.map { .string($0) }).compactText
      default: result[attribute.name] = attribute.value.description
      }
    }
    return result
  }
}

/// The tf.keras 2 HDF5 weights layout.
enum Keras2Layout {
  /// The group of a full model's optimizer state.
  static let optimizerGroup = "optimizer_weights"
  /// The metadata key of the file's weights in file order (`layer_names`, then each layer's
  /// `weight_names`; a JSON list), the order tf.keras `load_weights` matches them by.
  static let weightOrderKey = "keras_weight_order"

  /// The attribute limit tf.keras splits `layer_names` at (HDF5's object header limit).
  static let attributeLimit = 64512

  /// The group holding `layer_names`: the root (`save_weights`) or `model_weights` (`model.save`).
  static func weightsRoot(of root: HDF5Node) -> HDF5Node? {
    if hasList(root, "layer_names") { return root }
    if let weights = root.child("model_weights"), weights.kind == .group, hasList(weights, "layer_names") {
      return weights
    }
    return nil
  }

  static func hasList(_ node: HDF5Node, _ name: String) -> Bool {
    node.attribute(name) != nil || node.attribute(name + "0") != nil
  }

  /// Whether `attribute` is `name` or one of its split parts `name0`, `name1`, ….
  static func isSplitAttribute(_ attribute: String, _ name: String) -> Bool {
    guard attribute.hasPrefix(name) else { return false }
    let rest = attribute.dropFirst(name.count)
    return rest.isEmpty || rest.allSatisfy(\.isASCII) && Int(rest) != nil
  }

  /// A string-list attribute, joined from `name0..N` when tf.keras split it.
  static func stringList(_ node: HDF5Node, _ name: String) -> [String] {
    if let value = node.attribute(name) { return value.stringList ?? [] }
    var result: [String] = []
    var index = 0
    while let part = node.attribute("\(name)\(index)") {
      result += part.stringList ?? []
      index += 1
    }
    return result
  }

  /// Whether `name` is a Keras 2 weight path: `<layer>/<weight path>:<N>`.
  static func isWeightName(_ name: String) -> Bool {
    let parts = name.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count >= 2, !parts.contains(where: \.isEmpty), let last = parts.last,
      let colon = last.lastIndex(of: ":")
    else { return false }
    let suffix = last[last.index(after: colon)...]
    return !suffix.isEmpty && suffix.allSatisfy(\.isNumber) && colon != last.startIndex
  }
}

/// The Keras 3 `.weights.h5` layout.
enum Keras3Layout {
  /// Whether the tree looks like a Keras 3 weights file: top-level `layers`
  /// (or `_layer_checkpoint_dependencies`) and/or `vars` groups, every dataset
  /// at `…/vars/<N>`.
  static func matches(_ root: HDF5Node) -> Bool {
    let tops = Set(root.children.map(\.name))
    guard tops.contains("layers") || tops.contains("_layer_checkpoint_dependencies") || tops.contains("vars")
    else { return false }
    return root.datasets.allSatisfy { isVariablePath($0.path) }
  }

  /// Whether `name` is a Keras 3 variable path (`layers/dense/vars/0`, `vars/0`).
  static func isVariablePath(_ name: String) -> Bool {
    let parts = name.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count >= 2, !parts.contains(where: \.isEmpty), parts[parts.count - 2] == "vars",
      let last = parts.last, last.allSatisfy({ $0.isASCII && $0.isNumber })
    else { return false }
    return parts.count == 2 || parts[0] == "layers" || parts[0] == "_layer_checkpoint_dependencies"
      || parts[0] == "optimizer"
  }
}
