import CheckpointStorage

/// A plain stored (uncompressed) zip archive with correct CRCs, built in memory
/// so that damaged records reach the reader behind valid zip framing without
/// the cost of an atomic, synced write per case (the corruption tests, and the
/// `fuzz-pickle` target, whose names may be any bytes).
public enum StoredZip {
  /// The archive of `records` (UTF-8 names), in order.
  public static func archive(_ records: [(name: String, data: [UInt8])]) -> [UInt8] {
    archive(records.map { (Array($0.name.utf8), $0.data) })
  }

  /// The archive of `records`, whose names are taken byte for byte, in order.
  public static func archive(_ records: [(name: [UInt8], data: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    func u16(_ value: Int, _ buffer: inout [UInt8]) {
      buffer += [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)]
    }
    func u32(_ value: Int, _ buffer: inout [UInt8]) {
      for index in 0..<4 { buffer.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
    for record in records {
      let name = record.name
      let crc = Int(Zlib.crc32(record.data))
      let offset = out.count
      for (value, width) in [
        (0x0403_4b50, 4), (20, 2), (0, 2), (0, 2), (0, 4), (crc, 4), (record.data.count, 4),
        (record.data.count, 4),
        (name.count, 2), (0, 2),
      ] {
        width == 2 ? u16(value, &out) : u32(value, &out)
      }
      out += name + record.data
      for (value, width) in [
        (0x0201_4b50, 4), (20, 2), (20, 2), (0, 2), (0, 2), (0, 4), (crc, 4), (record.data.count, 4),
        (record.data.count, 4), (name.count, 2), (0, 2), (0, 2), (0, 2), (0, 2), (0, 4), (offset, 4),
      ] {
        width == 2 ? u16(value, &central) : u32(value, &central)
      }
      central += name
    }
    let centralOffset = out.count
    out += central
    for (value, width) in [
      (0x0605_4b50, 4), (0, 2), (0, 2), (records.count, 2), (records.count, 2), (central.count, 4),
      (centralOffset, 4), (0, 2),
    ] {
      width == 2 ? u16(value, &out) : u32(value, &out)
    }
    return out
  }
}
