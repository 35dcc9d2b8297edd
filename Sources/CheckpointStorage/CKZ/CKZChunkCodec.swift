import CheckpointCore
import Foundation

/// Encoding and decoding of one `zlib` chunk: byte grouping into planes,
/// then each plane raw DEFLATE or stored raw (see Docs/ckz-format.md).
enum CKZChunkCodec {
  /// The byte-group width CheckpointKit writes for `dtype`: the element size
  /// for 2-, 4- and 8-byte floating-point types, 1 for everything else.
  static func groupWidth(for dtype: DType) -> Int {
    switch dtype {
    case .f64: return 8
    case .f32: return 4
    case .f16, .bf16: return 2
    default: return 1
    }
  }

  /// How hard the encoder tries, from the zlib level and whether planes are byte-grouped.
  ///
  /// Byte planes of floating-point numbers have few long repeats: the
  /// sign/exponent plane is best served by Huffman coding alone (smaller and
  /// about ten times faster than an LZ77 search at level 6), and low mantissa
  /// planes shrink by a few percent at most. So for grouped planes:
  /// - levels 1–3: Huffman coding only; a plane stays raw unless the byte
  ///   entropy of its first 32 KiB promises a 5% saving (no trial compression);
  /// - levels 4–6: Huffman coding only; a plane stays raw unless a trial on
  ///   its first 64 KiB saves 1% (no trial when the entropy of its first
  ///   32 KiB bounds the saving below 0.5%);
  /// - at levels 1–6, a plane whose first 32 KiB has less than 1.5 bits of
  ///   entropy per byte (runs) uses run-length matches instead;
  /// - levels 7–9: run-length matches plus Huffman coding (`Z_RLE`), same trial.
  /// Ungrouped data (integers, quantized blocks) gets zlib's normal LZ77
  /// search at the given level (trial: 64 KiB, 1%).
  struct Effort {
    var strategy: Zlib.Strategy
    var minimumSaving: Double
    var probe: Int

    init(level: Int, grouped: Bool) {
      switch (grouped, level) {
      case (false, _): (strategy, minimumSaving, probe) = (.default, 0.01, 64 << 10)
      case (true, ...3): (strategy, minimumSaving, probe) = (.huffmanOnly, 0.05, 0)
      case (true, ...6): (strategy, minimumSaving, probe) = (.huffmanOnly, 0.01, 64 << 10)
      case (true, _): (strategy, minimumSaving, probe) = (.rle, 0.01, 64 << 10)
      }
    }

    /// The strategy for `plane`, or `nil` when it is not worth compressing.
    ///
    /// Huffman coding cannot beat the byte entropy nor go below one bit per
    /// byte, so the entropy of the first 32 KiB decides: below 1.5 bits per
    /// byte (long runs: zeros, pruned weights) run-length matches are used
    /// instead; at levels 1–3 the estimate (plus 1% for the code's own
    /// inefficiency) also replaces the trial compression.
    func strategy(for plane: UnsafeRawBufferPointer) -> Zlib.Strategy? {
      guard strategy == .huffmanOnly else { return strategy }
      let sample = UnsafeRawBufferPointer(rebasing: plane[0..<min(plane.count, 32 << 10)])
      let bitsPerByte = CKZChunkCodec.entropyBits(sample) / Double(max(sample.count, 1))
      if bitsPerByte < 1.5 { return .rle }
      if probe == 0 && bitsPerByte / 8 + 0.01 > 1 - minimumSaving { return nil }
      // Even with a trial to come: when the entropy bound promises less than half the
      // saving asked for, the trial would fail; skip its cost.
      if bitsPerByte / 8 > 1 - minimumSaving / 2 { return nil }
      return .huffmanOnly
    }
  }

