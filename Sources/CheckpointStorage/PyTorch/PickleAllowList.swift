import CheckpointCore

/// A global (`module.name`) that a pickle may reference: the only names the
/// ``PickleMachine`` resolves. Nothing here is ever executed; calling one of
/// the callables builds a ``PickleValue`` in Swift.
enum PickleGlobal: Equatable {
  /// `collections.OrderedDict`: callable with no arguments.
  case orderedDict
  /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
  case rebuildTensorV2
  /// `torch._utils._rebuild_parameter(data, requires_grad, hooks)`.
  case rebuildParameter
  /// `torch._utils._rebuild_parameter_with_state(data, requires_grad, hooks, state)`.
  case rebuildParameterWithState
  /// `torch.Size(tuple)`.
  case torchSize
  /// `torch.FloatStorage` and friends: only valid inside a storage persistent id.
  case storageType(name: String, dtype: DType)
  /// `torch.float32` and friends: a value (kept as metadata text).
  case dtype(name: String)

  /// `module.name` as written in the pickle.
  var qualifiedName: String {
    switch self {
    case .orderedDict: return "collections.OrderedDict"
    case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
    case .rebuildParameter: return "torch._utils._rebuild_parameter"
    case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
    case .torchSize: return "torch.Size"
    case .storageType(let name, _): return "torch." + name
    case .dtype(let name): return "torch." + name
    }
  }
}

/// The allow-list: which globals resolve, what calling them builds, and how a
/// storage persistent id is read. Everything else is refused by name.
enum PickleAllowList {
  /// The storage classes `torch.save` writes, with their element types.
  static let storageTypes: [String: DType] = [
    "FloatStorage": .f32, "DoubleStorage": .f64, "HalfStorage": .f16, "BFloat16Storage": .bf16,
    "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
    "ByteStorage": .u8, "BoolStorage": .bool,
  ]

  /// The storage class name for a dtype (the inverse of ``storageTypes``).
  static func storageTypeName(for dtype: DType) -> String? {
    storageTypes.first { $0.value == dtype }?.key
  }

  /// `torch.<dtype>` names accepted as values.
  static let dtypeNames: Set<String> = [
    "float32", "float", "float16", "half", "bfloat16", "float64", "double", "int64", "long",
    "int32", "int", "int16", "short", "int8", "uint8", "bool",
  ]

  /// Resolves `module.name`, or refuses it.
  ///
  /// - Throws: `.unsupported` `refused global <module>.<name>` for anything not allow-listed.
  static func resolve(module: String, name: String) throws -> PickleGlobal {
    switch (module, name) {
    case ("collections", "OrderedDict"): return .orderedDict
    case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
    case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
    case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
    case ("torch", "Size"): return .torchSize
    case ("torch", _):
      if let dtype = storageTypes[name] { return .storageType(name: name, dtype: dtype) }
      if dtypeNames.contains(name) { return .dtype(name: name) }
    default: break
    }
    throw CheckpointError(
      .unsupported,
      "refused global \(module).\(name): not on the allow-list of state-dict types (nothing was executed)")
  }

