extension Checkpoint {
  /// Groups of tensors that are one tensor under several names (tied weights, an alias): the
  /// same dtype and shape, loaded from the very same memory (a PyTorch file's shared storage,
  /// which its reader keeps shared), first name first. A format that stores each name's bytes
  /// apart writes such a group as copies, which is worth saying.
  ///
  /// Loads every tensor (from a mapped file this touches no data) and holds one of each
  /// candidate group at a time.
  public func sharedTensors() throws -> [[String]] {
    struct Key: Hashable {
      var address: UInt
      var dtype: DType
      var shape: [Int]
    }
    var groups: [Key: [String]] = [:]
    var order: [Key] = []
    var alive: [Key: TensorBytes] = [:]
    for tensor in tensors {
      let bytes = try tensor.load()
      guard bytes.count > 0,
        let address = bytes.withUnsafeBytes({ $0.baseAddress.map { UInt(bitPattern: $0) } })
      else { continue }
      let key = Key(address: address, dtype: tensor.dtype, shape: tensor.shape)
      if groups[key] == nil {
        order.append(key)
        alive[key] = bytes  // keeps the memory, so the address cannot be reused by another tensor
      }
      groups[key, default: []].append(tensor.name)
    }
    return order.compactMap { groups[$0] }.filter { $0.count > 1 }
  }
}