  /// The order-0 entropy of `bytes` in bits: the size Huffman coding approaches.
  static func entropyBits(_ bytes: UnsafeRawBufferPointer) -> Double {
    guard bytes.count > 0 else { return 0 }
    var counts = [Int](repeating: 0, count: 1024)
    counts.withUnsafeMutableBufferPointer { table in
      let data = bytes.bindMemory(to: UInt8.self)
      var i = 0
      // Four tables in turn avoid stalls on repeated bytes.
      while i + 4 <= data.count {
        table[Int(data[i])] += 1
        table[256 + Int(data[i + 1])] += 1
        table[512 + Int(data[i + 2])] += 1
        table[768 + Int(data[i + 3])] += 1
        i += 4
      }
      while i < data.count {
        table[Int(data[i])] += 1
        i += 1
      }
    }
    let total = Double(bytes.count)
    var bits = 0.0
    for value in 0..<256 {
      let count = counts[value] + counts[256 + value] + counts[512 + value] + counts[768 + value]
      if count > 0 { bits -= Double(count) * log2(Double(count) / total) }
    }
    return bits
  }

  /// Encodes the raw bytes of one chunk (a multiple of `group` bytes, not empty).
  static func encode(_ raw: UnsafeRawBufferPointer, group: Int, level: Int) throws -> [UInt8] {
    let planeSize = raw.count / group
    let header = 4 * group
    let effort = Effort(level: level, grouped: group > 1)
    let scratch: UnsafeMutableRawBufferPointer? =
      group > 1 ? .allocate(byteCount: raw.count, alignment: 64) : nil
    defer { scratch?.deallocate() }
    let planes: UnsafeRawBufferPointer
    if let scratch {
      split(raw, into: scratch, group: group)
      planes = UnsafeRawBufferPointer(scratch)
    } else {
      planes = raw
    }
    return try [UInt8](unsafeUninitializedCapacity: header + raw.count) { buffer, initialized in
      let out = UnsafeMutableRawBufferPointer(buffer)
      var cursor = header
      for plane in 0..<group {
        let input = UnsafeRawBufferPointer(rebasing: planes[plane * planeSize..<(plane + 1) * planeSize])
        let room = UnsafeMutableRawBufferPointer(rebasing: out[cursor..<cursor + planeSize - 1])
        let size: Int
        if planeSize > 1, let strategy = effort.strategy(for: input),
          let compressed = try Zlib.compressIfSmaller(
            input, into: room, level: level, strategy: strategy, probe: effort.probe,
            minimumSaving: effort.minimumSaving)
        {
          size = compressed
        } else {
          UnsafeMutableRawBufferPointer(rebasing: out[cursor..<cursor + planeSize]).copyMemory(from: input)
          size = planeSize
        }
        out.storeBytes(of: UInt32(size).littleEndian, toByteOffset: 4 * plane, as: UInt32.self)
        cursor += size
      }
      initialized = cursor
    }
  }

