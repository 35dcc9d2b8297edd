import CheckpointCore

/// A value built by the ``PickleMachine``: plain data, containers, allow-listed
/// globals and the PyTorch objects the allow-list can construct.
///
/// There is no case for an arbitrary object: anything the allow-list does not
/// know is refused while unpickling, so a `PickleValue` never stands for code.
enum PickleValue {
  case none
  case bool(Bool)
  case int(Int)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple(PickleTuple)
  case list(PickleList)
  case dict(PickleDict)
  /// An allow-listed global that is a value or a callable (not yet called).
  case global(PickleGlobal)
  /// A storage record of the archive, from a persistent id.
  case storage(TorchStorageReference)
  /// A tensor rebuilt by `torch._utils._rebuild_tensor_v2` (or a parameter).
  case tensor(TorchTensorReference)

  /// A short type name for error messages.
  var typeName: String {
    switch self {
    case .none: return "None"
    case .bool: return "bool"
    case .int: return "int"
    case .float: return "float"
    case .string: return "str"
    case .bytes: return "bytes"
    case .tuple: return "tuple"
    case .list: return "list"
    case .dict(let dict): return dict.isOrdered ? "OrderedDict" : "dict"
    case .global(let global): return global.qualifiedName
    case .storage: return "storage"
    case .tensor: return "tensor"
    }
  }

  /// The integer, if this is one.
  var intValue: Int? {
    if case .int(let value) = self { return value }
    return nil
  }

  /// The items of a tuple or list.
  var sequenceItems: [PickleValue]? {
    switch self {
    case .tuple(let tuple): return tuple.items
    case .list(let list): return list.items
    default: return nil
    }
  }
}

/// A key of a pickled dict: the hashable scalar types state dicts use.
enum PickleKey: Hashable {
  case string(String)
  case int(Int)
  case bool(Bool)
  case none

  /// The key as a path component (`model`, `0`, ...).
  var pathComponent: String {
    switch self {
    case .string(let s): return s
    case .int(let i): return String(i)
    case .bool(let b): return b ? "True" : "False"
    case .none: return "None"
    }
  }

  /// The key as a pickle value.
  var value: PickleValue {
    switch self {
    case .string(let s): return .string(s)
    case .int(let i): return .int(i)
    case .bool(let b): return .bool(b)
    case .none: return .none
    }
  }
}

/// Containers are classes: pickles mutate them after they were memoized
/// (`SETITEMS` on a dict fetched with `BINGET`), and may even make cycles.
/// The machine keeps every container in an arena and empties them all when it
/// is done, so deep or cyclic structures are released without recursion.
class PickleContainer {
  /// Drops the contents (called by the arena on teardown).
  func removeAll() {}
}

/// A pickled tuple.
final class PickleTuple: PickleContainer {
  private(set) var items: [PickleValue]
  init(_ items: [PickleValue]) { self.items = items }
  override func removeAll() { items = [] }
}

/// A pickled list.
final class PickleList: PickleContainer {
  var items: [PickleValue] = []
  override func removeAll() { items = [] }
}

/// A pickled `dict` or `collections.OrderedDict`: insertion-ordered, keys replaced in place.
final class PickleDict: PickleContainer {
  /// Whether this is an `OrderedDict` (built by the allow-listed global).
  let isOrdered: Bool
  private(set) var keys: [PickleKey] = []
  private var values: [PickleKey: PickleValue] = [:]
  /// Attributes set by `BUILD` (`_metadata` of a state dict); kept apart from the items.
  var attributes: [String: PickleValue] = [:]

  init(ordered: Bool) { self.isOrdered = ordered }

  /// The number of items.
  var count: Int { keys.count }

  /// The value for `key`.
  subscript(key: PickleKey) -> PickleValue? { values[key] }

  /// Sets `value` for `key`, keeping the position of an existing key (Python semantics).
  func set(_ value: PickleValue, for key: PickleKey) {
    if values.updateValue(value, forKey: key) == nil { keys.append(key) }
  }

  /// The items in insertion order.
  var items: [(key: PickleKey, value: PickleValue)] {
    keys.compactMap { key in values[key].map { (key, $0) } }
  }

  override func removeAll() {
    keys = []
    values = [:]
    attributes = [:]
  }
}
