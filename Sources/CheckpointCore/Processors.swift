#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How many processors this process may use, and the one thread count every parallel loop of
/// CheckpointKit runs with (the engine's products and recurrent schedules, the quantization
/// kernels, the `.ckz` writer's chunk window).
public enum Processors {
  /// The processors this process may run on, at least 1: on Linux the CPUs of its affinity
  /// mask (`sched_getaffinity`, as `taskset` or a container's cpuset sets it), capped by its
  /// cgroup v2 CPU quota (`cpu.max` of its cgroup and of the cgroups above it, quota / period
  /// rounded up); elsewhere the processors online.
  public static let available: Int = {
    let processors = affinityCount() ?? onlineCount()
    return max(1, min(processors, cgroupQuota() ?? processors))
  }()

  /// The thread count of every parallel loop: `OPENBLAS_NUM_THREADS`, else `OMP_NUM_THREADS`
  /// (a positive integer), else ``available``. See Docs/determinism.md.
  public static let threads: Int = threads(
    environment: environmentVariables.reduce(into: [:]) { values, key in
      if let value = getenv(key) { values[key] = String(cString: value) }
    },
    available: available)

  /// The variables that set ``threads``, in order of precedence.
  public static let environmentVariables = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"]

  /// The thread count `environment` asks for (the first of ``environmentVariables`` that holds
  /// a positive integer), else `available`.
  public static func threads(environment: [String: String], available: Int) -> Int {
    for key in environmentVariables {
      if let text = environment[key], let value = Int(text), value > 0 { return value }
    }
    return max(1, available)
  }

  /// The processors a cgroup v2 `cpu.max` text allows: `nil` for `max` (no quota) or text that
  /// is not `QUOTA PERIOD`; else `QUOTA / PERIOD` rounded up, at least 1 (`150000 100000` → 2).
  public static func quota(cpuMax text: String) -> Int? {
    let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
    guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0
    else { return nil }
    return max(1, quota / period + (quota % period == 0 ? 0 : 1))
  }

  /// The cgroup v2 path of the process in a `/proc/self/cgroup` text (its `0::PATH` line).
  public static func cgroupPath(procSelfCgroup text: String) -> String? {
    for line in text.split(separator: "\n") where line.hasPrefix("0::") {
      return String(line.dropFirst(3))
    }
    return nil
  }

  /// The smallest quota of the process's cgroup and its ancestors, up to `/sys/fs/cgroup`.
  private static func cgroupQuota() -> Int? {
    let root = "/sys/fs/cgroup"
    var folder = smallFileText("/proc/self/cgroup").flatMap { cgroupPath(procSelfCgroup: $0) } ?? "/"
    var smallest: Int?
    while true {
      if let text = smallFileText(root + (folder == "/" ? "" : folder) + "/cpu.max"),
        let quota = quota(cpuMax: text)
      {
        smallest = min(smallest ?? quota, quota)
      }
      guard folder != "/", let slash = folder.lastIndex(of: "/") else { return smallest }
      folder = slash == folder.startIndex ? "/" : String(folder[..<slash])
    }
  }

  /// The text of a small file of `/proc` or `/sys` (whose size `stat` does not tell), or `nil`.
  private static func smallFileText(_ path: String, limit: Int = 4096) -> String? {
    guard let descriptor = try? valueOrErrno("open", file: path, { open(path, O_RDONLY | O_CLOEXEC) }) else {
      return nil
    }
    defer { close(descriptor) }
    var bytes = [UInt8](repeating: 0, count: limit)
    var count = 0
    while count < limit {
      let done = bytes.withUnsafeMutableBytes { buffer in
        try? valueOrErrno("read", file: path) {
          systemRead(descriptor, buffer.baseAddress! + count, limit - count)
        }
      }
      guard let done else { return nil }
      if done == 0 { break }
      count += done
    }
    return String(decoding: bytes[..<count], as: UTF8.self)
  }

  private static func onlineCount() -> Int {
    Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
  }

  #if os(Linux)
    /// `sched_getaffinity`, looked up at run time: Glibc declares it only under `_GNU_SOURCE`.
    private typealias SchedGetaffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32

    /// The number of CPUs in the affinity mask (`CPU_COUNT`), or `nil` if it cannot be read.
    private static func affinityCount() -> Int? {
      guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "sched_getaffinity") else {
        return nil
      }
      let call = unsafeBitCast(symbol, to: SchedGetaffinity.self)
      var set = cpu_set_t()
      let result = withUnsafeMutableBytes(of: &set) { mask in
        try? valueOrErrno("sched_getaffinity", file: "") { call(0, mask.count, mask.baseAddress) }
      }
      guard result != nil else { return nil }
      let count = withUnsafeBytes(of: &set) { mask in mask.reduce(0) { $0 + $1.nonzeroBitCount } }
      return count > 0 ? count : nil
    }
  #else
    private static func affinityCount() -> Int? { nil }
  #endif
}

/// `read(2)` (a name that does not clash with the methods called `read`).
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
  read(descriptor, buffer, count)
}
