/// A float buffer (zeroed unless asked) shared by the threads of one forward pass, each
/// writing its own part; freed by its owner.
struct FloatBuffer: @unchecked Sendable {
  let count: Int
  let pointer: UnsafeMutablePointer<Float>

  init(_ count: Int, zeroed: Bool = true) {
    self.count = count
    pointer = .allocate(capacity: max(1, count))
    if zeroed { pointer.initialize(repeating: 0, count: max(1, count)) }
  }

  /// Fills the buffer from `values[offset...]`.
  func copy(from values: [Float], at offset: Int) {
    values.withUnsafeBufferPointer { source in
      guard let base = source.baseAddress, count > 0 else { return }
      pointer.update(from: base + offset, count: count)
    }
  }

  func array() -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

  func free() { pointer.deallocate() }
}
