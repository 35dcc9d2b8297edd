import CheckpointCore
import CheckpointHDF5

extension Ckpt.Inspect {
  /// The `--tree` view: an HDF5 file's groups and datasets, then the Keras
  /// layer → weights structure for Keras files; for other formats, the
  /// hierarchy of the tensor names (split at `/`, else at `.`).
  static func treeText(_ checkpoint: Checkpoint, path: String) throws -> String {
    var sections: [String] = []
    if ["hdf5", "keras", "keras3"].contains(checkpoint.format) {
      sections.append("HDF5 tree:\n" + HDF5Tree.render(try HDF5Tree.read(path: path)))
    }
    switch checkpoint.format {
    case "keras":
      sections.append(
        "Keras 2 layers:\n"
          + layerText(checkpoint) { name in
            let slash = name.firstIndex(of: "/") ?? name.endIndex
            return (String(name[..<slash]), String(name[slash...].dropFirst()))
          })
    case "keras3":
      sections.append(
        "Keras 3 layers:\n"
          + layerText(checkpoint) { name in
            guard let range = name.range(of: "/vars/", options: .backwards) else { return (name, name) }
            return (String(name[..<range.lowerBound]), "vars/" + name[range.upperBound...])
          })
    case "hdf5": break
    default:
      sections.append("Tensor name tree:\n" + nameTree(checkpoint))
    }
    return sections.joined(separator: "\n\n")
  }

  /// Layers in first-appearance order, each with its weights.
  private static func layerText(
    _ checkpoint: Checkpoint, split: (String) -> (layer: String, weight: String)
  ) -> String {
    var order: [String] = []
    var weights: [String: [String]] = [:]
    for tensor in checkpoint.tensors {
      let (layer, weight) = split(tensor.name)
      if weights[layer] == nil { order.append(layer) }
      weights[layer, default: []].append(
        "\(weight)  \(tensor.dtype.name) \(Shape.describe(tensor.shape))")
    }
    return order.map { layer in
      "  " + layer + "\n" + (weights[layer] ?? []).map { "    " + $0 }.joined(separator: "\n")
    }.joined(separator: "\n")
  }

  /// The tensor names as an indented hierarchy.
  private static func nameTree(_ checkpoint: Checkpoint) -> String {
    var lines: [String] = []
    var previous: [String] = []
    for tensor in checkpoint.tensors {
      let separator: Character = tensor.name.contains("/") ? "/" : "."
      let parts = tensor.name.split(separator: separator).map(String.init)
      var common = 0
      while common < min(previous.count, parts.count - 1), previous[common] == parts[common] { common += 1 }
      for depth in common..<max(parts.count - 1, common) {
        lines.append(String(repeating: "  ", count: depth + 1) + parts[depth] + String(separator))
      }
      let leaf = parts.last ?? tensor.name
      lines.append(
        String(repeating: "  ", count: parts.count)
          + "\(leaf)  \(tensor.dtype.name) \(Shape.describe(tensor.shape))")
      previous = Array(parts.dropLast())
    }
    return lines.joined(separator: "\n")
  }
}
