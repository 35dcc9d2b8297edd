import CheckpointCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Keeps the storage records that several tensors view (a tensor and its
/// slices, two names for one tensor, tied weights), read once, for as long as
/// the checkpoint's tensors live.
///
/// Loads of tensors on such a storage then return views of the same memory,
/// which is how ``TorchWriter`` recognises shared storage and writes it once.
/// Records viewed by a single tensor are not kept: they are read on each load
/// and released with the tensor's bytes.
final class TorchRecordCache: @unchecked Sendable {
  private var records: [String: TensorBytes] = [:]
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>

  init() {
    mutex = .allocate(capacity: 1)
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  /// The bytes of record `key`: the kept copy if there is one, else what `read` returns (then kept).
  func record(_ key: String, read: () throws -> TensorBytes) throws -> TensorBytes {
    if let bytes = locked({ records[key] }) { return bytes }
    let bytes = try read()
    return locked {
      if let existing = records[key] { return existing }  // another thread was faster
      records[key] = bytes
      return bytes
    }
  }

  private func locked<R>(_ body: () -> R) -> R {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return body()
  }
}
