import CheckpointCore

/// One group or dataset of an HDF5 file, with its attributes.
///
/// ``HDF5Format`` reads the whole tree (headers only) before building a
/// checkpoint, and `ckpt inspect --tree` prints it.
public struct HDF5Node: Sendable {
  /// Whether the node is a group or a dataset.
  public enum Kind: String, Sendable {
    case group
    case dataset
  }

  /// The link name (`kernel:0`); empty for the root group.
  public var name: String
  /// The full path without the leading slash (`lstm/lstm/lstm_cell/kernel:0`); empty for the root.
  public var path: String
  /// Group or dataset.
  public var kind: Kind
  /// The attributes, in name order.
  public var attributes: [HDF5Attribute]
  /// The children of a group, in creation order when the group tracks it, else in
  /// name order (all-numeric names in numeric order).
  public var children: [HDF5Node]
  /// A dataset's description; `nil` for groups.
  public var dataset: HDF5DatasetInfo?

  /// The attribute named `name`, if any.
  public func attribute(_ name: String) -> HDF5AttributeValue? {
    attributes.first { $0.name == name }?.value
  }

  /// The child named `name`, if any.
  public func child(_ name: String) -> HDF5Node? {
    children.first { $0.name == name }
  }

  /// The node at `path` (slash-separated, relative to this node), if any.
  public func node(at path: String) -> HDF5Node? {
    var node = self
    for part in path.split(separator: "/") {
      guard let next = node.child(String(part)) else { return nil }
      node = next
    }
    return node
  }

  /// Every dataset below this node, depth first in child order.
  public var datasets: [HDF5Node] {
    var result: [HDF5Node] = []
    func visit(_ node: HDF5Node) {
      if node.kind == .dataset { result.append(node) }
      node.children.forEach(visit)
    }
    visit(self)
    return result
  }
}

/// A dataset's element type, shape and storage, from its headers.
public struct HDF5DatasetInfo: Sendable {
  /// The checkpoint dtype the data converts to (little-endian), or `nil` when the
  /// element type is not a number type (strings, compounds, references, ...).
  public var dtype: DType?
  /// The stored element type in words (`f32 big-endian`, `opaque 2 bytes`, ...).
  public var typeDescription: String
  /// The dimensions; `[]` for a scalar dataspace, `nil` for a null dataspace.
  public var shape: [Int]?
  /// `contiguous`, `chunked` or `compact`.
  public var layout: String
  /// The chunk dimensions of a chunked dataset.
  public var chunks: [Int]?
  /// The filter pipeline in order (`shuffle`, `gzip:4`, `fletcher32`, ...).
  public var filters: [String]
  /// The bytes allocated in the file for the data.
  public var storedBytes: Int
}

/// A named attribute value.
public struct HDF5Attribute: Sendable {
  /// The attribute's name.
  public var name: String
  /// The attribute's value.
  public var value: HDF5AttributeValue
}

/// An attribute's value, as far as a checkpoint needs it.
public enum HDF5AttributeValue: Sendable, Equatable, CustomStringConvertible {
  /// A scalar string (fixed or variable length).
  case string(String)
  /// An array of strings (Keras `layer_names`, `weight_names`).
  case strings([String])
  /// Integers of any width, widened.
  case integers([Int64])
  /// Floats of any width, widened.
  case floats([Double])
  /// Anything else, described (`compound`, `reference`, ...).
  case other(String)

  /// The value as a list of strings (a scalar string gives one element), if it is text.
  public var stringList: [String]? {
    switch self {
    case .string(let text): return [text]
    case .strings(let list): return list
    default: return nil
    }
  }

  /// The value as messages and `ckpt inspect` print it.
  public var description: String {
    switch self {
    case .string(let text): return text
    case .strings(let list): return "[" + list.joined(separator: ", ") + "]"
    case .integers(let values):
      return values.count == 1 ? "\(values[0])" : "[" + values.map(String.init).joined(separator: ", ") + "]"
    case .floats(let values):
      return values.count == 1 ? "\(values[0])" : "[" + values.map { "\($0)" }.joined(separator: ", ") + "]"
    case .other(let text): return "<\(text)>"
    }
  }
}