  /// Decodes a chunk's stored bytes into `output` (its raw size, a multiple of `group`).
  ///
  /// - Throws: `.corrupt` when the plane table or a DEFLATE stream is invalid.
  static func decode(
    _ stored: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, group: Int
  ) throws {
    let planeSize = output.count / group
    let header = 4 * group
    guard stored.count >= header else {
      throw CheckpointError(.corrupt, "stored chunk of \(stored.count) bytes is shorter than its plane table")
    }
    var sizes: [Int] = []
    var total = header
    for plane in 0..<group {
      let size = Int(UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: 4 * plane, as: UInt32.self)))
      guard size <= planeSize else {
        throw CheckpointError(
          .corrupt, "plane \(plane) stores \(size) bytes, more than its \(planeSize) raw bytes")
      }
      sizes.append(size)
      total += size
    }
    guard total == stored.count else {
      throw CheckpointError(
        .corrupt, "plane table adds up to \(total) bytes, the chunk stores \(stored.count)")
    }
    if group == 1 {
      let plane = UnsafeRawBufferPointer(rebasing: stored[header...])
      if sizes[0] == planeSize {
        output.copyMemory(from: plane)
      } else {
        try decompressPlane(plane, into: output, plane: 0)
      }
      return
    }
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: output.count, alignment: 64)
    defer { scratch.deallocate() }
    var sources: [UnsafeRawPointer] = []
    var cursor = header
    for plane in 0..<group {
      let input = UnsafeRawBufferPointer(rebasing: stored[cursor..<cursor + sizes[plane]])
      if sizes[plane] == planeSize {
        sources.append(input.baseAddress!)
      } else {
        let room = UnsafeMutableRawBufferPointer(
          rebasing: scratch[plane * planeSize..<(plane + 1) * planeSize])
        try decompressPlane(input, into: room, plane: plane)
        sources.append(UnsafeRawPointer(room.baseAddress!))
      }
      cursor += sizes[plane]
    }
    merge(sources, count: planeSize, into: output)
  }

  private static func decompressPlane(
    _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, plane: Int
  ) throws {
    do {
      try Zlib.decompress(input, into: output, framing: .raw)
    } catch let error as CheckpointError {
      throw CheckpointError(error.kind, "plane \(plane): \(error.message)")
    }
  }

  /// Splits `raw` into `group` planes: plane k holds byte k of every element.
  static func split(_ raw: UnsafeRawBufferPointer, into planes: UnsafeMutableRawBufferPointer, group: Int) {
    let count = raw.count / group
    guard count > 0, let src = raw.baseAddress, let dst = planes.baseAddress else { return }
    let out = dst.assumingMemoryBound(to: UInt8.self)
    switch group {
    case 2:
      for i in 0..<count {
        let value = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        out[i] = UInt8(truncatingIfNeeded: value)
        out[count + i] = UInt8(truncatingIfNeeded: value >> 8)
      }
    case 4:
      for i in 0..<count {
        let value = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
        out[i] = UInt8(truncatingIfNeeded: value)
        out[count + i] = UInt8(truncatingIfNeeded: value >> 8)
        out[2 * count + i] = UInt8(truncatingIfNeeded: value >> 16)
        out[3 * count + i] = UInt8(truncatingIfNeeded: value >> 24)
      }
    default:
      splitBytewise(raw, into: planes, group: group)
    }
  }

  /// ``split(_:into:group:)`` byte by byte, for any width: what the 2- and 4-byte paths must equal.
  static func splitBytewise(
    _ raw: UnsafeRawBufferPointer, into planes: UnsafeMutableRawBufferPointer, group: Int
  ) {
    let count = raw.count / group
    guard count > 0, let src = raw.baseAddress, let dst = planes.baseAddress else { return }
    let out = dst.assumingMemoryBound(to: UInt8.self)
    let bytes = src.assumingMemoryBound(to: UInt8.self)
    for i in 0..<count {
      for k in 0..<group { out[k * count + i] = bytes[i * group + k] }
    }
  }

  /// Interleaves `group` planes of `count` bytes back into elements.
  static func merge(_ planes: [UnsafeRawPointer], count: Int, into output: UnsafeMutableRawBufferPointer) {
    guard count > 0, let dst = output.baseAddress else { return }
    let p = planes.map { $0.assumingMemoryBound(to: UInt8.self) }
    switch planes.count {
    case 2:
      let (p0, p1) = (p[0], p[1])
      for i in 0..<count {
        let value = UInt16(p0[i]) | UInt16(p1[i]) << 8
        dst.storeBytes(of: value.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
      }
    case 4:
      let (p0, p1, p2, p3) = (p[0], p[1], p[2], p[3])
      for i in 0..<count {
        let value = UInt32(p0[i]) | UInt32(p1[i]) << 8 | UInt32(p2[i]) << 16 | UInt32(p3[i]) << 24
        dst.storeBytes(of: value.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
      }
    default:
      mergeBytewise(planes, count: count, into: output)
    }
  }

  /// ``merge(_:count:into:)`` byte by byte, for any width: what the 2- and 4-byte paths must equal.
  static func mergeBytewise(
    _ planes: [UnsafeRawPointer], count: Int, into output: UnsafeMutableRawBufferPointer
  ) {
    guard count > 0, let dst = output.baseAddress else { return }
    let p = planes.map { $0.assumingMemoryBound(to: UInt8.self) }
    let out = dst.assumingMemoryBound(to: UInt8.self)
    let group = planes.count
    for i in 0..<count {
      for k in 0..<group { out[i * group + k] = p[k][i] }
    }
  }
}
