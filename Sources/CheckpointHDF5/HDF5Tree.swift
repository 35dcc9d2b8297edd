import CheckpointCore

/// The group and dataset tree of an HDF5 file, for `ckpt inspect --tree`.
public enum HDF5Tree {
  /// Reads the tree of the file at `path` (headers and attributes only), after
  /// the same safety checks as reading a checkpoint.
  public static func read(path: String) throws -> HDF5Node {
    try CheckpointError.locating(file: path) { try HDF5File(path: path).tree() }
  }

  /// Draws the tree, one line per group or dataset, with dtypes, shapes,
  /// storage and (shortened) attributes.
  public static func render(_ root: HDF5Node, attributeWidth: Int = 72) -> String {
    var lines: [String] = []
    func attributes(_ node: HDF5Node) -> String {
      guard !node.attributes.isEmpty else { return "" }
      let text = node.attributes.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
      return "  {" + (text.count > attributeWidth ? String(text.prefix(attributeWidth - 3)) + "..." : text)
        + "}"
    }
    func describe(_ node: HDF5Node) -> String {
      guard let info = node.dataset else { return node.name + "/" + attributes(node) }
      var parts = [node.name, info.dtype?.name ?? "(\(info.typeDescription))"]
      parts.append(info.shape.map { Shape.describe($0) } ?? "null")
      var storage = info.layout
      if let chunks = info.chunks { storage += " " + Shape.describe(chunks) }
      if !info.filters.isEmpty { storage += " " + info.filters.joined(separator: "+") }
      if let dtype = info.dtype, dtype.elementSize ?? 1 > 1, info.typeDescription.hasSuffix("big-endian") {
        storage += " big-endian"
      }
      parts.append(storage)
      return parts.joined(separator: "  ") + attributes(node)
    }
    func visit(_ node: HDF5Node, prefix: String) {
      for (index, child) in node.children.enumerated() {
        let last = index == node.children.count - 1
        lines.append(prefix + (last ? "└── " : "├── ") + describe(child))
        visit(child, prefix: prefix + (last ? "    " : "│   "))
      }
    }
    lines.append("/" + attributes(root))
    visit(root, prefix: "")
    return lines.joined(separator: "\n")
  }
}