  /// Builds the result of calling `global` with `arguments` (a `REDUCE`).
  ///
  /// - Throws: `.unsupported` when `global` is not callable, `.corrupt` when
  ///   the arguments do not have the types the real function expects.
  static func call(_ global: PickleGlobal, arguments: [PickleValue], arena: PickleArena) throws
    -> PickleValue
  {
    let name = global.qualifiedName
    switch global {
    case .orderedDict:
      guard arguments.isEmpty else {
        throw CheckpointError(.corrupt, "\(name) called with \(arguments.count) arguments, expected none")
      }
      return .dict(arena.track(PickleDict(ordered: true)))
    case .torchSize:
      guard arguments.count == 1, let items = arguments[0].sequenceItems else {
        throw CheckpointError(.corrupt, "\(name) expects one tuple of ints")
      }
      _ = try integers(items, what: "torch.Size")
      return .tuple(arena.track(PickleTuple(items)))
    case .rebuildTensorV2:
      guard arguments.count == 6 || arguments.count == 7 else {
        throw CheckpointError(.corrupt, "\(name) called with \(arguments.count) arguments, expected 6 or 7")
      }
      guard case .storage(let storage) = arguments[0] else {
        throw CheckpointError(
          .corrupt, "\(name): argument 1 is a \(arguments[0].typeName), expected a storage")
      }
      guard let offset = arguments[1].intValue else {
        throw CheckpointError(.corrupt, "\(name): storage offset is a \(arguments[1].typeName), expected int")
      }
      guard let sizeItems = arguments[2].sequenceItems, let strideItems = arguments[3].sequenceItems else {
        throw CheckpointError(.corrupt, "\(name): size and stride must be tuples")
      }
      guard case .bool(let requiresGrad) = arguments[4] else {
        throw CheckpointError(.corrupt, "\(name): requires_grad is a \(arguments[4].typeName), expected bool")
      }
      guard case .dict = arguments[5] else {
        throw CheckpointError(
          .corrupt, "\(name): backward hooks are a \(arguments[5].typeName), expected a dict")
      }
      if arguments.count == 7 {
        switch arguments[6] {
        case .none, .dict: break
        default:
          throw CheckpointError(.corrupt, "\(name): metadata is a \(arguments[6].typeName), expected a dict")
        }
      }
      let tensor = try TorchTensorReference(
        storage: storage, offset: offset, shape: integers(sizeItems, what: "size"),
        strides: integers(strideItems, what: "stride"), requiresGrad: requiresGrad)
      return .tensor(tensor)
    case .rebuildParameter, .rebuildParameterWithState:
      let expected = global == .rebuildParameter ? 3 : 4
      guard arguments.count == expected else {
        throw CheckpointError(
          .corrupt, "\(name) called with \(arguments.count) arguments, expected \(expected)")
      }
      guard case .tensor(var tensor) = arguments[0] else {
        throw CheckpointError(.corrupt, "\(name): data is a \(arguments[0].typeName), expected a tensor")
      }
      guard case .bool(let requiresGrad) = arguments[1] else {
        throw CheckpointError(.corrupt, "\(name): requires_grad is a \(arguments[1].typeName), expected bool")
      }
      tensor.requiresGrad = requiresGrad
      return .tensor(tensor)
    case .storageType, .dtype:
      throw CheckpointError(
        .unsupported,
        "refused call of \(name): it is allow-listed as a value, not as a callable (nothing was executed)")
    }
  }

  /// Reads a storage persistent id: `('storage', StorageClass, key, location, numel)`.
  static func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
    guard case .tuple(let tuple) = pid, tuple.items.count == 5 else {
      throw CheckpointError(
        .corrupt, "persistent id is a \(pid.typeName), expected a 5-tuple ('storage', ...)")
    }
    let items = tuple.items
    guard case .string("storage") = items[0] else {
      throw CheckpointError(.unsupported, "persistent id of kind \(items[0].typeName) is not a storage")
    }
    guard case .global(.storageType(let typeName, let dtype)) = items[1] else {
      throw CheckpointError(
        .corrupt, "persistent id names \(items[1].typeName) where a storage class was expected")
    }
    guard case .string(let key) = items[2], case .string(let location) = items[3] else {
      throw CheckpointError(.corrupt, "storage key and location must be strings")
    }
    guard let count = items[4].intValue, count >= 0 else {
      throw CheckpointError(
        .corrupt, "storage '\(key)' has a size of \(items[4].typeName), expected a count ≥ 0")
    }
    guard !key.isEmpty, !key.contains("/"), !key.hasPrefix(".") else {
      throw CheckpointError(.corrupt, "storage key '\(key)' is not a record name")
    }
    _ = typeName
    return .storage(TorchStorageReference(key: key, dtype: dtype, count: count, location: location))
  }

  private static func integers(_ items: [PickleValue], what: String) throws -> [Int] {
    try items.map { item in
      guard let value = item.intValue else {
        throw CheckpointError(.corrupt, "\(what) holds a \(item.typeName), expected int")
      }
      return value
    }
  }
}

/// Owns every container a ``PickleMachine`` creates and empties them all at
/// the end, so that deep or cyclic pickles are released without recursion.
final class PickleArena {
  private var containers: [PickleContainer] = []

  /// Registers `container` and returns it.
  func track<C: PickleContainer>(_ container: C) -> C {
    containers.append(container)
    return container
  }

  /// The number of containers created.
  var count: Int { containers.count }

  deinit {
    for container in containers { container.removeAll() }
  }
}
