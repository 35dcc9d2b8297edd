#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whole-file mappings that are alive in this process, by file identity.
///
/// When one part of a conversion reads a whole file (the SHA-256 of the source
/// that `.ckz` provenance records) while another reads its tensors (the source's
/// reader, verifying CRCs), both work through the same pages: with one mapping,
/// each page is faulted in once and unmapped once, not once per mapping, which
/// on a two-core machine is CPU time taken from the hashing thread.
///
/// A file is identified by device, inode, size and modification time, so a file
/// replaced or rewritten in between gets a mapping of its own.
enum SharedFileMappings {
  struct Identity: Hashable {
    var device: UInt64
    var inode: UInt64
    var size: Int
    var modifiedSeconds: Int
    var modifiedNanoseconds: Int

    init(_ info: stat) {
      device = UInt64(truncatingIfNeeded: info.st_dev)
      inode = UInt64(truncatingIfNeeded: info.st_ino)
      size = Int(info.st_size)
      #if canImport(Darwin)
        modifiedSeconds = Int(info.st_mtimespec.tv_sec)
        modifiedNanoseconds = Int(info.st_mtimespec.tv_nsec)
      #else
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
      #endif
    }
  }

  private struct Entry {
    weak var storage: TensorBytes.Storage?
  }

  private static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(mutex, nil)
    return mutex
  }()
  nonisolated(unsafe) private static var live: [Identity: Entry] = [:]

  /// The live whole-file mapping of the file with `identity`, if any.
  static func mapping(of identity: Identity) -> TensorBytes.Storage? {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    guard let storage = live[identity]?.storage else {
      live[identity] = nil
      return nil
    }
    return storage
  }

  /// Records `storage`, a mapping of a whole file, as the one to share for `identity`.
  static func register(_ storage: TensorBytes.Storage, for identity: Identity) {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    live = live.filter { $0.value.storage != nil }
    live[identity] = Entry(storage: storage)
  }
}
